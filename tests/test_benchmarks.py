"""The benchmarks at tiny sizes (width 4, 5 blocks, 729-sample segments): the PyTorch SampleCNN of the PyTorch arms
is the Keras model's twin (parameters and FLOPs), the machine limit measures what it says, and every arm of
``benchmarks/throughput.py`` and ``benchmarks/tagging.py`` runs once. Speed itself is never asserted."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))  # the benchmarks import each other as scripts do

import bench_common  # noqa: E402
import throughput  # noqa: E402

TINY = {"width": 4, "num_blocks": 5, "segment": 729, "batch": 4}
TINY_ARGS = ["--width", "4", "--blocks", "5", "--segment", "729", "--repeats", "1", "--limit-n", "64",
             "--limit-reps", "1"]


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("preset, block", [("mtat", "se"), ("speech-commands", "basic")])
def test_the_pytorch_model_has_the_keras_models_parameters_and_flops(preset, block):
    pytest.importorskip("torch", reason="the bench extra (PyTorch)")
    keras_c = throughput.keras_counts(preset, block=block, **TINY)
    torch_c = throughput.torch_counts(preset, block=block, **TINY)
    assert keras_c["trainable"] == torch_c["trainable"] > 1000
    assert keras_c["non_trainable"] == torch_c["non_trainable"] > 0
    # the Keras hand count and torch's own flop counter agree, training and forward
    assert torch_c["flops"] == pytest.approx(keras_c["flops"], rel=1e-9)
    assert torch_c["forward_flops"] == pytest.approx(keras_c["forward_flops"], rel=1e-9)
    assert 2.5 * keras_c["forward_flops"] * TINY["batch"] < keras_c["flops"] < 3 * keras_c["forward_flops"] * TINY["batch"]
    assert throughput.compare_counts(keras_c, torch_c) is None


def test_the_model_check_reports_a_difference():
    pytest.importorskip("torch", reason="the bench extra (PyTorch)")
    keras_c = throughput.keras_counts("mtat", block="se", **TINY)
    wider = throughput.torch_counts("mtat", block="se", **{**TINY, "width": 8})
    message = throughput.compare_counts(keras_c, wider)
    assert message is not None and "trainable" in message and "flops" in message


def test_the_machine_limit_counts_the_flops_of_its_kernels():
    import tensorflow  # noqa: F401  (imported by the rest of the suite anyway)

    shapes = bench_common.conv_shapes([4, 4, 8, 8, 16], 4, 729, 2)
    assert shapes == [("block0", 2, 243, 4, 4), ("block3", 2, 9, 8, 8)]
    rows = bench_common.measure_limit("tf", 32, shapes, 1)
    assert [(r["precision"], r["op"].split()[0]) for r in rows] == [
        (p, op) for p in ("float32", "bfloat16") for op in ("matmul", "conv1d", "conv1d")]
    assert rows[0]["gflop"] == pytest.approx(2 * 32 ** 3 / 1e9)
    assert rows[1]["gflop"] == pytest.approx(2 * 2 * 243 * 3 * 4 * 4 / 1e9)
    assert all(r["wall_s"] > 0 for r in rows)
    best = bench_common.best_limits([{"precision": "float32", "gflop": 10.0, "cpu_s": 1.0},
                                     {"precision": "float32", "gflop": 10.0, "cpu_s": 0.5},
                                     {"precision": "bfloat16", "gflop": 3.0, "cpu_s": 1.0}])
    assert best == {"float32": 20.0, "bfloat16": 3.0}


def _run(script: str, *args: str) -> str:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, env=env,
                          timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _rows(text: str, arms) -> dict[str, dict[str, str]]:
    """The rows of the printed Markdown tables whose ``arm`` column is one of ``arms``, as {column: cell}."""
    rows, columns, lines = {}, None, text.splitlines()
    for k, line in enumerate(lines):
        if not line.startswith("|"):
            columns = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if k + 1 < len(lines) and lines[k + 1].startswith("|---"):
            columns = cells
        elif columns and "arm" in columns and cells[columns.index("arm")] in arms:
            rows[cells[columns.index("arm")]] = dict(zip(columns, cells))
    return rows


@pytest.mark.slow
def test_every_training_arm_runs_once():
    arms = ["plain", "plain-bf16", "sampleaudio", "onednn=0"]
    arms += list(throughput.TORCH_ARMS) if _has("torch") else []
    out = _run("throughput.py", *TINY_ARGS, "--batch-size", "4", "--steps", "2", "--arms", *arms)
    rows = _rows(out, arms)
    assert sorted(rows) == sorted(arms), out
    assert not [r for r in rows.values() if r["framework"].startswith("FAILED")], out
    assert "load average (1/5/15 min) before:" in out and "Machine limit" in out
    assert rows["plain-bf16"]["precision"] == "bfloat16" and rows["plain"]["precision"] == "float32"
    assert all(float(r["CPU s per step"].split()[0]) > 0 for r in rows.values())
    if _has("torch"):
        assert "by CPU time (goal >= 1.5x:" in out
        assert rows["torch-compile-bf16"]["precision"] == "bfloat16 (autocast)"


@pytest.mark.slow
def test_every_tagging_arm_runs_once():
    import tagging

    arms = ["plain", "plain-bf16", "sampleaudio", "bf16"]
    arms += list(throughput.TORCH_ARMS) if _has("torch") else []
    arms += list(tagging.MUSICNN_ARMS) if _has("musicnn") else []
    out = _run("tagging.py", *TINY_ARGS, "--files", "2", "--seconds", "3.5", "--batch-size", "8", "--arms", *arms)
    rows = _rows(out, arms)
    assert sorted(rows) == sorted(arms), out
    assert not [r for r in rows.values() if r["framework"].startswith("FAILED")], out
    # every SampleCNN arm tagged the same segments: 2 files x 3.5 s at 22,050 Hz in 729-sample segments
    segments = {r["segments"] for arm, r in rows.items() if not arm.startswith("musicnn")}
    assert segments == {str(2 * (int(3.5 * 22050) // 729))}, out
    if _has("musicnn"):  # the same model: 0.02-0.05 apart on quiet tones (segments cut before the STFT), not 0.3+
        assert float(rows["musicnn-port"]["max abs score difference vs original"]) < 0.1, out
