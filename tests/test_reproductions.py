"""The reproduction scripts' smoke profile, end to end (synthetic small sets, a few steps)."""

import json
import os
import sys

import pandas as pd
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "reproductions"))

import choi2017_transfer  # noqa: E402
import choi2019_zeroshot  # noqa: E402
import kim2019_fig4  # noqa: E402
import kim2019_table  # noqa: E402
import lee2017_table  # noqa: E402
import won2020_table  # noqa: E402


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("proxies"))


def test_kim2019_table_smoke_and_resume(cache, tmp_path, capsys):
    args = ["--profile", "smoke", "--blocks", "rese2", "--multi", "yes", "--data-root", cache, "--out",
            str(tmp_path)]
    assert kim2019_table.main(args) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "NOT comparable" in out
    table = pd.read_csv(tmp_path / "kim2019_table" / "smoke" / "kim2019_table.csv")
    assert not any("published" in c for c in table.columns)  # never beside synthetic numbers
    assert list(table.block[:1]) == ["rese2"]
    assert {"MTAT ROC-AUC", "SCD accuracy", "DCASE F-score"} <= set(table.columns)
    assert table[["MTAT ROC-AUC", "SCD accuracy", "DCASE F-score"]].notna().all().all()
    # reference rows: chance and the MFCC baseline, on the same test splits
    assert list(table.block[1:]) == ["chance (best constant)", "MFCC + logistic regression"]
    chance = table.set_index("block").loc["chance (best constant)"]
    assert chance["MTAT ROC-AUC"] == 0.5 and 0 < chance["SCD accuracy"] < 0.2
    runs = pd.read_csv(tmp_path / "kim2019_table" / "smoke" / "kim2019_table_runs.csv")
    assert len(runs) == 3
    # a second invocation reuses every finished run
    assert kim2019_table.main(args) == 0
    assert capsys.readouterr().out.count("reused") == 3


def test_kim2019_table_several_seeds(cache, tmp_path, capsys):
    args = ["--profile", "smoke", "--tasks", "speech-commands", "--blocks", "basic", "--multi", "no",
            "--seeds", "2", "--no-reference-rows", "--data-root", cache, "--out", str(tmp_path)]
    assert kim2019_table.main(args) == 0
    out = capsys.readouterr().out
    assert "2 runs per cell (seeds 0-1)" in out and "Ranking stability: 0 of 0" in out
    table = pd.read_csv(tmp_path / "kim2019_table" / "smoke" / "kim2019_table.csv")
    assert list(table.block) == ["basic"] and " ± " in table["SCD accuracy"][0]
    runs = pd.read_csv(tmp_path / "kim2019_table" / "smoke" / "kim2019_table_runs.csv")
    assert sorted(runs.seed) == [0, 1] and runs.run_dir.nunique() == 2


def test_sign_agreement_and_mean_std():
    from sampleaudio.reporting import mean_std, sign_agreement

    runs = pd.DataFrame({"multi": [False] * 6, "seed": [0, 0, 0, 1, 1, 1], "block": ["a", "b", "c"] * 2,
                         "m": [0.5, 0.6, 0.7, 0.55, 0.65, 0.6]})
    # a<b kept, a<c kept, b<c flips (0.6 < 0.7 but 0.65 > 0.6)
    assert sign_agreement(runs, "m", ["multi"], "block", (0, 1)) == (2, 3)
    assert mean_std([0.5]) == 0.5
    assert mean_std([0.5, 0.7]) == "0.6000 ± 0.1414"


def test_lee2017_and_fig4_smoke(cache, tmp_path):
    assert lee2017_table.main(["--profile", "smoke", "--data-root", cache, "--out", str(tmp_path)]) == 0
    assert (tmp_path / "lee2017_table" / "smoke" / "lee2017_table.md").exists()
    run = tmp_path / "lee2017_table" / "smoke" / "runs" / "mtat-lee2017-smoke"  # SMC 2017: raw waveform input
    assert json.loads((run / "config.json").read_text())["data"]["standardize"] == "none"
    card = json.loads((run / "model_card.json").read_text())
    assert (card["mean"], card["std"]) == (0.0, 1.0)
    assert kim2019_fig4.main(["--profile", "smoke", "--data-root", cache, "--out", str(tmp_path)]) == 0
    fig = tmp_path / "kim2019_fig4" / "smoke"
    table = pd.read_csv(fig / "kim2019_fig4.csv")
    assert set(table["front end"]) == {"mel-spectrogram", "raw waveform (strided conv)"}
    assert (fig / "kim2019_fig4.png").stat().st_size > 1000


def test_paper_profile_needs_real_data():
    with pytest.raises(ValueError, match="data-root"):
        kim2019_table.main(["--profile", "paper", "--tasks", "mtat"])


@pytest.mark.slow
def test_kim2019_table_baseline_rows_and_icassp_setup(cache, tmp_path, capsys):
    args = ["--profile", "smoke", "--tasks", "mtat", "--blocks", "se", "--multi", "no", "--baselines", "rnn",
            "frame", "mel", "--protocol", "icassp2018", "--data-root", cache, "--out", str(tmp_path)]
    assert kim2019_table.main(args) == 0
    out = capsys.readouterr().out
    assert "ICASSP 2018 code" in out and "SE amplifying ratio 16" in out and "he_uniform" in out
    assert "training examples: one RANDOM CROP" in out  # the header states the smoke profile's training examples
    table = pd.read_csv(tmp_path / "kim2019_table" / "smoke-icassp2018" / "kim2019_table.csv")
    reference = table["model"].str.startswith(("chance", "MFCC"))  # the reference rows every table carries
    assert (~reference).sum() == 4 and reference.sum() == 2 and table["MTAT ROC-AUC"].notna().all()
    assert any("RNN" in m for m in table.model) and any("mel" in m for m in table.model)
    runs = pd.read_csv(tmp_path / "kim2019_table" / "smoke-icassp2018" / "kim2019_table_runs.csv")
    assert {os.path.basename(d) for d in runs.run_dir} == {
        "mtat-se-icassp2018-smoke", "mtat-rnn_basic-icassp2018-smoke", "mtat-frame_w243-icassp2018-smoke",
        "mtat-mel_w729_h243_basic-icassp2018-smoke"}


def test_kim2019_table_paper_profile_rows_and_header(tmp_path, monkeypatch, capsys):
    """Without training: the paper profile's rows, run names and header (runs replaced by a stub)."""
    seen = []

    def fake_runs(configs, root, workers=None):
        seen.extend(cfg for _, cfg in configs)
        return pd.DataFrame([{**keys, "roc_auc": 0.5, "run_dir": os.path.join(root, cfg.name)}
                             for keys, cfg in configs])

    monkeypatch.setattr(kim2019_table, "run_experiments", fake_runs)
    assert kim2019_table.main(["--profile", "paper", "--tasks", "mtat", "--data-root", str(tmp_path),
                               "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "JSTSP 2019 code" in out and "this table does NOT run that setup" in out
    assert "clipped to [1e-7, 1-1e-7]" in out and "segments / batch" in out
    table = pd.read_csv(tmp_path / "kim2019_table" / "paper" / "kim2019_table.csv")
    assert len(table) == 12 + 3  # six blocks x multi-level, then the RNN, frame-level and mel rows
    published = table["MTAT ROC-AUC (published)"]
    assert published[:12].notna().all() and published[12:].isna().all()
    assert all(c.data.train_examples == "fixed" and c.train.loss == "clipped" for c in seen)
    assert len({c.name for c in seen}) == len(seen)


def test_choi2019_zeroshot_smoke(cache, tmp_path, capsys):
    """Zero-shot co-embedding (Choi 2019), smoke profile, with a tiny GloVe-format file covering the proxy's tag
    words (so CI needs no 76 MB wheel): two runs (word vectors, random control), three settings, chance rows."""
    import numpy as np

    from sampleaudio.data_prep.synthetic import ensure
    from sampleaudio.stores import read_manifest
    from sampleaudio.wordvectors import tag_words

    data = ensure("mini-mtat", size="small", root=cache)
    words = sorted({w for t in read_manifest(data).labels for w in tag_words(t)} | {"music"})
    rng = np.random.default_rng(0)
    glove = tmp_path / "glove.proxy.8d.txt"
    glove.write_text("".join(f"{w} " + " ".join(f"{v:.4f}" for v in rng.normal(size=8)) + "\n" for w in words))
    args = ["--profile", "smoke", "--data-root", cache, "--out", str(tmp_path), "--word-vectors", str(glove)]
    assert choi2019_zeroshot.main(args) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "NOT comparable" in out and "random:8" in out
    table = pd.read_csv(tmp_path / "choi2019_zeroshot" / "smoke" / "choi2019_zeroshot.csv")
    assert len(table) == 9 and table["setting"].nunique() == 3
    assert table["retrieval ROC-AUC"].between(0, 1).all() and table["annotation MAP"].between(0, 1).all()
    runs = pd.read_csv(tmp_path / "choi2019_zeroshot" / "smoke" / "choi2019_zeroshot_runs.csv")
    assert len(runs) == 2 and set(runs.source) == {str(glove), "random:8"}
    assert (runs.unseen_tags > 0).all() and (runs.epochs == 1).all()
    assert choi2019_zeroshot.main(args) == 0
    assert capsys.readouterr().out.count("reused") == 2


def test_choi2019_paper_profile_needs_its_inputs(tmp_path):
    with pytest.raises(SystemExit, match="word-vectors"):
        choi2019_zeroshot.main(["--profile", "paper", "--out", str(tmp_path)])
    with pytest.raises(SystemExit, match="data-root"):
        choi2019_zeroshot.main(["--profile", "paper", "--word-vectors", "random:4", "--out", str(tmp_path)])


@pytest.mark.slow  # two models, a 16 kHz copy of the small proxy made first: ~2 min
def test_won2020_table_smoke_runs_at_16khz_with_the_switch(cache, tmp_path, capsys):
    args = ["--profile", "smoke", "--data-root", cache, "--out", str(tmp_path), "--models", "Short-chunk CNN",
            "HarmonicCNN"]
    assert won2020_table.main(args) == 0
    out = capsys.readouterr().out
    assert "16000 Hz as the paper" in out and "ADAM lr" in out and "SGD lr" in out and "SYNTHETIC" in out
    runs = pd.read_csv(tmp_path / "won2020_table" / "smoke" / "won2020_table_runs.csv")
    assert (runs.epochs == 4).all()  # Adam, then SGD three times: one epoch each
    for run_dir in runs.run_dir:
        history = pd.read_csv(os.path.join(run_dir, "history.csv"))
        assert list(history.stage) == [0, 1, 2, 3]
        assert json.loads(open(os.path.join(run_dir, "model_card.json")).read())["sample_rate"] == 16000


@pytest.mark.slow  # the convnet trained two steps, features of two small targets, the SVM grids: ~3-4 min
def test_choi2017_transfer_smoke(cache, tmp_path, capsys):
    args = ["--profile", "smoke", "--data-root", cache, "--out", str(tmp_path), "--sources", "choi2017"]
    assert choi2017_transfer.main(args) == 0
    table = pd.read_csv(tmp_path / "choi2017_transfer" / "smoke" / "choi2017_transfer.csv")
    single = table[table.target == "mini-speech-commands"]
    assert set(single.feature) >= {"MFCC, Choi 2017's (12 kHz, first differences; 120-d)", "all layers (160-d)",
                                   "layer block1_pool (32-d)"}
    assert single["CV"].between(0, 1).all() and single["test"].between(0, 1).all()
    assert table[table.target == "mini-dcase"]["CV"].isna().all()  # the CV protocol is single-label
    with pytest.raises(SystemExit, match="source-data"):
        choi2017_transfer.main(["--profile", "paper", "--data-root", str(tmp_path), "--out", str(tmp_path)])
