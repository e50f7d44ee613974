"""Training, inference and input-pipeline throughput (segments per second) of SampleCNN, printed as a table.

    python benchmarks/throughput.py                                  # MTAT, the paper's width 128
    python benchmarks/throughput.py --width 32 --steps 10 --repeats 3
    python benchmarks/throughput.py --arms plain sampleaudio onednn=0 onednn=1 jit=1 intra=2,inter=1 spe=4

Arms (each in its own fresh process, because ``TF_ENABLE_ONEDNN_OPTS`` is read when TensorFlow is imported):

- ``plain``: a plain Keras build of the same topology (Keras' own ``BatchNormalization``) fed from in-memory
  numpy arrays with ``model.fit``, in a process that imports TensorFlow first and so runs with TensorFlow's
  defaults (the way most Keras code is written);
- ``sampleaudio``: the project's path with the package's CPU defaults for this model
  (:func:`sampleaudio.cpu.choose`: oneDNN, precision, XLA, threads, ``steps_per_execution`` from the CPU's
  instruction set and the model's width; the precision is what ``mixed_precision="auto"`` trains in), its fused-kernel ``BatchNormalization``, batches from the tf.data pipeline over
  a TFRecord store (parallel parse, crop, prefetch);
- any other arm is the sampleaudio arm with settings overridden, ``key=value`` joined by commas: ``onednn=0|1``,
  ``jit=0|1`` (XLA), ``intra=N`` / ``inter=N`` (TensorFlow's op thread pools), ``spe=N``
  (``steps_per_execution``), ``bn=keras`` (Keras' BatchNormalization instead of the fused kernel),
  ``bf16=1|0`` (``mixed_bfloat16`` policy, or float32, over the package's choice), ``fpmath=BF16`` (``TF_SET_ONEDNN_FPMATH_MODE``: oneDNN may compute
  float32 convolutions in bfloat16), ``caller=1`` (``TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD``).

Every training figure is the median step time of ``--steps`` steps (the first, which traces, falls out) and the
median CPU time (user + system of the whole process, ``resource.getrusage``) of the same steps; CPU time is
less disturbed by other load on a shared machine than wall time. The arms are interleaved (arm A, arm B, ...,
repeat ``--repeats`` times) so slow phases of a shared machine hit every arm alike; compare ratios within one
run. GFLOP/s is a hand count of the model's multiply-adds (every ``Conv1D`` and ``Dense``: forward 2 FLOPs per
multiply-add, training 3x forward, less the first conv's input gradient, which is not computed) divided by the
median step time, and by the median CPU seconds per step. Inference (``predict_on_batch`` on batches of 64)
is measured in the sampleaudio arms. The store is a small synthetic one made in a temporary folder (random noise clips), so the benchmark needs no
dataset. Speed is measured here and reported in docs/performance.md, never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

KEYS = {"onednn": int, "jit": int, "intra": int, "inter": int, "spe": int, "bn": str, "bf16": int, "fpmath": str,
        "caller": int}
#: arm keys that are environment variables TensorFlow reads at import
ENV_KEYS = {"fpmath": "TF_SET_ONEDNN_FPMATH_MODE", "caller": "TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD"}


class _Noise:
    def __call__(self, clip):
        rng = np.random.default_rng(int(clip.source))
        return (0.1 * rng.standard_normal(int(clip.duration * 22050))).astype(np.float32)


def _store(task, root: str, clips: int = 64) -> str:
    from sampleaudio.data_prep import get_info
    from sampleaudio.families.samplecnn.params import KIM2019_SIZES
    from sampleaudio.stores import Clip, write_dataset

    out = os.path.join(root, task.name)
    seconds = 3 * KIM2019_SIZES[task.name][1] / 22050
    items = [Clip(f"c{k:04d}", "train" if k % 8 else "valid", (k % task.num_classes,), str(k), duration=seconds)
             for k in range(clips)]
    items += [Clip("t0", "test", (0,), "99999", duration=seconds)]
    write_dataset(items, out, info=get_info(task.name), labels=[f"l{i}" for i in range(task.num_classes)],
                  converter="benchmark", converter_version="0", loader=_Noise(),
                  progress=False)
    return out


def parse_arm(arm: str) -> dict:
    """``"onednn=0,jit=1"`` -> ``{"onednn": 0, "jit": 1}``; ``plain`` and ``sampleaudio`` -> ``{}``."""
    if arm in ("plain", "sampleaudio"):
        return {}
    out = {}
    for part in arm.split(","):
        key, _, value = part.partition("=")
        if key not in KEYS or not value:
            raise SystemExit(f"throughput.py: error: arm {arm!r}: {part!r} is not one of "
                             f"{', '.join(k + '=...' for k in KEYS)}")
        out[key] = KEYS[key](value)
    return out


def train_flops(model, batch: int) -> float:
    """FLOPs of one training step of ``model`` (built with a fixed ``input_length``), hand-counted from its
    ``Conv1D`` and ``Dense`` layers (see the module doc)."""
    import keras

    forward, first = 0.0, None
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            steps = layer.output.shape[1]
            macs = steps * layer.kernel_size[0] * layer.input.shape[-1] * layer.filters
            first = macs if first is None else first
        elif isinstance(layer, keras.layers.Dense):
            positions = int(np.prod(layer.input.shape[1:-1])) if len(layer.input.shape) > 2 else 1
            macs = positions * layer.input.shape[-1] * layer.units
        else:
            continue
        forward += 2.0 * macs * batch
    return 3.0 * forward - 2.0 * (first or 0) * batch


def _cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _median_step(model, fit, spe: int) -> tuple[float, float]:
    """Median wall and CPU seconds per step inside ``fit`` (the first, tracing call falls out)."""
    import keras

    stamps: list[tuple[float, float]] = []

    class Stamps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch_index, logs=None):
            stamps.append((time.perf_counter(), _cpu_seconds()))

    fit(Stamps())
    wall = np.diff([s[0] for s in stamps]) / spe
    cpu = np.diff([s[1] for s in stamps]) / spe
    return float(np.median(wall)), float(np.median(cpu))


def _measure(arm: str, preset: str, data: str, width: int, block: str, batch: int, steps: int,
             inference: bool) -> dict:
    """One arm in this (fresh) process."""
    over = parse_arm(arm)
    if arm == "plain":
        import tensorflow  # noqa: F401  (first: TensorFlow's own defaults, before sampleaudio's)
    importlib.import_module("sampleaudio")  # before keras, so that sampleaudio's CPU setting applies to its arms
    from sampleaudio import cpu

    settings = None
    if arm != "plain":  # what `sampleaudio train` does before it imports TensorFlow, then the arm's overrides
        settings = cpu.choose(init_features=width)
        settings = cpu.CpuSettings(**{**settings.__dict__, **{
            f: over[k] for k, f in (("onednn", "onednn"), ("jit", "jit_compile"), ("intra", "intra_op_threads"),
                                    ("inter", "inter_op_threads"), ("spe", "steps_per_execution")) if k in over}})
        cpu.apply(settings)
        for key, var in ENV_KEYS.items():
            if key in over:
                os.environ[var] = str(over[key])
    import keras

    from sampleaudio.data_prep import task_for
    from sampleaudio.families.samplecnn.params import KIM2019_SIZES
    from sampleaudio.models import from_preset
    from sampleaudio.pipeline import train_dataset

    task, segment = task_for(preset), KIM2019_SIZES[preset][1]
    # the package's default for this width, float32 where the arm turns oneDNN off (as sampleaudio.cpu.choose does)
    precision = "off" if settings is None or settings.onednn == 0 else settings.mixed_precision
    if "bf16" in over:
        precision = "bfloat16" if over["bf16"] else "off"
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    model = from_preset(preset, block=block, multi=True, init_features=width)
    flops = train_flops(from_preset(preset, block=block, multi=True, init_features=width,
                                    input_length=segment), batch)
    if arm == "plain" or over.get("bn") == "keras":
        model = _with_keras_batch_norm(model)
    spe = settings.steps_per_execution if settings else 1
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), task.loss,
                  jit_compile=bool(settings and settings.jit_compile), steps_per_execution=spe)
    n = (steps + 1) * spe
    if arm == "plain":
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch * n, segment, 1)).astype(np.float32)
        y = np.eye(task.num_classes, dtype=np.float32)[rng.integers(0, task.num_classes, batch * n)]
        wall, cpu_s = _median_step(model, lambda cb: model.fit(x, y, batch_size=batch, epochs=1, verbose=0,
                                                                callbacks=[cb]), spe)
    else:
        ds = train_dataset(data, segment=segment, batch_size=batch, seed=0, drop_remainder=True)
        wall, cpu_s = _median_step(model, lambda cb: model.fit(ds, steps_per_epoch=n, epochs=1, verbose=0,
                                                                callbacks=[cb]), spe)
    result = {"train": batch / wall, "step_s": wall, "cpu_s": cpu_s, "flops": flops,
              "precision": "bfloat16" if precision == "bfloat16" else "float32",
              "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default"),
              "intra": os.environ.get("TF_NUM_INTRAOP_THREADS", "default"),
              "inter": os.environ.get("TF_NUM_INTEROP_THREADS", "default")}
    if inference and arm != "plain":
        x = np.random.default_rng(1).standard_normal((64, segment, 1)).astype(np.float32)
        model.predict_on_batch(x)
        times = []
        for _ in range(2):
            start = time.perf_counter()
            model.predict_on_batch(x)
            times.append(time.perf_counter() - start)
        result["inference"] = 64 / min(times)
        it = iter(train_dataset(data, segment=segment, batch_size=batch, seed=0))
        for _ in range(5):
            next(it)
        start = time.perf_counter()
        for _ in range(100):
            next(it)
        result["pipeline"] = 100 * batch / (time.perf_counter() - start)
    return result


def _with_keras_batch_norm(model):
    """The same model with Keras' own BatchNormalization layers (same names and weights)."""
    import keras

    from sampleaudio.models import BatchNormalization

    def clone(layer):
        if isinstance(layer, BatchNormalization):
            return keras.layers.BatchNormalization.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def _child(arm: str, preset: str, data: str, args) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for var in ("TF_ENABLE_ONEDNN_OPTS", "SAMPLEAUDIO_ONEDNN", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                "_SAMPLEAUDIO_CPU_SET", *ENV_KEYS.values()):
        env.pop(var, None)  # each arm decides; the user's shell does not leak into the comparison
    cmd = [sys.executable, os.path.abspath(__file__), "--child", arm, "--presets", preset, "--data", data,
           "--width", str(args.width), "--block", args.block, "--batch-size", str(args.batch_size),
           "--steps", str(args.steps)] + (["--no-inference"] if not args.inference else [])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"arm {arm} on {preset} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"  {arm}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def cpu_flags() -> str:
    """The vector extensions in ``/proc/cpuinfo`` that decide which kernels win (AVX2, AVX-512, AMX)."""
    from sampleaudio import cpu

    return cpu.describe()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--presets", nargs="+", default=["mtat"], choices=["mtat", "speech-commands", "dcase2017"])
    p.add_argument("--width", type=int, default=128, help="init_features (128 = the paper's model)")
    p.add_argument("--block", default="se")
    p.add_argument("--batch-size", type=int, default=23)
    p.add_argument("--steps", type=int, default=4, help="timed training steps per measurement (median)")
    p.add_argument("--repeats", type=int, default=2, help="fresh processes per arm, interleaved")
    p.add_argument("--arms", nargs="+", default=["plain", "sampleaudio", "onednn=0", "onednn=1"],
                   help="arms to compare (see the module doc); the first is the baseline of the ratio column")
    p.add_argument("--no-inference", dest="inference", action="store_false",
                   help="skip predict_on_batch and the input pipeline")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    for arm in args.arms + ([args.child] if args.child else []):
        parse_arm(arm)
    if args.child:
        print(json.dumps(_measure(args.child, args.presets[0], args.data, args.width, args.block,
                                  args.batch_size, args.steps, args.inference)))
        return 0

    from sampleaudio.data_prep import task_for

    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for name in args.presets:
            data = _store(task_for(name), root)
            runs: dict[str, list[dict]] = {arm: [] for arm in args.arms}
            for _ in range(args.repeats):
                for arm in args.arms:  # interleaved, so slow phases of a shared machine hit every arm alike
                    runs[arm].append(_child(arm, name, data, args))
            rows.append((name, runs))

    import keras

    base = args.arms[0]
    print(f"\nSampleCNN {args.block}+multi, width {args.width}, batch {args.batch_size}: training segments/s, "
          f"median (min-max) of {args.repeats} fresh processes per arm, {args.steps} timed steps each; "
          f"{os.cpu_count()} CPU threads, CPU flags: {cpu_flags()}; keras {keras.__version__}\n")
    print(f"| preset | arm | oneDNN | precision | threads intra/inter | segments/s | CPU s per step | GFLOP/s (wall) | GFLOP per CPU s | vs {base} "
          f"(wall) | vs {base} (CPU) | inference segments/s | pipeline segments/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, runs in rows:
        med = {a: statistics.median(r["train"] for r in runs[a]) for a in runs}
        cpu_s = {a: statistics.median(r["cpu_s"] for r in runs[a]) for a in runs}
        for arm, rs in runs.items():
            rates = [r["train"] for r in rs]
            inf = [r["inference"] for r in rs if "inference" in r]
            pipe = [r["pipeline"] for r in rs if "pipeline" in r]
            gflops = rs[0]["flops"] * med[arm] / args.batch_size / 1e9
            print(f"| {name} | {arm} | {rs[0]['onednn']} | {rs[0]['precision']} | {rs[0]['intra']}/{rs[0]['inter']} | {med[arm]:.2f} "
                  f"({min(rates):.2f}-{max(rates):.2f}) | {cpu_s[arm]:.2f} | {gflops:.0f} | "
                  f"{rs[0]['flops'] / cpu_s[arm] / 1e9:.0f} | "
                  f"{med[arm] / med[base]:.2f}x | {cpu_s[base] / cpu_s[arm]:.2f}x | "
                  f"{statistics.median(inf) if inf else float('nan'):.1f} | "
                  f"{statistics.median(pipe) if pipe else float('nan'):.0f} |")
        print(f"\n({name}: {runs[base][0]['flops'] / 1e9:.1f} GFLOP per training step, hand count)")
    print(f"(benchmark wall time {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
