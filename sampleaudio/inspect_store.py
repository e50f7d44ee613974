"""A readable summary of a converted store (``sampleaudio inspect DIR``)."""

from __future__ import annotations

import os

import numpy as np

from sampleaudio.families.samplecnn.params import KIM2019_SIZES
from sampleaudio.stores import SPLITS, STANDARD_FEATURES, Store

__all__ = ["summarize"]


def summarize(data_dir: str | os.PathLike, max_skipped: int = 10) -> str:
    """Dataset, splits (clips, hours, shards), standardisation, the dataset's own features, label frequencies
    and skipped files."""
    store = Store.open(data_dir)
    m, index = store.manifest, store.index
    lines = [f"{data_dir}", f"  dataset      {m.dataset}  (converter {m.converter} {m.converter_version})",
             f"  labels       {m.num_classes} ({'multi-label' if m.multi_label else 'single-label'})",
             f"  sample rate  {m.sample_rate} Hz, 16-bit PCM",
             f"  train mean   {m.mean:.4e}   std {m.std:.5f}"]
    if "synthetic" in m.extra:
        lines.append(f"  NOTE         synthetic proxy ({m.extra['synthetic']}); its numbers are not comparable "
                     "to the real dataset's")
    if store.declared_features:
        lines.append("  features     " + ", ".join(f"{f.name} ({f.kind})" for f in store.declared_features) +
                     f" beside the {len(STANDARD_FEATURES)} standard ones")
    try:  # Kim 2019's SampleCNN segment for the dataset: clips shorter than it are tiled
        segment = KIM2019_SIZES.get(store.task.name, (None, None))[1]
    except KeyError:  # a store before format 3 of a dataset without a task
        segment = None
    lines.append("")
    lines.append(f"  {'split':<6} {'clips':>8} {'hours':>8} {'shards':>7} {'mean s':>8}" +
                 (f" {'< segment':>10}" if segment else ""))
    for split in SPLITS:
        if split not in m.splits:
            continue
        s = m.splits[split]
        rows = index[index["split"] == split]
        mean_s = rows["num_samples"].mean() / m.sample_rate if len(rows) else 0.0
        short = int((rows["num_samples"] < segment).sum()) if segment else None
        lines.append(f"  {split:<6} {s['clips']:>8} {s['seconds'] / 3600:>8.2f} {len(s['shards']):>7} "
                     f"{mean_s:>8.2f}" + (f" {short:>10}" if segment else ""))
    counts = np.zeros(m.num_classes, dtype=int)
    for labs in index["labels"]:
        for i in str(labs).split():
            counts[int(i)] += 1
    order = np.argsort(-counts, kind="stable")
    lines.append("")
    lines.append("  most frequent labels:  " + ", ".join(f"{m.labels[i]} ({counts[i]})" for i in order[:5]))
    lines.append("  least frequent labels: " + ", ".join(f"{m.labels[i]} ({counts[i]})" for i in order[-5:][::-1]))
    lines.append(f"  labels per clip:       {np.mean([len(str(x).split()) for x in index['labels']]):.2f}")
    lines.append("")
    lines.append(f"  skipped files: {len(m.skipped)}")
    for s in m.skipped[:max_skipped]:
        lines.append(f"    {s.get('path', s.get('clip_id'))}: {s['reason']}")
    if len(m.skipped) > max_skipped:
        lines.append(f"    ... and {len(m.skipped) - max_skipped} more (see manifest.json)")
    return "\n".join(lines)
