"""Training and inference throughput of the paper's SampleCNN on an accelerator, in float32 and mixed precision.

    # here (TensorFlow + sampleaudio): the paper's MTAT model (SE, multi-level, width 128) as a stock-Keras graph
    python benchmarks/gpu_throughput.py write-model --out /tmp/samplecnn_mtat.json
    # on the accelerator's machine, any Keras 3 backend (KERAS_BACKEND=jax runs every step as one XLA program)
    KERAS_BACKEND=jax python benchmarks/gpu_throughput.py measure --model /tmp/samplecnn_mtat.json

Why two steps: the GPU machines this project is lent carry JAX and PyTorch but no TensorFlow, and the TensorFlow
wheel is far larger than what can travel to them. ``write-model`` therefore builds the package's model
(:func:`sampleaudio.models.SampleCNN`, Kim, Lee, Nam 2019 Sec. III, the configuration of
``benchmarks/throughput.py``'s MTAT preset) and writes its Keras graph with the package's two custom classes
replaced by stock Keras ones that compute the same thing at the same cost: ``sampleaudio>BatchNormalization``
(Keras' layer whose training pass uses TensorFlow's fused kernel on the TensorFlow backend only; on any other
backend it *is* Keras' layer) and the ``jstsp`` initialiser (initial values do not change a step's cost).
The graph is written under the ``mixed_float16`` policy, so that the layers the package keeps in float32 (the
output activation) are marked; ``measure`` gives every other layer the policy being measured.

``measure`` times ``train_on_batch`` (SGD with Nesterov momentum as the paper's, binary cross-entropy; the
batch already on the device) and ``predict_on_batch``: median wall time per step after the compiling calls,
segments per second, and GFLOP/s from the same hand count as ``benchmarks/throughput.py`` (forward 2 FLOPs per
multiply-add of every ``Conv1D`` and ``Dense``; training 3x forward less the first conv's input gradient). It
prints a Markdown table and writes the figures as JSON (``--json``). Speed is measured here and reported in
docs/performance.md, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from throughput import train_flops  # noqa: E402  (the benchmarks' shared FLOP count)

#: registered name of a package class -> the stock Keras class that computes the same at the same cost
_STOCK = {
    "sampleaudio>BatchNormalization": {"module": "keras.layers", "class_name": "BatchNormalization",
                                       "registered_name": None},
    "sampleaudio>AudioVarianceScaling": {"module": "keras.initializers", "class_name": "GlorotUniform",
                                         "config": {"seed": None}, "registered_name": None},
}
_MARKER = "mixed_float16"  # the policy write-model builds under: "any layer that follows the global policy"


def stock_keras_config(node):
    """``node`` (a model's JSON config) with the package's classes replaced by stock Keras ones (see ``_STOCK``)."""
    if isinstance(node, list):
        return [stock_keras_config(v) for v in node]
    if not isinstance(node, dict):
        return node
    name = node.get("registered_name")
    if isinstance(name, str) and name.startswith("sampleaudio>"):
        if name not in _STOCK:
            raise SystemExit(f"gpu_throughput.py: error: no stock Keras stand-in for {name}")
        swap = dict(_STOCK[name])
        out = {k: stock_keras_config(v) for k, v in node.items()}
        out.update({k: v for k, v in swap.items() if k != "config"})
        if "config" in swap:
            out["config"] = swap["config"]
        return out
    return {k: stock_keras_config(v) for k, v in node.items()}


def write_model(out: str, *, width: int, block: str, multi: bool) -> None:
    import keras

    keras.mixed_precision.set_global_policy(_MARKER)
    from sampleaudio.models import SampleCNN

    model = SampleCNN(block=block, multi=multi, num_blocks=9, num_classes=50, activation="sigmoid",
                      init_features=width, input_length=59049)
    config = stock_keras_config(json.loads(model.to_json()))
    with open(out, "w") as f:
        json.dump(config, f)
    print(f"wrote {out}: SampleCNN block={block} multi={multi} width={width}, {model.count_params():,} weights")


def _with_policy(node, policy: str):
    if isinstance(node, list):
        return [_with_policy(v, policy) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("class_name") == "DTypePolicy" and node.get("config", {}).get("name") == _MARKER:
        return {**node, "config": {**node["config"], "name": policy}}
    return {k: _with_policy(v, policy) for k, v in node.items()}


def _median_seconds(call, steps: int) -> float:
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        call()  # returns host values (train_on_batch's logs, predict's numpy), so the device has finished
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_one(config: dict, policy: str, batch: int, steps: int, infer_batch: int, seed: int = 0) -> dict:
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.models.model_from_json(json.dumps(_with_policy(config, policy)))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True),
                  loss="binary_crossentropy", jit_compile=True)
    rng = np.random.default_rng(seed)
    length = model.input_shape[1]
    x = (0.1 * rng.standard_normal((batch, length, 1))).astype("float32")
    y = (rng.random((batch, model.output_shape[-1])) < 0.1).astype("float32")
    x, y = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)  # on the device before timing
    start = time.perf_counter()
    model.train_on_batch(x, y)
    compile_s = time.perf_counter() - start
    model.train_on_batch(x, y)
    step = _median_seconds(lambda: model.train_on_batch(x, y), steps)
    xi = keras.ops.convert_to_tensor((0.1 * rng.standard_normal((infer_batch, length, 1))).astype("float32"))
    model.predict_on_batch(xi)
    infer = _median_seconds(lambda: model.predict_on_batch(xi), steps)
    flops = train_flops(model, batch)
    forward = (flops + 2.0 * _first_conv_macs(model) * batch) / 3.0 / batch * infer_batch
    return {"policy": policy, "batch": batch, "compile_s": compile_s, "step_s": step,
            "train_segments_per_s": batch / step, "train_tflops": flops / step / 1e12,
            "infer_batch": infer_batch, "infer_s": infer, "infer_segments_per_s": infer_batch / infer,
            "infer_tflops": forward / infer / 1e12, "loss_finite": bool(np.isfinite(
                float(model.evaluate(x, y, verbose=0, return_dict=True)["loss"])))}


def _first_conv_macs(model) -> float:
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            return layer.output.shape[1] * layer.kernel_size[0] * layer.input.shape[-1] * layer.filters
    return 0.0


def _device() -> str:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return f"{jax.devices()[0].device_kind} (jax {jax.__version__})"
    if backend == "torch":
        import torch

        return f"{torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'} (torch {torch.__version__})"
    import tensorflow as tf

    return f"{[d.name for d in tf.config.list_physical_devices()]} (tensorflow {tf.__version__})"


def measure(path: str, policies: list[str], batches: list[int], steps: int, infer_batch: int,
            json_out: str | None) -> None:
    import keras

    with open(path) as f:
        config = json.load(f)
    device = _device()
    print(f"# SampleCNN from {os.path.basename(path)} on {device}, Keras {keras.__version__} "
          f"({keras.backend.backend()} backend, jit_compile=True), Python {platform.python_version()}", flush=True)
    rows = []
    for batch in batches:
        for policy in policies:
            row = measure_one(config, policy, batch, steps, infer_batch)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if json_out:
                with open(json_out, "w") as f:
                    json.dump({"device": device, "keras": keras.__version__, "backend": keras.backend.backend(),
                               "steps": steps, "rows": rows}, f, indent=1)
    print(f"\n| batch | policy | compile s | ms per training step | training segments/s | training TFLOP/s "
          f"| inference segments/s (batch {infer_batch}) | inference TFLOP/s | vs float32 (training) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        base = next(r for r in rows if r["batch"] == row["batch"] and r["policy"] == policies[0])
        print(f"| {row['batch']} | {row['policy']} | {row['compile_s']:.0f} | {1e3 * row['step_s']:.1f} | "
              f"{row['train_segments_per_s']:.0f} | {row['train_tflops']:.1f} | {row['infer_segments_per_s']:.0f} | "
              f"{row['infer_tflops']:.1f} | {base['step_s'] / row['step_s']:.2f}x |")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write-model", help="write the paper's SampleCNN as a stock-Keras JSON graph (needs "
                                           "TensorFlow and sampleaudio)")
    w.add_argument("--out", required=True)
    w.add_argument("--width", type=int, default=128, help="init_features (128 = the paper's model)")
    w.add_argument("--block", default="se")
    w.add_argument("--no-multi", action="store_true", help="last block only instead of multi-level features")
    m = sub.add_parser("measure", help="time training and inference steps on the active Keras backend")
    m.add_argument("--model", required=True, help="a JSON graph from write-model")
    m.add_argument("--policies", nargs="+", default=["float32", "mixed_float16", "mixed_bfloat16"],
                   help="Keras dtype policies; the first is the baseline of the ratio column")
    m.add_argument("--batch-sizes", nargs="+", type=int, default=[23, 92],
                   help="training batch sizes (23 = the paper's)")
    m.add_argument("--steps", type=int, default=20, help="timed calls per measurement (median)")
    m.add_argument("--infer-batch", type=int, default=256, help="segments per predict_on_batch")
    m.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    if args.command == "write-model":
        write_model(args.out, width=args.width, block=args.block, multi=not args.no_multi)
    else:
        measure(args.model, args.policies, args.batch_sizes, args.steps, args.infer_batch, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
