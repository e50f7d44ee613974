"""The Oramas 2018 reproduction script's smoke profile end to end (the small mini-albums proxy, a few steps)."""

from __future__ import annotations

import os
import sys

import pandas as pd
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "reproductions"))

import oramas2018_table  # noqa: E402

from sampleaudio.experiments.oramas2018 import FEATURE_SETS  # noqa: E402


@pytest.mark.slow
def test_the_table_script_smoke(tmp_path, capsys):
    pytest.importorskip("music21")
    args = ["--profile", "smoke", "--data-root", str(tmp_path / "proxies"), "--out", str(tmp_path)]
    assert oramas2018_table.main(args) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "Halfway rule" in out and "Cross-modal retrieval" in out
    table = pd.read_csv(tmp_path / "oramas2018_table" / "smoke" / "oramas2018_table.csv")
    assert list(table.features[:8]) == list(FEATURE_SETS)
    assert table.features.str.contains("chance").any() and table.features.str.contains("MFCC").any()
    assert not any("published" in c for c in table.columns)  # never beside synthetic numbers
    assert table[["ROC-AUC", "PR-AUC", "MAP"]].notna().all().all()
    retrieval = pd.read_csv(tmp_path / "oramas2018_table" / "smoke" / "oramas2018_retrieval.csv")
    assert list(retrieval.scores) == ["co-embedding (test albums)", "random (chance)"]


def test_the_paper_profile_needs_its_store():
    with pytest.raises(SystemExit, match="--data-root"):
        oramas2018_table.main(["--profile", "paper"])
