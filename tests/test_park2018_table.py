"""reproductions/park2018_table.py, smoke profile end to end (small mini-artists proxies, two SGD steps)."""

import os
import sys

import pandas as pd
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "reproductions"))

pytest.importorskip("music21", reason="needs the `synth` extra")

import park2018_table  # noqa: E402


@pytest.mark.slow  # generating the small proxies (120 songs), six short trainings (two seeds): minutes on 2 cores
def test_park2018_table_smoke_and_resume(tmp_path, capsys):
    args = ["--profile", "smoke", "--data-root", str(tmp_path / "proxies"), "--out", str(tmp_path)]
    assert park2018_table.main(args) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "NOT comparable" in out
    table = pd.read_csv(tmp_path / "park2018_table" / "smoke" / "park2018_table.csv")
    assert not any("published" in c for c in table.columns)  # never beside synthetic numbers
    assert {"artist basic", "artist siamese", "tag model", "random-weights encoder (reference)"} <= set(table.model)
    trained = table.model.isin(["artist siamese", "tag model"])
    assert table.loc[trained, ["MAP", "kNN accuracy", "linear softmax accuracy"]].notna().all().all()
    assert "tag model: roc_auc" in out  # trained on mini-artists-tags, scored on its own source test split
    runs = pd.read_csv(tmp_path / "park2018_table" / "smoke" / "park2018_table_runs.csv")
    tag_run = runs.loc[runs.model == "tag", "run_dir"].iloc[0]
    assert "mini-artists-tags" in open(os.path.join(tag_run, "config.json")).read()
    assert park2018_table.main(args) == 0
    assert capsys.readouterr().out.count("reused") == 3
    # a second seed: seed 0's runs are reused, seed 1's trained; trained rows become mean ± std
    assert park2018_table.main([*args, "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("reused") == 3 and "Ranking stability" in out
    table = pd.read_csv(tmp_path / "park2018_table" / "smoke" / "park2018_table.csv")
    assert table.loc[table.model == "tag model", "MAP"].str.contains("±").all()
    per_seed = pd.read_csv(tmp_path / "park2018_table" / "smoke" / "park2018_table_per_seed.csv")
    assert set(per_seed.loc[per_seed.model == "artist siamese", "seed"]) == {0, 1}


def test_profiles_describe_themselves():
    assert "SYNTHETIC" in park2018_table.describe("demo") and "NOT comparable" in park2018_table.describe("smoke")
    assert "SYNTHETIC" not in park2018_table.describe("paper")


def test_the_paper_profile_puts_the_published_numbers_beside_ours_for_every_model():
    table = pd.DataFrame({"target": ["gtzan", "fma-small", "gtzan", "gtzan"],
                          "model": ["tag model", "artist siamese", "artist basic", "MFCC statistics (reference)"],
                          "MAP": [0.1] * 4, "kNN accuracy": [0.2] * 4, "linear softmax accuracy": [0.3] * 4})
    out, sources = park2018_table.with_published(table)
    assert sources == ["Park et al. ISMIR 2018 Table 1", "Park et al. ISMIR 2018 Table 2",
                       "Park et al. ISMIR 2018 Table 3"]
    # GTZAN tag model: Tables 1-3; FMA small Siamese MAP; GTZAN basic kNN; no published row for the references
    assert list(out.loc[0, ["MAP (published)", "kNN accuracy (published)", "linear softmax accuracy (published)"]]
                ) == [0.5508, 0.6759, 0.7072]
    assert out.loc[1, "MAP (published)"] == 0.3203 and out.loc[2, "kNN accuracy (published)"] == 0.6655
    assert out.iloc[3].filter(like="published").isna().all() and list(out.MAP) == [0.1] * 4
