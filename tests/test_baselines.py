"""The reference baselines of a store (sampleaudio.baselines): chance and MFCC + logistic regression."""

import numpy as np

from sampleaudio import baselines


def test_mfcc_statistics_are_mean_and_std_of_mfccs_and_deltas():
    t = np.arange(22050) / 22050
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    f = baselines.mfcc_statistics(x)
    assert f.shape == (80,) and f.dtype == np.float32 and np.isfinite(f).all()
    assert baselines.mfcc_statistics(x[:500]).shape == (80,)  # shorter than one FFT frame: padded
    assert np.abs(f[40:60]).max() < np.abs(f[:20]).max()  # a steady tone: deltas average to ~0


def test_baselines_separate_two_tones_and_chance_does_not(tone_store, tmp_path):
    result = baselines.baselines(tone_store, cache_dir=str(tmp_path))
    assert result["mfcc"]["accuracy"] >= 0.9 and result["mfcc"]["roc_auc"] >= 0.95
    assert result["chance"]["accuracy"] <= 0.6 and result["chance"]["roc_auc"] == 0.5
    cached = list(tmp_path.iterdir())
    assert len(cached) == 1 and baselines.baselines(tone_store, cache_dir=str(tmp_path)) == result
