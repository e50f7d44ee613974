"""The Siamese objective in the trainer (Park 2018): staged, resumable run folder; encoder saved; metrics."""

import json
import os

import numpy as np
import pytest

from sampleaudio.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from sampleaudio.models.artist_cnn import crop_samples


class ArtistTones:
    """Artist a: a harmonic tone at 200 * 1.5 ** a Hz with noise; source = 'artist:seed'."""

    def __call__(self, clip):
        a, seed = map(int, clip.source.split(":"))
        rng = np.random.default_rng(seed)
        t = np.arange(70000) / 22050
        f = 200 * 1.5 ** a
        x = sum(np.sin(2 * np.pi * f * h * t + rng.uniform(0, 6)) / h for h in (1, 2, 3))
        return (0.3 * x + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def artist_store(tmp_path_factory):
    from sampleaudio.records import Clip, write_dataset

    out = tmp_path_factory.mktemp("artists")
    clips = []
    for a in range(3):
        for s in range(6):
            split = "train" if s < 3 else ("valid" if s < 5 else "test")
            clips.append(Clip(f"a{a}s{s}", split, (a,), f"{a}:{10 * a + s}", artist_id=f"artist{a}",
                              track_id=f"a{a}s{s}"))
    write_dataset(clips, out, dataset="mini-artists", labels=[f"artist{a}" for a in range(3)], multi_label=False,
                  converter="test", converter_version="0", loader=ArtistTones(), clips_per_shard=8, progress=False)
    return str(out)


@pytest.mark.slow  # ~16 s of CPU (six-branch model traced for fit, validation and evaluation)
def test_siamese_objective_trains_resumes_and_saves_the_encoder(artist_store, tmp_path):
    from sampleaudio.inference import Tagger
    from sampleaudio.train import train

    seg = crop_samples(128)
    config = ExperimentConfig(
        name="siamese", data=DataConfig(data_dir=artist_store, segment=seg, batch_size=3, standardize="paper",
                                        max_eval_segments=1),
        model=ModelConfig(architecture="artist_cnn"),
        train=TrainConfig(objective="siamese", num_negatives=2, lr=0.01, num_stages=1, max_epochs_per_stage=1,
                          steps_per_epoch=2, seed=3))
    run = str(tmp_path / "run")
    result = train(config, run, verbose=0)
    assert set(result) >= {"artist_map", "artist_knn9_accuracy", "songs", "epochs"}
    assert result["songs"] == 3 and 0 < result["artist_map"] <= 1 and result["epochs"] == 1
    card = json.load(open(os.path.join(run, "model_card.json")))
    assert card["objective"] == "siamese" and card["embedding_layer"] == "global_average_pooling1d_1"
    history = open(os.path.join(run, "history.csv")).read().splitlines()
    assert len(history) == 2 and np.isfinite(float(history[1].split(",")[5]))  # val_loss
    # the saved encoder embeds audio like any run
    tagger = Tagger.from_path(run)
    emb = tagger.embed([np.random.default_rng(0).standard_normal(seg * 2).astype(np.float32)])[0]
    assert emb.embedding.shape == (256,) and emb.segment_embeddings.shape == (2, 256)
    # a finished run is not retrained
    assert train(config, run, verbose=0) == result


@pytest.mark.slow  # ~20 s of CPU: the six-branch model traced under a strategy and a mixed policy
@pytest.mark.parametrize("policy, strategy", [("bfloat16", "none"), ("off", "mirrored")])
def test_siamese_objective_under_mixed_precision_and_a_strategy(artist_store, tmp_path, policy, strategy):
    from sampleaudio.train import train

    config = ExperimentConfig(
        name="siamese", data=DataConfig(data_dir=artist_store, segment=crop_samples(128), batch_size=3,
                                        standardize="paper", max_eval_segments=1),
        model=ModelConfig(architecture="artist_cnn"),
        train=TrainConfig(objective="siamese", num_negatives=2, lr=0.01, num_stages=1, max_epochs_per_stage=1,
                          steps_per_epoch=2, seed=3, mixed_precision=policy, distribute=strategy))
    result = train(config, str(tmp_path / "run"), verbose=0)
    assert 0 < result["artist_map"] <= 1 and result["epochs"] == 1
    history = open(tmp_path / "run" / "history.csv").read().splitlines()
    assert np.isfinite(float(history[1].split(",")[5]))  # the validation loss under that policy / strategy
