"""Independent numpy forward passes of the Won 2020 benchmark models and HarmonicCNN, written from the authors'
PyTorch equations (``minzwon/sota-music-tagging-models``, ``training/model.py`` and ``modules.py``; torch 1.2,
torchaudio 0.3) in PyTorch's layout ``[channels, freq, time]``, for tests/test_won2020.py.

Nothing here comes from the package: the front ends (``torch.stft`` centred with reflection, periodic Hann,
power; torchaudio 0.3's HTK mel filters without normalisation; ``AmplitudeToDB``: ``10 log10(max(x, 1e-10))``;
HarmonicCNN's harmonic triangles of ERB width over ``linspace(0, sr // 2, n_bins)``), the convolutions
(cross-correlation, ``padding`` zeros on both sides, any stride), max pooling (floor), batch norm at inference
(``eps = 1e-5``), the GRU (gates r, z, n; ``b_hn`` inside ``r * (...)``), the heads. The weights come from a Keras
model through :func:`torch_weights`, which states the layout each Keras weight maps to: the tests hold the Keras
model to these passes on shared random weights.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-5


# ---------------------------------------------------------------------------------------------- front ends

def stft_power(x: np.ndarray, n_fft: int = 512, hop: int = 256) -> np.ndarray:
    """``torch.stft(x, n_fft, hop, window=hann_window(n_fft), center=True, pad_mode='reflect')`` power,
    ``[n_fft // 2 + 1, frames]``."""
    x = np.pad(np.asarray(x, np.float64), n_fft // 2, mode="reflect")
    frames = 1 + (x.size - n_fft) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    return (np.abs(np.fft.rfft(x[idx] * window, axis=1)) ** 2).T


def mel_fb(sample_rate: int, n_fft: int, n_mels: int, f_min: float = 0.0, f_max: float = 8000.0) -> np.ndarray:
    """torchaudio 0.3 ``create_fb_matrix``: ``[n_freqs, n_mels]``, HTK mel, triangles of peak 1 (bins at
    ``linspace(f_min, f_max, n_freqs)``: the 0.3 code; equal to the true bins at 16 kHz with f_max 8 kHz)."""
    n_freqs = n_fft // 2 + 1
    freqs = np.linspace(f_min, f_max, n_freqs)
    m_min, m_max = 2595 * np.log10(1 + f_min / 700), 2595 * np.log10(1 + f_max / 700)
    f_pts = 700 * (10 ** (np.linspace(m_min, m_max, n_mels + 2) / 2595) - 1)
    f_diff = f_pts[1:] - f_pts[:-1]
    slopes = f_pts[None, :] - freqs[:, None]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


def to_db(x: np.ndarray) -> np.ndarray:
    return 10 * np.log10(np.maximum(x, 1e-10))


def mel_db(x: np.ndarray, n_mels: int, sample_rate: int = 16000) -> np.ndarray:
    """``[n_mels, frames]``: MelSpectrogram(n_fft 512, f_max 8 kHz) then AmplitudeToDB."""
    return to_db(mel_fb(sample_rate, 512, n_mels).T @ stft_power(x))


def harmonic_fb(sample_rate: int, q: float, n_fft: int = 512, n_harmonic: int = 6,
                semitone_scale: int = 2) -> tuple[np.ndarray, int]:
    """``HarmonicSTFT``'s filters ``[n_bins, n_harmonic * level]`` (harmonic-major) and ``level``."""
    low = 24  # librosa.note_to_midi('C1')
    top = sample_rate / (2 * n_harmonic)
    high = int(np.round(69 + 12 * np.log2(top / 440.0)))  # hz_to_note names the nearest note
    level = (high - low) * semitone_scale
    f0 = 440.0 * 2.0 ** ((np.linspace(low, high, level + 1)[:-1] - 69) / 12)
    centres = np.concatenate([f0 * h for h in range(1, n_harmonic + 1)])
    bins = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)[:, None]
    bw = (0.1079 * centres + 24.7) / q
    up = bins * (2 / bw) + 1 - 2 * centres / bw
    down = bins * (-2 / bw) + 1 + 2 * centres / bw
    return np.maximum(0.0, np.minimum(up, down)), level


# ---------------------------------------------------------------------------------------------- layers

def conv2d(x, w, b, padding=(1, 1), stride=(1, 1)):
    """``nn.Conv2d``: ``x [Cin, H, W]``, ``w [Cout, Cin, kh, kw]``."""
    ph, pw = padding
    x = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    kh, kw = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride[0], ::stride[1]]
    return np.einsum("chwij,ocij->ohw", win, w, optimize=True) + b[:, None, None]


def conv1d(x, w, b, padding=0):
    """``nn.Conv1d``: ``x [Cin, T]``, ``w [Cout, Cin, k]``."""
    x = np.pad(x, ((0, 0), (padding, padding)))
    win = np.lib.stride_tricks.sliding_window_view(x, w.shape[2], axis=1)
    return np.einsum("ctk,ock->ot", win, w, optimize=True) + b[:, None]


def bn(x, p):
    """``nn.BatchNorm{1,2}d`` in eval mode over the first axis."""
    shape = (-1,) + (1,) * (x.ndim - 1)
    return (x - p["mean"].reshape(shape)) / np.sqrt(p["var"].reshape(shape) + EPS) * p["gamma"].reshape(shape) \
        + p["beta"].reshape(shape)


def relu(x):
    return np.maximum(x, 0.0)


def maxpool2d(x, k):
    """``nn.MaxPool2d(k)`` (stride k, floor) over ``[C, H, W]``."""
    kh, kw = k
    c, h, w = x.shape
    h, w = h // kh, w // kw
    return x[:, :h * kh, :w * kw].reshape(c, h, kh, w, kw).max(axis=(2, 4))


def linear(x, p):
    return p["w"] @ x + p["b"]


def gru(seq, p):
    """One ``nn.GRU`` layer over ``seq [T, in]`` from h = 0; ``weight_ih [3H, in]`` in gate order (r, z, n)."""
    hidden = p["w_hh"].shape[1]
    h = np.zeros(hidden)
    out = []
    for x in seq:
        gi, gh = p["w_ih"] @ x + p["b_ih"], p["w_hh"] @ h + p["b_hh"]
        r = 1 / (1 + np.exp(-(gi[:hidden] + gh[:hidden])))
        z = 1 / (1 + np.exp(-(gi[hidden:2 * hidden] + gh[hidden:2 * hidden])))
        n = np.tanh(gi[2 * hidden:] + r * gh[2 * hidden:])
        h = (1 - z) * n + z * h
        out.append(h)
    return np.stack(out)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _head(x, p, hidden: bool):
    """``penultimate`` (Linear -> BN1d -> ReLU, or the input) and the sigmoid output (dropout is the identity)."""
    if hidden:
        x = relu(bn(linear(x, p["dense1"]), p["dense1_bn"]))
    return x, sigmoid(linear(x, p["logit"]))


# ---------------------------------------------------------------------------------------------- models

def _conv_block(x, p, name, pool):
    """``Conv_2d``: conv3x3 p1 -> BN -> ReLU -> MaxPool2d(pool), pool = (freq, time)."""
    return maxpool2d(relu(bn(conv2d(x, *p[f"{name}_conv"]), p[f"{name}_bn"])), pool)


def _global_max(x):
    """The package's global max over the map (the identity where the paper's input leaves 1 x 1)."""
    return x.reshape(x.shape[0], -1).max(axis=1)


def fcn(x, p):
    x = bn(mel_db(x, 96)[None], p["spec_bn"])
    for k, (pool) in enumerate(((2, 4), (2, 4), (2, 4), (3, 5), (4, 4)), start=1):
        x = _conv_block(x, p, f"layer{k}", pool)
    return _head(_global_max(x), p, hidden=False)


def crnn(x, p):
    x = bn(mel_db(x, 96)[None], p["spec_bn"])
    for k, pool in enumerate(((2, 2), (3, 3), (4, 4), (4, 4)), start=1):
        x = _conv_block(x, p, f"layer{k}", pool)
    seq = x[:, 0, :].T  # squeeze(2), permute -> [T, 128]
    seq = gru(gru(seq, p["gru1"]), p["gru2"])
    return _head(seq[-1], p, hidden=False)


def short_chunk_cnn(x, p):
    x = bn(mel_db(x, 128)[None], p["spec_bn"])
    for k in range(1, 8):
        x = _conv_block(x, p, f"layer{k}", (2, 2))
    return _head(_global_max(x), p, hidden=True)


def short_chunk_resnet(x, p):
    x = bn(mel_db(x, 128)[None], p["spec_bn"])
    for k in range(1, 8):
        name = f"layer{k}"
        y = relu(bn(conv2d(x, *p[f"{name}_conv1"], stride=(2, 2)), p[f"{name}_bn1"]))
        y = bn(conv2d(y, *p[f"{name}_conv2"]), p[f"{name}_bn2"])
        shortcut = bn(conv2d(x, *p[f"{name}_conv3"], stride=(2, 2)), p[f"{name}_bn3"])
        x = relu(y + shortcut)
    return _head(_global_max(x), p, hidden=True)


def won_musicnn(x, p):
    spec = bn(mel_db(x, 96)[None], p["spec_bn"])  # [1, 96, T]
    branches = []
    for k in (1, 2):  # Conv_V: kernel (freq m, time 7), padding (0, 3), then max over frequency
        y = relu(bn(conv2d(spec, *p[f"m{k}_conv"], padding=(0, 3)), p[f"m{k}_bn"]))
        branches.append(y.max(axis=1))
    mean = spec.mean(axis=1)  # AvgPool2d((96, 1))
    for k, length in ((3, 129), (4, 65), (5, 33)):  # Conv_H
        branches.append(relu(bn(conv1d(mean, *p[f"m{k}_conv"], padding=length // 2), p[f"m{k}_bn"])))
    front = np.concatenate(branches)  # [561, T]
    mid = [front]
    for k in (1, 2, 3):
        y = relu(bn(conv1d(mid[-1], *p[f"layer{k}_conv"], padding=3), p[f"layer{k}_bn"]))
        mid.append(y if k == 1 else y + mid[-1])
    features = np.concatenate(mid)
    pooled = np.concatenate([features.max(axis=1), features.mean(axis=1)])  # [max || avg]
    return _head(pooled, p, hidden=True)


def harmonic_cnn(x, p, sample_rate: int = 16000):
    fb, level = harmonic_fb(sample_rate, float(p["q"]))
    spec = to_db((stft_power(x).T @ fb).T)  # [6 * level, T]
    x = bn(spec.reshape(6, level, -1), p["hstft_bn"])
    x = _conv_block(x, p, "layer1", (2, 2))
    for k, pool in ((2, (2, 2)), (3, (2, 2)), (4, (2, 2)), (5, None), (6, (2, 3)), (7, (2, 3))):
        name = f"layer{k}"
        if pool is None:
            x = _conv_block(x, p, name, (2, 2))
            continue
        y = relu(bn(conv2d(x, *p[f"{name}_conv1"]), p[f"{name}_bn1"]))
        y = bn(conv2d(y, *p[f"{name}_conv2"]), p[f"{name}_bn2"])
        x = maxpool2d(relu(x + y), pool)  # Res_2d_mp: + x, ReLU, MaxPool
    return _head(_global_max(x), p, hidden=True)


MODELS = {"fcn": fcn, "crnn": crnn, "short_chunk_cnn": short_chunk_cnn, "short_chunk_resnet": short_chunk_resnet,
          "won_musicnn": won_musicnn, "harmonic_cnn": harmonic_cnn}


# ---------------------------------------------------------------------------------------------- Keras -> torch

def torch_weights(model) -> dict:
    """The Keras model's weights in PyTorch's layouts, by layer name: a Keras ``Conv2D`` over ``[time, freq, C]``
    has kernel ``[kt, kf, Cin, Cout]`` -> ``[Cout, Cin, kf, kt]``; ``Conv1D`` ``[k, Cin, Cout]`` ->
    ``[Cout, Cin, k]``; ``Dense`` ``[in, out]`` -> ``[out, in]``; a ``GRU`` (``reset_after``) gate order
    (z, r, h) -> (r, z, n), its two bias rows -> ``b_ih``, ``b_hh``; batch norms by their four vectors."""
    import keras

    out = {}
    for layer in model.layers:
        w = [np.asarray(v, np.float64) for v in layer.get_weights()]
        if isinstance(layer, keras.layers.Conv2D):
            out[layer.name] = (w[0].transpose(3, 2, 1, 0), w[1])
        elif isinstance(layer, keras.layers.Conv1D):
            out[layer.name] = (w[0].transpose(2, 1, 0), w[1])
        elif isinstance(layer, keras.layers.BatchNormalization):
            out[layer.name] = dict(zip(("gamma", "beta", "mean", "var"), w))
        elif isinstance(layer, keras.layers.Dense):
            out[layer.name] = {"w": w[0].T, "b": w[1]}
        elif isinstance(layer, keras.layers.GRU):
            kernel, recurrent, bias = w
            h = recurrent.shape[0]

            def reorder(m, h=h):  # Keras columns (z, r, h) -> torch rows (r, z, n)
                return np.concatenate([m[..., h:2 * h], m[..., :h], m[..., 2 * h:]], axis=-1)

            out[layer.name] = {"w_ih": reorder(kernel).T, "w_hh": reorder(recurrent).T,
                               "b_ih": reorder(bias[0]), "b_hh": reorder(bias[1])}
        elif layer.name == "hstft":
            out["q"] = w[0][0]
    return out
