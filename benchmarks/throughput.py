"""Training, inference and input-pipeline throughput (segments per second), printed as a table.

    python benchmarks/throughput.py                      # MTAT and Speech Commands presets, width 128
    python benchmarks/throughput.py --width 32 --steps 10

For each preset it measures, in the same process:
- ``plain``: a plain Keras build of the same topology fed from in-memory numpy arrays with ``model.fit``
  defaults (the way most Keras code is written);
- ``sampleaudio``: the project's path: batches from the tf.data pipeline over a TFRecord store (parallel
  parse, crop, prefetch) and a compiled train step, with ``steps_per_execution`` > 1;
- ``sampleaudio+xla`` and ``sampleaudio+bf16``: the same with XLA, or with the mixed bfloat16 policy;
- inference: segments per second of ``model.predict`` on batches of 64;
- the input pipeline alone: segments per second that ``train_dataset`` produces, against what training uses.

The store is a small synthetic one made in a temporary folder (random noise clips), so the benchmark needs no
dataset. Speed is measured here and reported in the README, never asserted in tests.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import keras
import numpy as np

from sampleaudio.models import from_preset
from sampleaudio.pipeline import train_dataset
from sampleaudio.records import Clip, write_dataset
from sampleaudio.tasks import TASKS


class _Noise:
    def __call__(self, clip):
        rng = np.random.default_rng(int(clip.source))
        return (0.1 * rng.standard_normal(int(clip.duration * 22050))).astype(np.float32)


def _store(task, root: str, clips: int = 64) -> str:
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


def _train_rate(model_fn, task, data, batch, steps, *, policy="float32", jit=False, spe=1, plain=False):
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = model_fn()
        model.compile(keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), task.loss, jit_compile=jit,
                      steps_per_execution=spe)
        if plain:
            rng = np.random.default_rng(0)
            x = rng.standard_normal((batch * steps, task.segment, 1)).astype(np.float32)
            y = np.eye(task.num_classes, dtype=np.float32)[rng.integers(0, task.num_classes, batch * steps)]
            model.fit(x[:2 * batch], y[:2 * batch], batch_size=batch, epochs=1, verbose=0)  # warm-up and tracing
            start = time.perf_counter()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # one epoch of `steps` batches
            return steps * batch / (time.perf_counter() - start)
        ds = train_dataset(data, segment=task.segment, batch_size=batch, seed=0, drop_remainder=True)
        model.fit(ds, steps_per_epoch=2 * spe, epochs=1, verbose=0)
        steps = max(spe, steps - steps % spe)
        start = time.perf_counter()
        model.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
        return steps * batch / (time.perf_counter() - start)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--presets", nargs="+", default=["mtat", "speech-commands"], choices=list(TASKS))
    p.add_argument("--width", type=int, default=128, help="init_features (128 = the paper's model)")
    p.add_argument("--block", default="se")
    p.add_argument("--batch-size", type=int, default=23)
    p.add_argument("--steps", type=int, default=12, help="timed training steps per variant")
    args = p.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory() as root:
        for name in args.presets:
            task = TASKS[name]
            data = _store(task, root)

            def build(task=task, name=name):
                return from_preset(name, block=args.block, multi=True, init_features=args.width)

            results = {
                "plain": _train_rate(build, task, data, args.batch_size, args.steps, plain=True),
                "sampleaudio": _train_rate(build, task, data, args.batch_size, args.steps),
                "sampleaudio+xla": _train_rate(build, task, data, args.batch_size, args.steps, jit=True),
                "sampleaudio+bf16": _train_rate(build, task, data, args.batch_size, args.steps,
                                                policy="mixed_bfloat16"),
            }
            model = build()
            x = np.random.default_rng(1).standard_normal((64, task.segment, 1)).astype(np.float32)
            infer = _rate(lambda m=model, x=x: m.predict_on_batch(x), 1, 3, 64)
            it = iter(train_dataset(data, segment=task.segment, batch_size=args.batch_size, seed=0))
            pipe = _rate(lambda it=it: next(it), 5, 200, args.batch_size)
            best = max(v for k, v in results.items() if k != "plain")
            rows.append((name, results, infer, pipe, best))

    print(f"\nThroughput in segments/s ({args.block}+multi, width {args.width}, batch {args.batch_size}, "
          f"{os.cpu_count()} CPU threads, keras {keras.__version__})\n")
    print("| preset | plain train | sampleaudio train | +XLA | +bf16 | best / plain | inference | pipeline | "
          "pipeline / best train |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r, infer, pipe, best in rows:
        print(f"| {name} | {r['plain']:.1f} | {r['sampleaudio']:.1f} | {r['sampleaudio+xla']:.1f} | "
              f"{r['sampleaudio+bf16']:.1f} | {best / r['plain']:.2f}x | {infer:.1f} | {pipe:.0f} | "
              f"{pipe / best:.0f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
