"""Training, inference and input-pipeline throughput (segments per second) of SampleCNN, printed as a table.

    python benchmarks/throughput.py                                  # MTAT, the paper's width 128, every arm
    python benchmarks/throughput.py --width 32 --steps 10 --repeats 3
    python benchmarks/throughput.py --arms plain sampleaudio onednn=0 onednn=1 jit=1 intra=2,inter=1 spe=4
    python benchmarks/throughput.py --width 4 --blocks 5 --segment 729 --steps 2 --repeats 1   # a quick check

Arms (each in its own fresh process, because ``TF_ENABLE_ONEDNN_OPTS`` is read when TensorFlow is imported):

- ``plain``: a plain Keras build of the same topology (Keras' own ``BatchNormalization``) fed from in-memory
  numpy arrays with ``model.fit``, in a process that imports TensorFlow first and so runs with TensorFlow's
  defaults (the way most Keras code is written);
- ``plain-bf16``: the same with Keras' ``mixed_bfloat16`` policy, the one-line switch any Keras user can make,
  so that the package's own gain is told apart from the precision's;
- ``sampleaudio``: the project's path with the package's CPU defaults for this model
  (:func:`sampleaudio.cpu.choose`: oneDNN, precision, XLA, threads, ``steps_per_execution`` from the CPU's
  instruction set and the model's width; the precision is what ``mixed_precision="auto"`` trains in), its
  fused-kernel ``BatchNormalization``, batches from the tf.data pipeline over a TFRecord store (parallel parse,
  crop, prefetch);
- ``torch``, ``torch-bf16``, ``torch-compile``, ``torch-compile-bf16``: the same model written in PyTorch
  (``benchmarks/torch_samplecnn.py``: the package's topology in the style of Won et al.'s SMC 2020 PyTorch code),
  trained from in-memory tensors in eager mode or under ``torch.compile`` (inductor), in float32 or under
  ``torch.autocast("cpu", dtype=torch.bfloat16)``; the arms need the ``bench`` extra (PyTorch). Before they
  run, one process builds both models and compares their parameter counts and their FLOPs (the Keras hand count
  below against ``torch.utils.flop_counter``); PyTorch arms whose model differs are failed, not timed;
- any other arm is the sampleaudio arm with settings overridden, ``key=value`` joined by commas: ``onednn=0|1``,
  ``jit=0|1`` (XLA), ``intra=N`` / ``inter=N`` (TensorFlow's op thread pools), ``spe=N``
  (``steps_per_execution``), ``bn=keras`` (Keras' BatchNormalization instead of the fused kernel),
  ``bf16=1|0`` (``mixed_bfloat16`` policy, or float32, over the package's choice), ``fpmath=BF16``
  (``TF_SET_ONEDNN_FPMATH_MODE``: oneDNN may compute float32 convolutions in bfloat16), ``caller=1``
  (``TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD``).

Every arm trains the same step: forward and backward of the batch (23 by default), binary cross-entropy over the
sigmoid outputs (categorical cross-entropy for single-label presets), SGD with Nesterov momentum (lr 0.01,
momentum 0.9). Every training figure is the median step time of ``--steps`` steps (the first, which traces or
compiles, falls out: one step in Keras and eager PyTorch, two under ``torch.compile``) and the median CPU time
(user + system of the whole process, all threads, ``resource.getrusage``) of the same steps; CPU time is less
disturbed by other load on a shared machine than wall time. The arms are interleaved (arm A, arm B, ...,
repeat ``--repeats`` times) so slow phases of a shared machine hit every arm alike; compare ratios within one
run. GFLOP/s is a hand count of the model's multiply-adds (every ``Conv1D`` and ``Dense``: forward 2 FLOPs per
multiply-add, training 3x forward, less the first conv's input gradient, which is not computed) divided by the
median step time, and by the median CPU seconds per step. ``warm-up s`` is the wall time of the PyTorch steps
that fall out; under ``torch.compile`` it is mostly compilation, and shorter when inductor's on-disk cache (in the
system's temporary folder) still holds the graph from an earlier run.

The machine limit (``--no-limit`` to skip) is measured in its own processes, interleaved with the arms: large
matrix products and the model's block-0 and block-3 forward convolutions in float32 and bfloat16, with PyTorch and
TensorFlow (``benchmarks/bench_common.py``); each arm's GFLOP per CPU second is printed as a share of the best
rate of its precision. Inference (``predict_on_batch`` on batches of 64) and the input pipeline are measured in
the sampleaudio arms. The store is a small synthetic one made in a temporary folder (random noise clips), so the
benchmark needs no dataset. The table starts with the date, the CPU, the load average before and after, and the
frameworks' versions. Speed is measured here and reported in docs/performance.md, never asserted in tests.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import (  # noqa: E402
    best_limits,
    conv_shapes,
    fmt,
    header,
    load_average,
    markdown,
    measure_limit,
    now,
    run_child,
)

KEYS = {"onednn": int, "jit": int, "intra": int, "inter": int, "spe": int, "bn": str, "bf16": int, "fpmath": str,
        "caller": int}
#: arm keys that are environment variables TensorFlow reads at import
ENV_KEYS = {"fpmath": "TF_SET_ONEDNN_FPMATH_MODE", "caller": "TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD"}
#: plain Keras arms -> their Keras dtype policy
PLAIN_ARMS = {"plain": "float32", "plain-bf16": "mixed_bfloat16"}
#: PyTorch arms -> (torch.compile, bfloat16 autocast)
TORCH_ARMS = {"torch": (False, False), "torch-bf16": (False, True), "torch-compile": (True, False),
              "torch-compile-bf16": (True, True)}
#: processes that are not arms: the model check and the machine limit of each framework
_CHILDREN = ("check", "limit-torch", "limit-tf")


def torch_installed() -> bool:
    """Whether PyTorch (the ``bench`` extra) is importable, without importing it."""
    return importlib.util.find_spec("torch") is not None


class _Noise:
    def __call__(self, clip):
        rng = np.random.default_rng(int(clip.source))
        return (0.1 * rng.standard_normal(int(clip.duration * 22050))).astype(np.float32)


def _store(task, root: str, segment: int, clips: int = 64) -> str:
    from sampleaudio.data_prep import get_info
    from sampleaudio.stores import Clip, write_dataset

    out = os.path.join(root, task.name)
    seconds = 3 * segment / 22050
    items = [Clip(f"c{k:04d}", "train" if k % 8 else "valid", (k % task.num_classes,), str(k), duration=seconds)
             for k in range(clips)]
    items += [Clip("t0", "test", (0,), "99999", duration=seconds)]
    write_dataset(items, out, info=get_info(task.name), labels=[f"l{i}" for i in range(task.num_classes)],
                  converter="benchmark", converter_version="0", loader=_Noise(),
                  progress=False)
    return out


def parse_arm(arm: str) -> dict:
    """``"onednn=0,jit=1"`` -> ``{"onednn": 0, "jit": 1}``; named arms (``plain``, ``sampleaudio``, ``torch``
    ...) -> ``{}``."""
    if arm in ("sampleaudio", *PLAIN_ARMS, *TORCH_ARMS):
        return {}
    out = {}
    for part in arm.split(","):
        key, _, value = part.partition("=")
        if key not in KEYS or not value:
            raise SystemExit(f"throughput.py: error: arm {arm!r}: {part!r} is not one of "
                             f"{', '.join(k + '=...' for k in KEYS)} (or a named arm: sampleaudio, "
                             f"{', '.join([*PLAIN_ARMS, *TORCH_ARMS])})")
        out[key] = KEYS[key](value)
    return out


def sizes(preset: str, blocks: int | None, segment: int | None) -> tuple[int, int]:
    """(blocks, segment) of the run: the preset's (Kim 2019) unless overridden."""
    from sampleaudio.families.samplecnn.params import KIM2019_SIZES

    return blocks or KIM2019_SIZES[preset][0], segment or KIM2019_SIZES[preset][1]


def forward_flops(model, batch: int) -> tuple[float, float]:
    """(forward FLOPs of ``batch`` segments, FLOPs of the first conv alone) of ``model`` (built with a fixed
    ``input_length``), hand-counted from its ``Conv1D`` and ``Dense`` layers: 2 FLOPs per multiply-add."""
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
    return forward, 2.0 * (first or 0) * batch


def train_flops(model, batch: int) -> float:
    """FLOPs of one training step of ``model`` (built with a fixed ``input_length``), hand-counted from its
    ``Conv1D`` and ``Dense`` layers (see the module doc)."""
    forward, first = forward_flops(model, batch)
    return 3.0 * forward - first


def keras_counts(preset: str, *, width: int, block: str, num_blocks: int, segment: int, batch: int) -> dict:
    """Trainable and non-trainable parameters and training FLOPs of the Keras model every TensorFlow arm trains."""
    from sampleaudio.models import from_preset

    model = from_preset(preset, block=block, multi=True, init_features=width, num_blocks=num_blocks,
                        input_length=segment)
    return {"trainable": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "non_trainable": int(sum(np.prod(w.shape) for w in model.non_trainable_weights)),
            "flops": train_flops(model, batch), "forward_flops": forward_flops(model, 1)[0]}


def torch_counts(preset: str, *, width: int, block: str, num_blocks: int, segment: int, batch: int) -> dict:
    """The same counts of the PyTorch model (``torch_samplecnn``), its FLOPs from ``torch.utils.flop_counter``."""
    import torch_samplecnn as ts

    from sampleaudio.data_prep import task_for

    task = task_for(preset)
    model = ts.SampleCNN(init_features=width, num_blocks=num_blocks, num_classes=task.num_classes, block=block)
    trainable, stats = ts.param_counts(model)
    return {"trainable": trainable, "non_trainable": stats,
            "flops": ts.train_flops(model, segment, batch, task.multi_label),
            "forward_flops": ts.forward_flops(model, segment)}


def compare_counts(keras_c: dict, torch_c: dict) -> str | None:
    """``None`` when both models have the same parameters and FLOPs, training and forward (to 1e-6), else what
    differs."""
    diff = [f"{k}: Keras {keras_c[k]:,.0f}, PyTorch {torch_c[k]:,.0f}"
            for k in ("trainable", "non_trainable", "flops", "forward_flops")
            if abs(keras_c[k] - torch_c[k]) > 1e-6 * max(1.0, abs(keras_c[k]))]
    return "; ".join(diff) or None


def _median_step(model, fit, spe: int) -> tuple[float, float]:
    """Median wall and CPU seconds per step inside ``fit`` (the first, tracing call falls out)."""
    import keras
    from bench_common import cpu_seconds

    stamps: list[tuple[float, float]] = []

    class Stamps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch_index, logs=None):
            stamps.append((time.perf_counter(), cpu_seconds()))

    fit(Stamps())
    wall = np.diff([s[0] for s in stamps]) / spe
    cpu = np.diff([s[1] for s in stamps]) / spe
    return float(np.median(wall)), float(np.median(cpu))


def _measure_torch(arm: str, preset: str, args) -> dict:
    """One PyTorch arm in this (fresh) process; TensorFlow is not imported."""
    import torch_samplecnn as ts

    from sampleaudio.data_prep import task_for

    task = task_for(preset)
    num_blocks, segment = sizes(preset, args.blocks, args.segment)
    compiled, bf16 = TORCH_ARMS[arm]
    r = ts.measure_train(compiled=compiled, bf16=bf16, width=args.width, num_blocks=num_blocks,
                         num_classes=task.num_classes, multi_label=task.multi_label, block=args.block,
                         segment=segment, batch=args.batch_size, steps=args.steps)
    return {"train": args.batch_size / r["step_s"], "step_s": r["step_s"], "cpu_s": r["cpu_s"],
            "compile_s": r["compile_s"], "precision": "bfloat16 (autocast)" if bf16 else "float32",
            "framework": "PyTorch, torch.compile" if compiled else "PyTorch, eager", "onednn": "torch's own",
            "intra": str(r["threads"]), "inter": "-"}


def _measure(arm: str, preset: str, data: str, args) -> dict:
    """One arm in this (fresh) process."""
    if arm in TORCH_ARMS:
        return _measure_torch(arm, preset, args)
    over = parse_arm(arm)
    plain = arm in PLAIN_ARMS
    if plain:
        import tensorflow  # noqa: F401  (first: TensorFlow's own defaults, before sampleaudio's)
    importlib.import_module("sampleaudio")  # before keras, so that sampleaudio's CPU setting applies to its arms
    from sampleaudio import cpu

    settings = None
    if not plain:  # what `sampleaudio train` does before it imports TensorFlow, then the arm's overrides
        settings = cpu.choose(init_features=args.width)
        settings = cpu.CpuSettings(**{**settings.__dict__, **{
            f: over[k] for k, f in (("onednn", "onednn"), ("jit", "jit_compile"), ("intra", "intra_op_threads"),
                                    ("inter", "inter_op_threads"), ("spe", "steps_per_execution")) if k in over}})
        cpu.apply(settings)
        for key, var in ENV_KEYS.items():
            if key in over:
                os.environ[var] = str(over[key])
    import keras

    from sampleaudio.data_prep import task_for
    from sampleaudio.models import from_preset
    from sampleaudio.pipeline import train_dataset

    task = task_for(preset)
    num_blocks, segment = sizes(preset, args.blocks, args.segment)
    batch, width, block = args.batch_size, args.width, args.block
    # the package's default for this width, float32 where the arm turns oneDNN off (as sampleaudio.cpu.choose does)
    if plain:
        precision = "bfloat16" if PLAIN_ARMS[arm] == "mixed_bfloat16" else "off"
    else:
        precision = "off" if settings.onednn == 0 else settings.mixed_precision
    if "bf16" in over:
        precision = "bfloat16" if over["bf16"] else "off"
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    model = from_preset(preset, block=block, multi=True, init_features=width, num_blocks=num_blocks)
    flops = train_flops(from_preset(preset, block=block, multi=True, init_features=width, num_blocks=num_blocks,
                                    input_length=segment), batch)
    if plain or over.get("bn") == "keras":
        model = _with_keras_batch_norm(model)
    spe = settings.steps_per_execution if settings else 1
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True), task.loss,
                  jit_compile=bool(settings and settings.jit_compile), steps_per_execution=spe)
    n = (args.steps + 1) * spe
    if plain:
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
              "framework": "Keras (TensorFlow)" if plain else "sampleaudio (TensorFlow)",
              "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default"),
              "intra": os.environ.get("TF_NUM_INTRAOP_THREADS", "default"),
              "inter": os.environ.get("TF_NUM_INTEROP_THREADS", "default")}
    if args.inference and not plain:
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


def _run_child(name: str, preset: str, args, data: str = "") -> dict:
    """Child process ``name`` (an arm, the model check, or a framework's machine limit); its JSON result, with
    ``error`` (the end of its stderr) when it failed."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    for var in ("TF_ENABLE_ONEDNN_OPTS", "SAMPLEAUDIO_ONEDNN", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                "_SAMPLEAUDIO_CPU_SET", *ENV_KEYS.values()):
        env.pop(var, None)  # each arm decides; the user's shell does not leak into the comparison
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--presets", preset, "--data", data,
           "--block", args.block, "--steps", str(args.steps), *size_args(args)]
    cmd += [] if args.inference else ["--no-inference"]
    return run_child(name, cmd, env)


def size_args(args) -> list[str]:
    """The size options both benchmarks pass on to their child processes."""
    out = ["--width", str(args.width), "--batch-size", str(args.batch_size), "--limit-n", str(args.limit_n),
           "--limit-reps", str(args.limit_reps)]
    out += ["--blocks", str(args.blocks)] if args.blocks else []
    return out + (["--segment", str(args.segment)] if args.segment else [])


def side_process(name: str, preset: str, args, *, block: str, batch: int):
    """What the processes both benchmarks run beside their arms return: ``check`` (both models' parameters and
    FLOPs at ``batch``) and ``limit-torch`` / ``limit-tf`` (that framework's machine limit); ``None`` for an arm."""
    num_blocks, segment = sizes(preset, args.blocks, args.segment)
    if name == "check":
        kw = {"width": args.width, "block": block, "num_blocks": num_blocks, "segment": segment, "batch": batch}
        out = {"keras": keras_counts(preset, **kw)}
        if torch_installed():
            out["torch"] = torch_counts(preset, **kw)
        return out
    if name.startswith("limit-"):
        from sampleaudio.models import block_widths

        shapes = conv_shapes(block_widths(num_blocks, args.width), args.width, segment, args.batch_size)
        return measure_limit(name.split("-", 1)[1], args.limit_n, shapes, args.limit_reps)
    return None


def _child_main(name: str, preset: str, args) -> object:
    out = side_process(name, preset, args, block=args.block, batch=args.batch_size)
    return _measure(name, preset, args.data, args) if out is None else out


def limit_table_of(limit_runs: list[list[dict]]) -> tuple[object, dict[str, float]]:
    """Median over repeats of each kernel's rates, and the best of each precision."""
    import pandas as pd

    rows = [r for run in limit_runs if isinstance(run, list) for r in run]
    if not rows:
        return None, {}
    df = pd.DataFrame(rows).groupby(["framework", "op", "precision"], sort=False).median().reset_index()
    best = best_limits(df.to_dict("records"))
    table = pd.DataFrame({
        "framework": df["framework"].map({"torch": "PyTorch", "tf": "TensorFlow"}), "kernel": df["op"],
        "precision": df["precision"], "GFLOP": df["gflop"].map(fmt),
        "CPU s": df["cpu_s"].map(fmt), "wall s": df["wall_s"].map(fmt),
        "GFLOP per CPU s": (df["gflop"] / df["cpu_s"]).map(fmt),
        "GFLOP/s (wall)": (df["gflop"] / df["wall_s"]).map(fmt)})
    return table, best


def _arm_rows(name: str, runs: dict, failed: dict, base: str, flops: float, best: dict, batch: int):
    """One table row per arm: medians (min-max) over the repeats, shares of the limit, ratios to ``base``."""
    ok = {a: [r for r in rs if "error" not in r] for a, rs in runs.items()}
    cpu_s = {a: statistics.median(r["cpu_s"] for r in rs) for a, rs in ok.items() if rs}
    step = {a: statistics.median(r["step_s"] for r in rs) for a, rs in ok.items() if rs}
    rows = []
    for arm, rs in runs.items():
        good = ok[arm]
        if arm in failed or not good:
            reason = failed.get(arm) or "; ".join(r["error"] for r in rs)[:300]
            rows.append({"preset": name, "arm": arm, "framework": f"FAILED: {reason}"})
            continue
        r0, cpus, rates = good[0], [r["cpu_s"] for r in good], [r["train"] for r in good]
        limit = best.get("bfloat16" if r0["precision"].startswith("bfloat16") else "float32")
        per_cpu = flops / cpu_s[arm] / 1e9
        inf = [r["inference"] for r in good if "inference" in r]
        pipe = [r["pipeline"] for r in good if "pipeline" in r]
        rows.append({
            "preset": name, "arm": arm, "framework": r0["framework"], "oneDNN": r0["onednn"],
            "precision": r0["precision"], "threads intra/inter": f"{r0['intra']}/{r0['inter']}",
            "segments/s": f"{fmt(batch / step[arm])} ({fmt(min(rates))}-{fmt(max(rates))})",
            "wall s per step": fmt(step[arm]),
            "CPU s per step": f"{fmt(cpu_s[arm])} ({fmt(min(cpus))}-{fmt(max(cpus))})",
            "GFLOP/s (wall)": fmt(flops / step[arm] / 1e9), "GFLOP per CPU s": fmt(per_cpu),
            "% of its precision's limit": f"{100 * per_cpu / limit:.0f} %" if limit else "",
            f"vs {base} (CPU)": f"{cpu_s[base] / cpu_s[arm]:.2f}x" if base in cpu_s else "",
            f"vs {base} (wall)": f"{step[base] / step[arm]:.2f}x" if base in step else "",
            "warm-up s": fmt(statistics.median(r["compile_s"] for r in good)) if "compile_s" in r0 else "",
            "inference segments/s": fmt(statistics.median(inf)) if inf else "",
            "pipeline segments/s": fmt(statistics.median(pipe)) if pipe else ""})
    return rows, cpu_s


def goals(cpu_s: dict, flops: float, best: dict, precision: str | None) -> list[str]:
    """The issue's two targets for the sampleaudio arm, met or not, with the figures."""
    lines = []
    torch_arms = {a: s for a, s in cpu_s.items() if a in TORCH_ARMS}
    if "sampleaudio" in cpu_s and torch_arms:
        fastest = min(torch_arms, key=torch_arms.get)
        ratio = torch_arms[fastest] / cpu_s["sampleaudio"]
        lines.append(f"- sampleaudio vs the fastest PyTorch arm ({fastest}, {torch_arms[fastest]:.2f} CPU s per step): "
                     f"{ratio:.2f}x by CPU time (goal >= 1.5x: {'met' if ratio >= 1.5 else 'NOT met'})")
    if "sampleaudio" in cpu_s and precision and best.get(precision):
        share = flops / cpu_s["sampleaudio"] / 1e9 / best[precision]
        lines.append(f"- sampleaudio: {flops / cpu_s['sampleaudio'] / 1e9:.0f} GFLOP per CPU s = {100 * share:.0f} % "
                     f"of the measured {precision} limit ({best[precision]:.0f}; goal >= 70 %: "
                     f"{'met' if share >= 0.7 else 'NOT met'})")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--presets", nargs="+", default=["mtat"], choices=["mtat", "speech-commands", "dcase2017"])
    p.add_argument("--width", type=int, default=128, help="init_features (128 = the paper's model)")
    p.add_argument("--block", default="se", help="SampleCNN block (the PyTorch arms have se and basic)")
    p.add_argument("--blocks", type=int, default=None, help="blocks after the stem (%(default)s: the preset's, 9 for MTAT)")
    p.add_argument("--segment", type=int, default=None,
                   help="samples per example, at least 3^(blocks+1) (%(default)s: the preset's, 59,049 for MTAT)")
    p.add_argument("--batch-size", type=int, default=23)
    p.add_argument("--steps", type=int, default=4, help="timed training steps per measurement (median)")
    p.add_argument("--repeats", type=int, default=2, help="fresh processes per arm, interleaved")
    p.add_argument("--arms", nargs="+", default=None,
                   help="arms to compare (see the module doc); the first is the baseline of the ratio columns "
                        "(%(default)s: plain plain-bf16 sampleaudio, and the four torch arms when PyTorch is "
                        "installed)")
    p.add_argument("--no-inference", dest="inference", action="store_false",
                   help="skip predict_on_batch and the input pipeline")
    p.add_argument("--no-limit", dest="limit", action="store_false", help="skip the machine limit")
    p.add_argument("--limit-n", type=int, default=4096, help="matrix size of the limit's matrix product")
    p.add_argument("--limit-reps", type=int, default=3, help="timed calls per kernel of the limit (median)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        for arm in [] if args.child in _CHILDREN else [args.child]:
            parse_arm(arm)
        print(json.dumps(_child_main(args.child, args.presets[0], args)))
        return 0
    have_torch = torch_installed()
    if args.arms is None:
        args.arms = ["plain", "plain-bf16", "sampleaudio"] + (list(TORCH_ARMS) if have_torch else [])
        if not have_torch:
            print("throughput.py: PyTorch is not installed; its arms are left out (pip install -e '.[bench]')",
                  file=sys.stderr)
    for arm in args.arms:
        parse_arm(arm)
    wants_torch = [a for a in args.arms if a in TORCH_ARMS]
    if wants_torch and not have_torch:
        raise SystemExit(f"throughput.py: error: arms {wants_torch} need PyTorch: pip install -e '.[bench]'")

    from sampleaudio.data_prep import task_for

    started, load_before = now(), load_average()
    frameworks = (["torch"] if have_torch else []) + ["tf"]
    results = []
    with tempfile.TemporaryDirectory() as root:
        for name in args.presets:
            check = _run_child("check", name, args)
            if "error" in check:
                raise SystemExit(f"throughput.py: error: the model check failed: {check['error']}")
            differ = compare_counts(check["keras"], check["torch"]) if "torch" in check else None
            failed = {a: f"the PyTorch model differs from the Keras one ({differ})" for a in wants_torch if differ}
            data = _store(task_for(name), root, sizes(name, args.blocks, args.segment)[1])
            runs: dict[str, list[dict]] = {arm: [] for arm in args.arms}
            limit_runs: list = []
            for _ in range(args.repeats):
                for arm in args.arms:  # interleaved, so slow phases of a shared machine hit every arm alike
                    if arm not in failed:
                        runs[arm].append(_run_child(arm, name, args, data))
                for fw in frameworks if args.limit else []:
                    limit_runs.append(_run_child(f"limit-{fw}", name, args))
            results.append((name, check, failed, runs, limit_runs))
    load_after = load_average()

    import pandas as pd

    base = args.arms[0]
    print("\n" + header(f"SampleCNN {args.block}+multi, width {args.width}, batch {args.batch_size}: training step "
                        f"time, median (min-max) of {args.repeats} fresh processes per arm, {args.steps} timed "
                        f"steps each", started, load_before, load_after))
    status = 0
    for name, check, failed, runs, limit_runs in results:
        num_blocks, segment = sizes(name, args.blocks, args.segment)
        flops = check["keras"]["flops"]
        counts = [{"model": f"{fw}", "trainable parameters": f"{c['trainable']:,}",
                   "non-trainable (BN statistics)": f"{c['non_trainable']:,}",
                   "GFLOP per training step": f"{c['flops'] / 1e9:.3f}",
                   "counted by": "hand count of Conv1D/Dense" if fw == "Keras" else "torch.utils.flop_counter"}
                  for fw, c in (("Keras", check["keras"]), ("PyTorch", check.get("torch"))) if c]
        print(f"\n### {name}: {num_blocks} blocks, segment {segment:,} samples\n")
        print(markdown(pd.DataFrame(counts)))
        if failed:
            status = 1
            print(f"\nPyTorch arms failed: {next(iter(failed.values()))}")
        limit_table, best = limit_table_of(limit_runs)
        if limit_table is not None:
            print(f"\nMachine limit (median of {args.repeats} processes x {args.limit_reps} calls per kernel; the "
                  "best GFLOP per CPU s of each precision is its limit: "
                  + ", ".join(f"{k} {v:.0f}" for k, v in best.items()) + ")\n")
            print(markdown(limit_table))
        rows, cpu_s = _arm_rows(name, runs, failed, base, flops, best, args.batch_size)
        df = pd.DataFrame(rows).fillna("")
        df = df[[c for c in df.columns if (df[c] != "").any()]]  # columns no arm filled are left out
        print(f"\nTraining, {flops / 1e9:.1f} GFLOP per step\n")
        print(markdown(df))
        sa = [r for r in runs.get("sampleaudio", []) if "error" not in r]
        lines = goals(cpu_s, flops, best, "bfloat16" if sa and sa[0]["precision"] == "bfloat16" else "float32")
        if lines:
            print("\n" + "\n".join(lines))
        status = status or int(any("error" in r for rs in runs.values() for r in rs))
    print(f"\n(benchmark wall time {(now() - started).total_seconds():.0f} s)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
