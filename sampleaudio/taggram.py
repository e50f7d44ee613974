"""Taggram plots: a file's tags over time, as musicnn's notebook draws them (Pons and Serra, 2019).

Rows are the file's highest-scoring tags (best at the top, each with its clip score), columns the windows the model
saw (x: time in seconds, each column spanning one hop), colour the probability. ``sampleaudio tag ... --plot DIR``
writes one PNG per file.
"""

from __future__ import annotations

import os

import numpy as np

from sampleaudio.errors import ParameterError

__all__ = ["PLOT_TAGS", "plot_taggram"]

#: Tags (rows) a taggram plot shows by default.
PLOT_TAGS = 10


def plot_taggram(result, out: str, *, top: int = PLOT_TAGS, title: str | None = None,
                 step: float | None = None) -> str:
    """Draw ``result``'s taggram (a :class:`sampleaudio.inference.TagResult`) into ``out`` (.png, .pdf or .svg).

    Args:
        result: a tag result with ``scores``, ``taggram`` and ``times``.
        out: the image file.
        top: how many tags (rows) to show: the highest clip scores.
        title: the title (default: the file's name).
        step: seconds each column spans: the hop (default: the spacing of ``times``; for a single window, where
            there is no spacing, pass the model's segment).

    Returns:
        ``out``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if result.taggram is None or result.scores is None:
        raise ParameterError(f"'{result.source}' has no taggram to plot ({result.error})")
    taggram = np.asarray(result.taggram, np.float64)
    times = np.asarray(result.times, np.float64)
    order = np.argsort(-np.asarray(result.scores), kind="stable")[:max(1, int(top))]
    if step is None:
        step = float(np.median(np.diff(times))) if times.size > 1 else 1.0
    width = min(16.0, max(6.0, 0.35 * taggram.shape[0] + 3.0))
    fig, ax = plt.subplots(figsize=(width, 0.32 * len(order) + 1.6))
    image = ax.imshow(taggram[:, order].T, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0.0,
                      vmax=1.0, extent=(times[0], times[-1] + step, len(order) - 0.5, -0.5))
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([f"{result.labels[i]} ({float(result.scores[i]):.2f})" for i in order], fontsize=8)
    ax.set_xlabel("time (s)")
    ax.set_title(title or os.path.basename(str(result.source)), fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01, label="probability")
    fig.tight_layout()
    fig.savefig(out, dpi=100, metadata={"Software": None})
    plt.close(fig)
    return out
