"""Shared by the benchmarks: CPU time, the machine's description, Markdown tables, and the machine limit.

The machine limit is what this CPU computes at best, measured rather than taken from a data sheet: large matrix
products (``n x n``, 2 n^3 FLOPs) and the forward convolutions of the model's own blocks (kernel 3, 2 FLOPs per
multiply-add), in float32 and in bfloat16, with PyTorch (its oneDNN / MKL kernels) and with TensorFlow (oneDNN,
TensorFlow's default on CPUs with AVX-512 VNNI/BF16 or AMX). Each kernel's rate is the median of ``reps`` calls
after a warm-up call, in GFLOP per CPU second (user + system time of the process, all threads) and per wall
second; the limit of a precision is the best median over all kernels and both frameworks. A training step also
runs the convolutions' input and weight gradients, batch norm, pooling and the optimizer, so 100 % of the limit
is a bound, not a target.

This module imports neither TensorFlow nor PyTorch at import time.
"""

from __future__ import annotations

import datetime
import importlib.metadata as md
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far, all its threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def cpu_model() -> str:
    """``model name`` of ``/proc/cpuinfo`` with its family and model numbers (a virtual machine often names only
    the vendor's line, "AMD EPYC"; family 25 model 17 is then Zen 4), or the platform's processor string."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if not line.strip():
                    break  # the first processor is enough
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or "unknown"
    return f"{fields['model name']} (family {fields.get('cpu family', '?')}, model {fields.get('model', '?')})"


def versions() -> str:
    """Installed versions of the frameworks the arms use (from the package metadata, without importing them)."""
    out = []
    for name in ("tensorflow-cpu", "tensorflow", "keras", "tf-keras", "torch", "numpy", "musicnn"):
        try:
            out.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            continue
    return ", ".join(out)


def now() -> datetime.datetime:
    """The local time, with its offset."""
    return datetime.datetime.now().astimezone()


def header(title: str, started: datetime.datetime, load_before: str, load_after: str) -> str:
    """The lines every benchmark table starts with: what ran, when it started, on what, under which load."""
    from sampleaudio import cpu

    return (f"{title}\n\n"
            f"- started: {started.isoformat(timespec='seconds')}, {(now() - started).total_seconds() / 60:.0f} min\n"
            f"- CPU: {cpu_model()}, {os.cpu_count()} CPU threads, flags: {cpu.describe()}\n"
            f"- load average (1/5/15 min) before: {load_before}; after: {load_after}\n"
            f"- versions: Python {platform.python_version()}, {versions()}\n")


def fmt(v) -> str:
    """A figure for a table: three significant digits or so, thousands separated, empty for a missing one."""
    if v is None or v != v or v in (float("inf"), float("-inf")):
        return ""
    a = abs(v)
    return f"{v:,.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2f}" if a >= 0.1 else f"{v:.3g}"


def markdown(df) -> str:
    """A pandas DataFrame as a Markdown table (no ``tabulate`` needed); floats as they were formatted."""
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines)


def run_child(name: str, cmd: list[str], env: dict) -> object:
    """Run one benchmark child process; its JSON result (the last line of its stdout), or ``{"error": ...}`` with
    the last lines of its stderr (all of it, up to 3,000 characters, goes to this process's stderr)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        print(f"  {name}: FAILED\n{proc.stderr[-3000:]}", file=sys.stderr, flush=True)
        tail = [line for line in proc.stderr.strip().splitlines() if line.strip()][-3:]
        return {"error": " / ".join(tail) or f"exit status {proc.returncode}"}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    shown = {k: v for k, v in out.items() if k != "scores"} if isinstance(out, dict) else out
    print(f"  {name}: {json.dumps(shown)[:400]}", file=sys.stderr, flush=True)
    return out


def conv_shapes(widths: list[int], init_features: int, segment: int, batch: int) -> list[tuple]:
    """``(name, batch, length, in channels, out channels)`` of block 0's convolution (the largest: a third of the
    model's FLOPs at width 128) and block 3's (twice the channels on a 27th of the length), as the model runs
    them."""
    shapes = [("block0", batch, segment // 3, init_features, widths[0])]
    if len(widths) > 3:
        shapes.append(("block3", batch, segment // 3 ** 4, widths[2], widths[3]))
    return shapes


def _time(fn, reps: int) -> tuple[float, float]:
    fn()  # warm-up: kernel selection, allocation
    walls, cpus = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _torch_kernels(n: int, shapes, precision: str):
    import torch
    import torch.nn.functional as F

    dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    yield f"matmul {n}x{n}", 2.0 * n ** 3, lambda: torch.mm(a, b)
    for name, bsz, length, cin, cout in shapes:
        x, w = torch.randn(bsz, cin, length, dtype=dtype), torch.randn(cout, cin, 3, dtype=dtype)
        yield (f"conv1d {name} ({bsz}x{length}x{cin} -> {cout}, k=3)", 2.0 * bsz * length * 3 * cin * cout,
               lambda x=x, w=w: F.conv1d(x, w, padding=1))


def _tf_kernels(n: int, shapes, precision: str):
    import tensorflow as tf

    dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32
    a, b = tf.cast(tf.random.normal([n, n]), dtype), tf.cast(tf.random.normal([n, n]), dtype)
    mm = tf.function(lambda: tf.linalg.matmul(a, b)[0, 0])  # the whole product; a scalar comes back
    yield f"matmul {n}x{n}", 2.0 * n ** 3, lambda: mm().numpy()
    for name, bsz, length, cin, cout in shapes:
        x = tf.cast(tf.random.normal([bsz, length, cin]), dtype)
        w = tf.cast(tf.random.normal([3, cin, cout]), dtype)
        conv = tf.function(lambda x=x, w=w: tf.nn.conv1d(x, w, stride=1, padding="SAME")[0, 0, 0])
        yield (f"conv1d {name} ({bsz}x{length}x{cin} -> {cout}, k=3)", 2.0 * bsz * length * 3 * cin * cout,
               lambda conv=conv: conv().numpy())


def measure_limit(framework: str, n: int, shapes, reps: int) -> list[dict]:
    """Rates of the limit's kernels in this process (``framework``: ``torch`` or ``tf``), float32 and bfloat16."""
    kernels = {"torch": _torch_kernels, "tf": _tf_kernels}[framework]
    rows = []
    for precision in ("float32", "bfloat16"):
        for op, flops, fn in kernels(n, shapes, precision):
            wall, cpu = _time(fn, reps)
            rows.append({"framework": framework, "op": op, "precision": precision, "gflop": flops / 1e9,
                         "wall_s": wall, "cpu_s": cpu})
    return rows


def best_limits(rows: list[dict]) -> dict[str, float]:
    """GFLOP per CPU second of the best kernel of each precision (the machine limit)."""
    best: dict[str, float] = {}
    for r in rows:
        rate = r["gflop"] / r["cpu_s"]
        best[r["precision"]] = max(best.get(r["precision"], 0.0), rate)
    return best
