"""Kim 2019 Figs. 7 and 8: the analysis library on tiny models, and both scripts on a tiny finished run."""

import os
import sys

import numpy as np
import pandas as pd
import pytest

from sampleaudio import analysis
from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.models import SampleCNN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "reproductions"))


@pytest.fixture(scope="module")
def run(tone_store, tmp_path_factory):
    from sampleaudio.train import train

    out = tmp_path_factory.mktemp("run")
    config = ExperimentConfig(name="tiny-se", data=DataConfig(data_dir=tone_store, segment=81, batch_size=8),
                              model=model_params(block="se", num_blocks=3, init_features=4),
                              train=TrainConfig(lr=0.05, num_stages=1, max_epochs_per_stage=1, steps_per_epoch=3),
                              eval=EvalConfig())
    train(config, str(out), verbose=0)
    return str(out)


def test_spectra_peaks_mel_curve():
    sr = 22050
    t = np.arange(4096) / sr
    waves = np.stack([np.sin(2 * np.pi * f * t) for f in (3000.0, 500.0, 8000.0)])
    freqs, spectra = analysis.magnitude_spectra(waves, sr, n_bins=512)
    order, peak = analysis.sort_by_peak_frequency(freqs, spectra)
    assert list(order) == [1, 0, 2]
    np.testing.assert_allclose(peak, [3000, 500, 8000], atol=sr / 2 / 511)
    assert spectra.max(axis=1) == pytest.approx([1, 1, 1])
    rank, hz = analysis.mel_curve(5, sr)
    assert hz[0] == 0 and hz[-1] == pytest.approx(sr / 2)
    mel = 2595 * np.log10(1 + hz / 700)
    np.testing.assert_allclose(np.diff(mel), mel[-1] / 4)  # evenly spaced on the mel scale


def test_gradient_ascent_raises_each_filters_activation():
    import keras

    keras.utils.set_random_seed(4)
    model = SampleCNN(block="basic", num_blocks=2, num_classes=3, init_features=4)
    layers = analysis.block_output_layers(model)
    assert layers == ["block0_pool", "block1_pool"]
    start = analysis.maximize_activations(model, layers[1], length=243, steps=0, seed=1)
    ascended = analysis.maximize_activations(model, layers[1], length=243, steps=10, seed=1)
    sub = keras.Model(model.input, model.get_layer(layers[1]).output)

    def own(x):  # each row's mean activation of its own filter
        act = np.asarray(sub(x[..., None], training=False)).mean(axis=1)
        return act[np.arange(len(x)), np.arange(len(x))]

    assert start.shape == ascended.shape == (8, 243)  # the last block doubles the width
    before, after = own(start), own(ascended)
    alive = before > 0  # a filter dead on all inputs has no gradient and stays at 0
    assert (after >= before).all() and alive.sum() >= 4 and (after[alive] > 2 * before[alive]).all()
    with pytest.raises(Exception, match="filters"):
        analysis.maximize_activations(model, layers[1], length=243, filters=[9])


def test_excitation_analyses_on_a_tiny_store(tone_store):
    from sampleaudio.pipeline import read_clips
    from sampleaudio.stores import read_manifest

    model = SampleCNN(block="rese2", num_blocks=5, num_classes=2, activation="softmax", init_features=4)
    assert analysis.excitation_layers(model) == [f"block{i}_ex1" for i in range(5)]
    means = analysis.class_excitations(model, tone_store, "test", segment=729, max_clips=6)
    assert len(means) == 5 and means[0].shape == (2, 4) and means[-1].shape == (2, 16)
    std = analysis.excitation_std_across_classes(means)
    assert len(std) == 4 + 4 + 8 + 8 + 16 and (std.std_across_classes >= 0).all()
    loud = analysis.loudness_vs_excitation(model, tone_store, "test", segment=729, max_clips=6)
    assert len(loud) == 6 * 4 and set(loud["clip"]) == set(range(6))  # 3,000 samples: 4 segments of 729
    first = next(iter(read_clips(tone_store, "test")))["audio"].numpy()[:729]
    expected = 20 * np.log10(np.sqrt(np.mean(first.astype(np.float64) ** 2)))
    assert loud.loudness_db.iloc[0] == pytest.approx(expected, abs=1e-3)  # standardisation undone
    assert read_manifest(tone_store).std != 1.0
    with pytest.raises(Exception, match="SE blocks"):
        analysis.excitation_layers(SampleCNN(block="basic", num_blocks=2, init_features=4))


def test_fig7_and_fig8_scripts_on_a_run(run, tmp_path):
    import kim2019_fig7
    import kim2019_fig8

    assert kim2019_fig7.main(["--runs", run, "--profile", "smoke", "--out", str(tmp_path)]) == 0
    fig7 = tmp_path / "kim2019_fig7" / "smoke"
    table = pd.read_csv(fig7 / "kim2019_fig7.csv")
    assert set(table.block) == set(range(3)) and (table.groupby("block").peak_hz.diff().dropna() >= 0).all()
    assert (fig7 / "kim2019_fig7.png").stat().st_size > 5000
    assert kim2019_fig8.main(["--runs", run, "--profile", "smoke", "--out", str(tmp_path)]) == 0
    fig8 = tmp_path / "kim2019_fig8" / "smoke"
    assert set(pd.read_csv(fig8 / "kim2019_fig8_std.csv").block) == set(range(3))
    assert len(pd.read_csv(fig8 / "kim2019_fig8_loudness.csv")) == 12 * 37  # smoke: 12 test clips x 37 segments
    assert (fig8 / "kim2019_fig8.png").stat().st_size > 5000
