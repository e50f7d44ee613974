"""The co-embedding objective (Choi et al., ISMIR 2019) in the trainer, its sampler, and the zero-shot CLI
(`search`, `tag --vocab`, `neighbours`) on a tiny tagged store with a tiny GloVe file."""

import json
import os

import keras
import numpy as np
import pytest

from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig, model_params, objective_params
from sampleaudio.layers.filterbanks import crop_samples

TAGS = ["piano", "violin", "fast", "slow", "female vocal", "drums", "cello", "organ"]
GLOVE = "\n".join(f"{w} " + " ".join(f"{v:.3f}" for v in np.random.default_rng(i).normal(size=6))
                  for i, w in enumerate(["piano", "violin", "fast", "slow", "female", "vocal", "drums", "cello",
                                         "organ", "calm", "loud", "the"])) + "\n"
SEGMENT = crop_samples(128)


class TaggedTones:
    """A clip whose tag set (source 'i:tag,tag') decides its partials, so audio and tags relate."""

    def __call__(self, clip):
        i, tags = clip.source.split(":")
        rng = np.random.default_rng(int(i))
        t = np.arange(SEGMENT + 3000) / 22050
        x = 0.02 * rng.standard_normal(t.size)
        for k, tag in enumerate(TAGS):
            if tag in tags.split(","):
                x += 0.2 * np.sin(2 * np.pi * 150 * 1.4 ** k * t)
        return x.astype(np.float32)


@pytest.fixture(scope="module")
def tagged_store(tmp_path_factory):
    from sampleaudio.data_prep import get_info
    from sampleaudio.stores import Clip, write_dataset

    out = tmp_path_factory.mktemp("tagged")
    rng = np.random.default_rng(0)
    clips = []
    for i in range(40):
        idx = tuple(sorted(rng.choice(len(TAGS), size=int(rng.integers(1, 4)), replace=False).tolist()))
        split = "train" if i < 28 else ("valid" if i < 34 else "test")
        clips.append(Clip(f"c{i}", split, idx, f"{i}:" + ",".join(TAGS[j] for j in idx)))
    write_dataset(clips, out, info=get_info("mini-mtat"), labels=TAGS, converter="test",
                  converter_version="0", loader=TaggedTones(), clips_per_shard=16, progress=False)
    return str(out)


@pytest.fixture(scope="module")
def glove(tmp_path_factory):
    path = tmp_path_factory.mktemp("glove") / "glove.tiny.6d.txt"
    path.write_text(GLOVE)
    return str(path)


_OBJECTIVE = ("num_negatives", "margin", "word_vectors", "unseen_fraction", "split_seed", "oov_tags")


def _config(store, glove, **fields):
    objective = {"num_negatives": 1, "word_vectors": glove, **{k: v for k, v in fields.items() if k in _OBJECTIVE}}
    train = {"lr": 0.001, "num_stages": 1, "max_epochs_per_stage": 1, "steps_per_epoch": 2, "seed": 1,
             **{k: v for k, v in fields.items() if k not in _OBJECTIVE}}
    return ExperimentConfig(
        name="zs", data=DataConfig(data_dir=store, segment=SEGMENT, batch_size=4, standardize="none"),
        model=model_params("choi2019_audio"), objective=objective_params("coembedding", **objective),
        train=TrainConfig(**train))


def _objective(config, store=None):
    from sampleaudio.families.zeroshot.coembedding import CoEmbeddingObjective
    from sampleaudio.stores import Store

    return CoEmbeddingObjective(config, store or Store.open(config.data.data_dir), segment=SEGMENT, mean=0.0,
                                std=1.0)


def test_sampler_draws_seen_positives_and_distinct_negatives(tagged_store, glove):
    obj = _objective(_config(tagged_store, glove, num_negatives=2))
    rows = list(obj.sets.AB_train)
    seen = list(obj.split.seen)
    labels = obj.labels[rows][:, seen]
    vec_to_tag = {tuple(np.round(v, 4)): k for k, v in enumerate(obj.seen_vectors)}
    ds = obj._dataset(rows, seed=5, num_examples=len(rows))
    batches = list(ds.as_numpy_iterator())
    again = list(obj._dataset(rows, seed=5, num_examples=len(rows)).as_numpy_iterator())
    for (x, p, n), _ in batches:
        assert x.shape[1:] == (SEGMENT, 1) and p.shape[1:] == (6,) and n.shape[1:] == (2, 6)
    np.testing.assert_array_equal(batches[0][0][1], again[0][0][1])  # seeded
    j = 0
    for (_, p, n), _ in batches:
        for b in range(len(p)):
            row = j % len(rows)
            pos = vec_to_tag[tuple(np.round(p[b], 4))]
            negs = [vec_to_tag[tuple(np.round(v, 4))] for v in n[b]]
            assert labels[row, pos] == 1 and all(labels[row, k] == 0 for k in negs) and len(set(negs)) == 2
            j += 1
    assert obj.steps_per_epoch() == int(np.ceil(len(rows) / 4))
    assert set(obj.split.unseen_tags).isdisjoint(obj.split.seen_tags)


def test_the_objective_takes_its_settings_from_its_own_parameters(tagged_store, glove):
    """The co-embedding's settings are its own declared parameters (one negative by default, Choi 2019's code),
    the same for the Python API and the command line (which used to default to 4)."""
    config = _config(tagged_store, glove, num_negatives=2, margin=0.3, split_seed=3)
    obj = _objective(config)
    assert (obj.num_negatives, obj.margin, obj.split_seed, obj.word_vectors, obj.vector_seed) == (2, 0.3, 3, glove, 1)
    assert objective_params("coembedding").num_negatives == 1 and objective_params("siamese").num_negatives == 4


def test_the_objective_reads_through_the_trainers_opened_store(tagged_store, glove, monkeypatch):
    """Read a store once: given the Store the trainer opened, the objective reads its labels and tracks without
    reading the manifest again."""
    from sampleaudio.stores import Manifest, Store

    store = Store.open(tagged_store)
    reads, original = [], Manifest.from_dict.__func__
    monkeypatch.setattr(Manifest, "from_dict", classmethod(lambda cls, d: reads.append(1) or original(cls, d)))
    obj = _objective(_config(tagged_store, glove), store)
    assert obj.data_dir is store and len(obj.tracks) == 40
    assert reads == []


def test_oov_tags_are_named_or_dropped(tagged_store, tmp_path):
    from sampleaudio.errors import ParameterError

    small = tmp_path / "g.txt"
    small.write_text("\n".join(line for line in GLOVE.splitlines() if not line.startswith("organ")) + "\n")
    with pytest.raises(ParameterError, match="organ"):
        _objective(_config(tagged_store, str(small)))
    with pytest.warns(UserWarning, match="organ"):
        obj = _objective(_config(tagged_store, str(small), oov_tags="drop"))
    assert "organ" not in obj.tags and obj.dropped_tags == ["organ"]


@pytest.mark.parametrize("field, value, message", [
    ("word_vectors", "/no/such/glove.txt", "objective.word_vectors"),
    ("unseen_fraction", 0.0, "objective.unseen_fraction"), ("oov_tags", "skip", "objective.oov_tags"),
    ("word_vectors", "random:x", "objective.word_vectors"), ("segment", 59049, "data.segment")])
def test_bad_coembedding_settings_are_refused_before_the_run_folder(tagged_store, glove, tmp_path, field, value,
                                                                    message):
    from sampleaudio.errors import ParameterError
    from sampleaudio.train import train

    config = _config(tagged_store, glove, **({} if field == "segment" else {field: value}))
    if field == "segment":
        config.data.segment = value
    with pytest.raises(ParameterError, match=message):
        train(config, str(tmp_path / "r"), verbose=0)
    assert not (tmp_path / "r").exists()


def test_coembedding_needs_the_choi2019_audio_branch(tagged_store, glove, tmp_path):
    from sampleaudio.errors import ParameterError
    from sampleaudio.train import train

    config = _config(tagged_store, glove)
    config.model.architecture = "samplecnn"
    with pytest.raises(ParameterError, match="choi2019_audio"):
        train(config, str(tmp_path / "r"), verbose=0)


class _Killed(BaseException):
    """Stands in for kill -9 (no except clause catches it)."""


class _KillAtEpoch(keras.callbacks.Callback):
    """Raises :class:`_Killed` as epoch ``epoch`` begins (after the epochs before it were committed)."""

    def __init__(self, epoch: int):
        super().__init__()
        self.kill = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.kill:
            raise _Killed()


@pytest.mark.slow  # two trainings, each traced afresh: 64 s on the shared machine at load 11
def test_a_killed_coembedding_run_resumes_from_its_checkpoint(tagged_store, glove, tmp_path, monkeypatch):
    """The second epoch starts from the saved co-embedding model (load_model of the whole two-branch model)."""
    import pandas as pd

    from sampleaudio import train as train_module

    config = _config(tagged_store, glove, max_epochs_per_stage=2, patience=2, steps_per_epoch=1)
    with pytest.raises(_Killed):
        train_module.train(config, str(tmp_path), verbose=0, callbacks=(_KillAtEpoch(1),))
    loaded = []
    load_model = train_module.keras.saving.load_model
    monkeypatch.setattr(train_module.keras.saving, "load_model", lambda *a, **k: loaded.append(a) or load_model(*a, **k))
    result = train_module.train(config, str(tmp_path), verbose=0)
    assert loaded and "epoch-00001.keras" in str(loaded[0][0])
    assert list(pd.read_csv(tmp_path / "history.csv").global_epoch) == [0, 1] and result["epochs"] == 2


@pytest.fixture(scope="module")
def zs_run(tagged_store, glove, tmp_path_factory):
    from sampleaudio.train import train

    run = str(tmp_path_factory.mktemp("zsrun") / "run")
    return run, train(_config(tagged_store, glove), run, verbose=0)


def test_coembedding_objective_trains_and_saves_both_branches(zs_run, tagged_store, glove):
    from sampleaudio.families.zeroshot.coembedding import load_word_branch
    from sampleaudio.inference import Tagger
    from sampleaudio.train import train

    run, result = zs_run
    for setting in ("seen", "zsl", "gzsl"):
        assert 0 <= result[f"{setting}_retrieval_roc_auc"] <= 1 or np.isnan(result[f"{setting}_retrieval_roc_auc"])
        assert f"{setting}_annotation_ap@5" in result
    assert result["seen_tags"] == 6 and result["unseen_tags"] == 2 and result["epochs"] == 1
    card = json.load(open(os.path.join(run, "model_card.json")))
    assert card["objective"] == "coembedding" and card["embedding_layer"] == "audio_embedding"
    kernel, bias, info = load_word_branch(run)
    assert kernel.shape == (6, 100) and bias.shape == (100,) and info["tags"] == TAGS
    emb = Tagger.from_path(run).embed([np.zeros(SEGMENT * 2, np.float32) + 0.1])[0]
    assert emb.embedding.shape == (100,)
    from sampleaudio.errors import ParameterError

    with pytest.raises(ParameterError, match="--vocab"):  # no tag outputs: a clear error, not an IndexError
        Tagger.from_path(run).tag([np.zeros(SEGMENT, np.float32)])
    assert train(_config(tagged_store, glove), run, verbose=0) == result  # finished: not retrained


def test_zero_shot_cli(zs_run, tagged_store, glove, tmp_path, capsys):
    import soundfile as sf

    from sampleaudio.cli import main

    run, _ = zs_run
    files = []
    for k, tags in enumerate([["piano"], ["violin", "drums"], ["cello"]]):
        clip = TaggedTones()(type("C", (), {"source": f"{k}:{','.join(tags)}"})())
        path = tmp_path / f"song{k}.wav"
        sf.write(path, clip, 22050)
        files.append(str(path))
    index = str(tmp_path / "index")
    assert main(["index", run, *files, "--out", index, "--quiet"]) == 0
    capsys.readouterr()
    assert main(["search", "calm piano", "--index", index, "--top", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    ranked = [line for line in out if line.strip()[:1].isdigit()]
    assert len(ranked) == 3 and all(any(os.path.basename(f) in line for f in files) for line in ranked)
    scores = [float(line.split()[1]) for line in ranked]
    assert scores == sorted(scores, reverse=True)

    vocab = tmp_path / "words.txt"
    vocab.write_text("calm\nloud\npiano\nviolin\n")
    assert main(["tag", run, files[0], "--vocab", str(vocab), "--top-k", "2"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(files[0]) and line.count("(") == 2

    assert main(["tag", run, files[1], "--top-k", "3"]) == 0  # without --vocab: the run's own tags
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.count("(") == 3 and all(t.split(" (")[0] in TAGS for t in line.split("\t")[1].split(", "))

    assert main(["neighbours", "piano", "--run", run, "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "piano" in out.splitlines()[0] and len([x for x in out.splitlines() if x.strip()[:1].isdigit()]) >= 3

    # a word no vector knows: one clear error line
    assert main(["search", "zzzz", "--index", index]) == 1
    assert "zzzz" in capsys.readouterr().err
