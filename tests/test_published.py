"""Published numbers travel as package data, with a source on every row."""

from __future__ import annotations

from sampleaudio.reporting import published_results


def test_published_results_are_package_data_with_sources():
    table = published_results()
    assert len(table) > 10 and {"source"} <= set(table.columns)
    assert table["source"].notna().all() and (table["source"].str.len() > 0).all()


def test_musicnn_rows_say_what_their_files_say():
    """Only ``MTT_musicnn/experiment.result`` names its split ("Results on the MagnaTagATune test set": ROC-AUC
    0.9067, PR-AUC 0.3831); ``MTT_vgg`` and ``MSD_musicnn`` read ``Experiment / AUC / AUC``: no split."""
    table = published_results()
    musicnn = table[table.paper == "musicnn"]
    assert not musicnn.source.str.contains("validation").any()
    mtt = musicnn[musicnn.model == "musicnn (MTT_musicnn)"].set_index("metric")
    assert mtt.loc["PR-AUC", "value"] == 0.3831 and mtt.loc["ROC-AUC", "value"] == 0.9067
    assert mtt.source.str.contains("test set").all()
    others = musicnn[musicnn.model != "musicnn (MTT_musicnn)"]
    assert len(others) == 3 and others.source.str.contains("split not stated").all()


def test_the_harmoniccnn_number_carries_its_weak_provenance():
    """0.9126 is a user's quote in an issue thread (minzwon/sota-music-tagging-models #5), not the paper's text or a
    maintainer's word: its row says so, and so does any table that prints it."""
    row = published_results().query("model == 'HarmonicCNN'")
    assert len(row) == 1 and row.source.iloc[0].startswith("WEAK PROVENANCE") and "user" in row.source.iloc[0]
