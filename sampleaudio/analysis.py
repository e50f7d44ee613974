"""Analyses of trained SampleCNNs: Kim, Lee, Nam (IEEE JSTSP 2019) Sec. VII, Figs. 7 and 8.

Fig. 7 (Sec. VII-A), learned filters: for every filter of a block, the input waveform that maximises the
filter's mean activation is found by gradient ascent from low-level noise; its magnitude spectrum shows the
frequency the filter responds to. Sorting a block's filters by peak frequency and drawing the mel curve
``m = 2595 log10(1 + f / 700)`` over them shows how closely the learned filter bank follows a mel scale.

Fig. 8 (Sec. VII-B), SE excitations: the excitation vector of every SE block is averaged over each class's
segments; the standard deviation of those class averages across classes, per channel, shows how
class-specific each block is (it grows with depth in the paper). The first block's excitation is compared with
the input loudness.

Only the drawing lives in ``reproductions/kim2019_fig7.py`` and ``kim2019_fig8.py``; everything computed is here.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from sampleaudio.errors import ParameterError
from sampleaudio.pipeline import eval_dataset
from sampleaudio.stores import read_manifest

__all__ = [
    "block_output_layers",
    "maximize_activations",
    "magnitude_spectra",
    "sort_by_peak_frequency",
    "mel_curve",
    "filter_spectra",
    "excitation_layers",
    "class_excitations",
    "excitation_std_across_classes",
    "loudness_vs_excitation",
]

_BLOCK = re.compile(r"^block(\d+)_")


def block_output_layers(model: keras.Model) -> list[str]:
    """Name of each block's output layer, in block order (the last layer named ``block{i}_*``)."""
    last: dict[int, str] = {}
    for layer in model.layers:
        m = _BLOCK.match(layer.name)
        if m:
            last[int(m.group(1))] = layer.name
    if not last:
        raise ParameterError(f"model '{model.name}' has no layers named block<i>_*: not a SampleCNN")
    return [last[i] for i in sorted(last)]


def maximize_activations(model: keras.Model, layer: str, *, length: int, steps: int = 30, step_size: float = 0.1,
                         filters: list[int] | None = None, batch: int = 64, seed: int = 0) -> np.ndarray:
    """Input waveforms ``[F, length]`` that each maximise one filter's mean activation at ``layer``.

    Gradient ascent from Gaussian noise (std 0.1, in the model's standardised input units): each step adds
    ``step_size`` times the gradient normalised to unit RMS per waveform (the usual activation-maximisation
    recipe); each waveform is the best of its iterates. ``filters`` selects channels (default: all); they are optimised ``batch`` at a time.
    """
    if length < 1 or steps < 0:
        raise ParameterError(f"length must be >= 1 and steps >= 0. Received: length={length}, steps={steps}")
    sub = keras.Model(model.input, model.get_layer(layer).output)
    channels = int(sub.output.shape[-1])
    filters = list(range(channels)) if filters is None else list(filters)
    if any(not 0 <= f < channels for f in filters):
        raise ParameterError(f"filters must lie in [0, {channels}) for layer '{layer}'")
    rng = np.random.default_rng(seed)

    def objective(x, onehot):  # each row: the mean activation of its own filter
        act = tf.cast(sub(x, training=False), tf.float32)  # [F, T, C]
        return tf.reduce_sum(tf.reduce_mean(act, axis=1) * onehot, axis=1)

    @tf.function(reduce_retracing=True)
    def ascend(x, onehot):
        best, best_value = x, objective(x, onehot)
        for _ in tf.range(steps):
            with tf.GradientTape() as tape:
                tape.watch(x)
                value = tf.reduce_sum(objective(x, onehot))
            g = tape.gradient(value, x)
            g = g / (tf.sqrt(tf.reduce_mean(tf.square(g), axis=[1, 2], keepdims=True)) + 1e-8)
            x = x + step_size * g
            new = objective(x, onehot)
            better = new > best_value  # keep each row's best iterate: a step may overshoot a ReLU's edge
            best = tf.where(better[:, None, None], x, best)
            best_value = tf.maximum(new, best_value)
        return best

    out = []
    for start in range(0, len(filters), batch):
        chunk = filters[start:start + batch]
        x = tf.constant(0.1 * rng.standard_normal((len(chunk), length, 1)), tf.float32)
        onehot = tf.one_hot(chunk, channels, dtype=tf.float32)
        out.append(ascend(x, onehot).numpy()[..., 0])
    return np.concatenate(out)


def magnitude_spectra(waves: np.ndarray, sample_rate: int, n_bins: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """``(frequencies [n_bins], spectra [F, n_bins])``: Hann-windowed magnitude spectra, each scaled to peak 1 and
    resampled to ``n_bins`` frequencies from 0 to Nyquist."""
    waves = np.asarray(waves, dtype=np.float64)
    waves = waves - waves.mean(axis=1, keepdims=True)
    mag = np.abs(np.fft.rfft(waves * np.hanning(waves.shape[1]), axis=1))
    freqs = np.fft.rfftfreq(waves.shape[1], 1.0 / sample_rate)
    grid = np.linspace(0.0, sample_rate / 2, n_bins)
    spectra = np.stack([np.interp(grid, freqs, m) for m in mag])
    return grid, spectra / np.maximum(spectra.max(axis=1, keepdims=True), 1e-12)


def sort_by_peak_frequency(freqs: np.ndarray, spectra: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, peak_hz)``: filter indices sorted by the frequency of their spectrum's maximum (ties by index)."""
    peak = np.asarray(freqs)[np.argmax(spectra, axis=1)]
    order = np.lexsort((np.arange(len(peak)), peak))
    return order, peak


def mel_curve(n_filters: int, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """``(filter_rank, hz)``: where ``n_filters`` filters spaced evenly on the mel scale
    (``m = 2595 log10(1 + f / 700)``) from 0 Hz to Nyquist would peak, for drawing over sorted spectra."""
    rank = np.arange(n_filters, dtype=np.float64)
    top = 2595.0 * np.log10(1.0 + (sample_rate / 2) / 700.0)
    mel = top * rank / max(1, n_filters - 1)
    return rank, 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def filter_spectra(model: keras.Model, sample_rate: int, *, blocks: list[int] | None = None, steps: int = 30,
                   max_filters: int | None = None, n_bins: int = 256, min_length: int = 2187,
                   seed: int = 0) -> list[dict]:
    """Fig. 7 for one model: per block, the sorted spectra of its filters' activation-maximising inputs.

    The input for block ``i`` is ``max(min_length, 3 ** (i + 3))`` samples, so the deepest blocks still see a few
    frames. ``max_filters`` takes that many filters evenly spread over the block's channels (default: all).
    Returns one dict per block: ``block``, ``layer``, ``freqs``, ``spectra`` (sorted by peak), ``filters``
    (channel of each sorted row), ``peak_hz`` (sorted).
    """
    layers = block_output_layers(model)
    blocks = list(range(len(layers))) if blocks is None else blocks
    result = []
    for i in blocks:
        channels = int(model.get_layer(layers[i]).output.shape[-1])
        filters = (list(range(channels)) if not max_filters or max_filters >= channels
                   else sorted(set(np.linspace(0, channels - 1, max_filters).round().astype(int).tolist())))
        waves = maximize_activations(model, layers[i], length=max(min_length, 3 ** (i + 3)), steps=steps,
                                     filters=filters, seed=seed + i)
        freqs, spectra = magnitude_spectra(waves, sample_rate, n_bins)
        order, peak = sort_by_peak_frequency(freqs, spectra)
        result.append({"block": i, "layer": layers[i], "freqs": freqs, "spectra": spectra[order],
                       "filters": np.asarray(filters)[order], "peak_hz": peak[order]})
    return result


def excitation_layers(model: keras.Model) -> list[str]:
    """Names of the SE excitation outputs (``block{i}_ex1``), in block order."""
    names = [la.name for la in model.layers if _BLOCK.match(la.name) and la.name.endswith("_ex1")]
    if not names:
        raise ParameterError(f"model '{model.name}' has no SE blocks (block se, rese1 or rese2): Fig. 8 "
                             "analyses SE excitations")
    return sorted(names, key=lambda n: int(_BLOCK.match(n).group(1)))


def _segments(model, data_dir, split, segment, mean, std, max_clips, batch_size):
    """Yield (excitations list [B, C] per block, labels [B, K], clip index [B], raw segments [B, segment])."""
    names = excitation_layers(model)
    sub = keras.Model(model.input, [model.get_layer(n).output for n in names])
    run = tf.function(lambda x: sub(x, training=False), reduce_retracing=True)
    manifest = read_manifest(data_dir)
    m = manifest.mean if mean is None else mean  # to undo the standardisation for the loudness
    s = manifest.std if std is None else std
    ds = eval_dataset(data_dir, split, segment=segment, batch_size=batch_size, mean=m, std=s)
    if max_clips is not None:
        ds = ds.unbatch().filter(lambda x, y, i: i < max_clips).batch(batch_size)
    for x, y, i in ds:
        outs = run(x)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        yield ([np.asarray(o, np.float64).reshape(o.shape[0], -1) for o in outs], y.numpy(), i.numpy(),
               x.numpy()[..., 0] * s + m)


def class_excitations(model: keras.Model, data_dir: str, split: str = "test", *, segment: int,
                      mean: float | None = None, std: float | None = None, max_clips: int | None = None,
                      batch_size: int = 32) -> list[np.ndarray]:
    """Per SE block, ``[num_classes, channels]``: the excitation averaged over every segment of each class's clips
    (a multi-label clip counts for each of its labels; a class without clips is NaN)."""
    sums, counts = None, None
    for exc, labels, _, _ in _segments(model, data_dir, split, segment, mean, std, max_clips, batch_size):
        labels = (labels > 0.5).astype(np.float64)
        if sums is None:
            sums = [np.zeros((labels.shape[1], e.shape[1])) for e in exc]
            counts = np.zeros(labels.shape[1])
        for k, e in enumerate(exc):
            sums[k] += labels.T @ e
        counts += labels.sum(axis=0)
    if sums is None:
        raise ParameterError(f"split '{split}' of '{data_dir}' holds no clips")
    with np.errstate(invalid="ignore", divide="ignore"):
        return [s / counts[:, None] for s in sums]


def excitation_std_across_classes(class_means: list[np.ndarray]) -> pd.DataFrame:
    """Fig. 8: one row per (block, channel) with the standard deviation of its class-averaged excitation across
    the classes that have clips."""
    rows = []
    for block, means in enumerate(class_means):
        means = means[~np.isnan(means).any(axis=1)]
        for channel, value in enumerate(means.std(axis=0)):
            rows.append({"block": block, "channel": channel, "std_across_classes": float(value)})
    return pd.DataFrame(rows)


def loudness_vs_excitation(model: keras.Model, data_dir: str, split: str = "test", *, segment: int,
                           mean: float | None = None, std: float | None = None, max_clips: int | None = None,
                           batch_size: int = 32) -> pd.DataFrame:
    """Sec. VII-B: per segment, its loudness (RMS of the raw waveform in dBFS) and the first SE block's
    excitation averaged over channels."""
    rows = []
    for exc, _, clip, raw in _segments(model, data_dir, split, segment, mean, std, max_clips, batch_size):
        rms = np.sqrt(np.mean(np.square(raw.astype(np.float64)), axis=1))
        for c, db, e in zip(clip, 20 * np.log10(np.maximum(rms, 1e-10)), exc[0].mean(axis=1)):
            rows.append({"clip": int(c), "loudness_db": float(db), "mean_excitation": float(e)})
    return pd.DataFrame(rows)
