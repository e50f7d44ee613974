"""Training, inference and input-pipeline throughput (segments per second), printed as a table.

    python benchmarks/throughput.py                      # MTAT and Speech Commands presets, width 128
    python benchmarks/throughput.py --width 32 --steps 10 --repeats 3

For each preset it measures:
- ``plain``: a plain Keras build of the same topology (Keras' own ``BatchNormalization``) fed from in-memory
  numpy arrays with ``model.fit``, in a process that imports TensorFlow first and so runs with TensorFlow's
  defaults (the way most Keras code is written);
- ``sampleaudio``: the project's path: sampleaudio imported first (oneDNN CPU kernels, see
  ``sampleaudio._prefer_onednn``), its fused-kernel ``BatchNormalization``, batches from the tf.data pipeline
  over a TFRecord store (parallel parse, crop, prefetch);
- ``no-oneDNN`` (the same with ``TF_ENABLE_ONEDNN_OPTS=0``), and with ``--extras`` ``+XLA`` and ``+bf16``;
- inference: segments per second of ``predict_on_batch`` on batches of 64;
- the input pipeline alone: segments per second that ``train_dataset`` produces, against what training uses.

Every training figure comes from its own fresh process and is the median step time of ``--steps`` steps (the
first, which traces, falls out); the arms are interleaved and repeated (``--repeats``) and the median over
processes is printed, because run-to-run variation on small shared machines is large.
The store is a small synthetic one made in a temporary folder (random noise clips), so the benchmark needs no
dataset. Speed is measured here and reported in the README, never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ARMS = ("plain", "sampleaudio", "no-onednn", "xla", "bf16")


class _Noise:
    def __call__(self, clip):
        rng = np.random.default_rng(int(clip.source))
        return (0.1 * rng.standard_normal(int(clip.duration * 22050))).astype(np.float32)


def _store(task, root: str, clips: int = 64) -> str:
    from sampleaudio.records import Clip, write_dataset

    out = os.path.join(root, task.name)
    seconds = 3 * task.segment / 22050
    items = [Clip(f"c{k:04d}", "train" if k % 8 else "valid", (k % task.num_classes,), str(k), duration=seconds)
             for k in range(clips)]
    items += [Clip("t0", "test", (0,), "99999", duration=seconds)]
    write_dataset(items, out, dataset=task.name, labels=[f"l{i}" for i in range(task.num_classes)],
                  multi_label=task.multi_label, converter="benchmark", converter_version="0", loader=_Noise(),
                  progress=False)
    return out


def _rate(fn, warmup: int, steps: int, per_step: int) -> float:
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    for _ in range(steps):
        fn()
    return steps * per_step / (time.perf_counter() - start)


def _with_keras_batch_norm(model):
    """The same model with Keras' own BatchNormalization layers (same names and weights)."""
    import keras

    from sampleaudio.models import BatchNormalization

    def clone(layer):
        if isinstance(layer, BatchNormalization):
            return keras.layers.BatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def _median_step_rate(model, batch: int, fit) -> float:
    """Segments per second from the median step time inside ``fit`` (robust to a stall of a shared machine)."""
    import keras

    stamps: list[float] = []

    class Stamps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch_index, logs=None):
            stamps.append(time.perf_counter())

    fit(Stamps())
    return batch / statistics.median(np.diff(stamps))


def _measure(arm: str, preset: str, data: str, width: int, block: str, batch: int, steps: int) -> dict:
    """One arm in this (fresh) process; returns segments per second."""
    if arm == "plain":
        import tensorflow  # noqa: F401  (first: TensorFlow's own defaults, before sampleaudio's)
    importlib.import_module("sampleaudio")  # before keras, so that sampleaudio's CPU setting applies to its arms
    import keras

    from sampleaudio.models import from_preset
    from sampleaudio.pipeline import train_dataset
    from sampleaudio.tasks import TASKS

    task = TASKS[preset]
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if arm == "bf16" else "float32")
    model = from_preset(preset, block=block, multi=True, init_features=width)
    if arm == "plain":
        model = _with_keras_batch_norm(model)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), task.loss, jit_compile=arm == "xla")
    if arm == "plain":
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch * steps, task.segment, 1)).astype(np.float32)
        y = np.eye(task.num_classes, dtype=np.float32)[rng.integers(0, task.num_classes, batch * steps)]
        rate = _median_step_rate(model, batch, lambda cb: model.fit(x, y, batch_size=batch, epochs=1, verbose=0,
                                                                     callbacks=[cb]))
    else:
        ds = train_dataset(data, segment=task.segment, batch_size=batch, seed=0, drop_remainder=True)
        rate = _median_step_rate(model, batch, lambda cb: model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0,
                                                                     callbacks=[cb]))
    result = {"train": rate}
    if arm == "sampleaudio":
        x = np.random.default_rng(1).standard_normal((64, task.segment, 1)).astype(np.float32)
        result["inference"] = _rate(lambda: model.predict_on_batch(x), 1, 3, 64)
        it = iter(train_dataset(data, segment=task.segment, batch_size=batch, seed=0))
        result["pipeline"] = _rate(lambda: next(it), 5, 200, batch)
    return result


def _child(arm: str, preset: str, data: str, args) -> dict:
    env = dict(os.environ)
    env.pop("TF_ENABLE_ONEDNN_OPTS", None)
    if arm == "no-onednn":
        env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    cmd = [sys.executable, os.path.abspath(__file__), "--child", arm, "--presets", preset, "--data", data,
           "--width", str(args.width), "--block", args.block, "--batch-size", str(args.batch_size),
           "--steps", str(args.steps)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"arm {arm} on {preset} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--presets", nargs="+", default=["mtat", "speech-commands"],
                   choices=["mtat", "speech-commands", "dcase2017"])
    p.add_argument("--width", type=int, default=128, help="init_features (128 = the paper's model)")
    p.add_argument("--block", default="se")
    p.add_argument("--batch-size", type=int, default=23)
    p.add_argument("--steps", type=int, default=12, help="training steps per measurement (median step time)")
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per arm; the median is printed")
    p.add_argument("--extras", action="store_true", help="also measure +XLA and +bfloat16")
    p.add_argument("--child", choices=ARMS, help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.child, args.presets[0], args.data, args.width, args.block,
                                  args.batch_size, args.steps)))
        return 0

    from sampleaudio.tasks import TASKS

    arms = ["plain", "sampleaudio", "no-onednn"] + (["xla", "bf16"] if args.extras else [])
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for name in args.presets:
            data = _store(TASKS[name], root)
            runs: dict[str, list[dict]] = {arm: [] for arm in arms}
            for _ in range(args.repeats):
                for arm in arms:  # interleaved, so slow phases of a shared machine hit every arm alike
                    runs[arm].append(_child(arm, name, data, args))
            med = {arm: statistics.median(r["train"] for r in runs[arm]) for arm in arms}
            extra = {k: statistics.median(r[k] for r in runs["sampleaudio"]) for k in ("inference", "pipeline")}
            spread = {arm: (min(r["train"] for r in runs[arm]), max(r["train"] for r in runs[arm])) for arm in arms}
            rows.append((name, med, spread, extra))

    import keras

    print(f"\nThroughput in segments/s, median of {args.repeats} fresh processes per arm (min-max in brackets); "
          f"{args.block}+multi, width {args.width}, batch {args.batch_size}, {os.cpu_count()} CPU threads, "
          f"keras {keras.__version__}\n")
    heads = ["plain Keras train", "sampleaudio train", "sampleaudio, no oneDNN"]
    heads += ["+XLA", "+bf16"] if args.extras else []
    print("| preset | " + " | ".join(heads) + " | sampleaudio / plain | inference | pipeline | pipeline / train |")
    print("|---|" + "---|" * (len(heads) + 4))
    for name, med, spread, extra in rows:
        cells = [f"{med[a]:.1f} ({spread[a][0]:.1f}-{spread[a][1]:.1f})" for a in arms]
        print(f"| {name} | " + " | ".join(cells) + f" | {med['sampleaudio'] / med['plain']:.2f}x | "
              f"{extra['inference']:.1f} | {extra['pipeline']:.0f} | {extra['pipeline'] / med['sampleaudio']:.0f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
