"""Tagging speed over a folder of files with the full-size SampleCNN: files and audio seconds tagged per second.

    python benchmarks/tagging.py                        # width 128 (the paper's), every arm that is installed
    python benchmarks/tagging.py --width 32 --musicnn
    python benchmarks/tagging.py --arms musicnn musicnn-port --files 8     # musicnn: the original against the port
    python benchmarks/tagging.py --width 4 --blocks 5 --segment 729 --files 2 --seconds 0.2   # a quick check

Every arm runs in its own fresh process (``TF_ENABLE_ONEDNN_OPTS`` is read when TensorFlow is imported), the
arms interleaved and repeated (``--repeats``); compare ratios within one run. The SampleCNN arms:

- ``plain``: TensorFlow imported first (its own CPU defaults), the same model's ``model.predict`` file by file on
  the file's non-overlapping segments (the way most Keras code tags a folder); ``plain-bf16``: the same under
  Keras' ``mixed_bfloat16`` policy;
- ``sampleaudio``: ``sampleaudio.inference.Tagger`` over the folder with the package's CPU defaults
  (:mod:`sampleaudio.cpu`), files decoded in threads and their segments batched together (its default
  precision, float32);
- ``onednn=0`` / ``onednn=1``: the same Tagger with oneDNN forced off / on (``SAMPLEAUDIO_ONEDNN``);
- ``bf16``: the same Tagger with ``precision="bfloat16"`` (``sampleaudio tag --precision bfloat16``);
- ``torch``, ``torch-bf16``, ``torch-compile``, ``torch-compile-bf16``: the same model in PyTorch
  (``benchmarks/torch_samplecnn.py``; its parameters and FLOPs are checked against the Keras model's first, and
  the arms fail when they differ), file by file as ``plain``, in ``torch.inference_mode``, eager or under
  ``torch.compile``, float32 or bfloat16 autocast (the ``bench`` extra).

The musicnn arms (``--musicnn`` adds both) tag the same files with the MagnaTagATune musicnn model (Pons and Serra):

- ``musicnn``: the original, ``musicnn.extractor.extractor(file, model='MTT_musicnn')`` file by file, its public
  API (install: ``pip install --no-deps musicnn "tf-keras==2.21.*" librosa``; it runs on TensorFlow 2.21 through
  ``tf.compat.v1`` with ``TF_USE_LEGACY_KERAS=1``, which this benchmark sets for it);
- ``musicnn-port``: the package's port of the same model and weights, ``sampleaudio tag musicnn-mtt FOLDER``
  (``Tagger.from_path("musicnn-mtt")`` over the folder, as the command does); its clip scores are compared with
  the original's (largest absolute difference over files and tags).

Model loading is timed apart from tagging, and so is the first file (``first file s``: the one-off graph trace,
``torch.compile``'s compilation, musicnn's graph build): every arm tags file 0 once, then the whole folder is
timed. CPU time (user + system of the process, all threads, ``resource.getrusage``) of the timed part is printed
next to the wall time, as it is less disturbed by other load on a shared machine. GFLOP per CPU s counts the
SampleCNN's forward multiply-adds (2 FLOPs each; the Keras hand count of ``benchmarks/throughput.py``) over the
segments tagged, and is shown as a share of the machine limit of its precision (``benchmarks/bench_common.py``,
``--no-limit`` to skip). The audio is synthetic tones in noise written as WAV at 22,050 Hz (content does not
change the cost), quiet, because the original musicnn computes its log-mel in float16, which overflows on loud
input (``10000 * x`` above 65,504 becomes inf) where the port does not. The table starts with the date, the CPU, the load average before and after, and the versions.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_common import cpu_seconds, fmt, header, load_average, markdown, now, run_child  # noqa: E402
from throughput import (  # noqa: E402  (the benchmarks' shared model check and limit)
    TORCH_ARMS,
    compare_counts,
    limit_table_of,
    side_process,
    size_args,
    sizes,
    torch_installed,
)

PLAIN_ARMS = {"plain": "float32", "plain-bf16": "mixed_bfloat16"}
TAGGER_ARMS = ("sampleaudio", "bf16", "onednn=0", "onednn=1")
MUSICNN_ARMS = ("musicnn", "musicnn-port")
ARMS = (*PLAIN_ARMS, *TAGGER_ARMS, *TORCH_ARMS, *MUSICNN_ARMS)


def _files(folder: str) -> list[str]:
    return sorted(glob.glob(os.path.join(folder, "*.wav")))


def segments(audio: np.ndarray, segment: int, mean: float, std: float) -> np.ndarray:
    """The non-overlapping segments ``[n, segment]`` of a clip, standardised; a clip shorter than one segment is
    tiled to one (as plain code would; the Tagger does the same)."""
    if len(audio) < segment:
        audio = np.resize(audio, segment)
    n = len(audio) // segment
    return ((audio[:n * segment].reshape(n, segment) - mean) / std).astype(np.float32)


def _timed(tag_file, files: list[str]) -> dict:
    """Tag ``files[0]`` once (the one-off trace or compilation), then every file: wall and CPU seconds."""
    t0 = time.perf_counter()
    tag_file(files[0])
    t1, c1 = time.perf_counter(), cpu_seconds()
    count = sum(tag_file(f) for f in files)
    return {"warm_s": t1 - t0, "tag_s": time.perf_counter() - t1, "cpu_s": cpu_seconds() - c1, "segments": count}


def _plain(arm: str, folder: str, args, preset: str) -> dict:
    t0 = time.perf_counter()
    import keras
    import tensorflow  # noqa: F401  (first: TensorFlow's own CPU defaults)

    from sampleaudio.data_prep import task_for
    from sampleaudio.models import from_preset

    task = task_for(preset)
    num_blocks, segment = sizes(preset, args.blocks, args.segment)
    keras.mixed_precision.set_global_policy(PLAIN_ARMS[arm])
    model = from_preset(preset, block="se", multi=True, init_features=args.width, num_blocks=num_blocks)
    load = time.perf_counter() - t0

    def tag_file(f):
        x = segments(sf.read(f, dtype="float32")[0], segment, task.paper_mean, task.paper_std)
        model.predict(x[..., None], batch_size=args.batch_size, verbose=0).mean(axis=0)
        return len(x)

    return {"load_s": load, **_timed(tag_file, _files(folder)), "framework": "Keras (TensorFlow)",
            "precision": "bfloat16" if arm == "plain-bf16" else "float32",
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default")}


def _tagger(arm: str, folder: str, args, preset: str) -> dict:
    t0 = time.perf_counter()
    from sampleaudio.data_prep import task_for
    from sampleaudio.inference import Tagger
    from sampleaudio.models import from_preset

    task = task_for(preset)
    num_blocks, segment = sizes(preset, args.blocks, args.segment)
    model = from_preset(preset, block="se", multi=True, init_features=args.width, num_blocks=num_blocks)
    tagger = Tagger(model, [f"tag{i}" for i in range(task.num_classes)], segment=segment, mean=task.paper_mean,
                    std=task.paper_std, batch_size=args.batch_size,
                    precision="bfloat16" if arm == "bf16" else "float32")
    load = time.perf_counter() - t0
    files = _files(folder)
    t0 = time.perf_counter()
    tagger.tag(files[:1])
    t1, c1 = time.perf_counter(), cpu_seconds()
    results = tagger.tag(folder)
    out = {"load_s": load, "warm_s": t1 - t0, "tag_s": time.perf_counter() - t1, "cpu_s": cpu_seconds() - c1}
    errors = [r.error for r in results if r.error]
    if errors or len(results) != len(files):
        raise SystemExit(f"tagging.py: the Tagger failed: {errors[:2]}")
    return {**out, "segments": int(sum(len(r.taggram) for r in results)), "framework": "sampleaudio (TensorFlow)",
            "precision": tagger.precision, "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default")}


def _torch(arm: str, folder: str, args, preset: str) -> dict:
    t0 = time.perf_counter()
    import torch_samplecnn as ts

    from sampleaudio.data_prep import task_for

    task = task_for(preset)
    num_blocks, segment = sizes(preset, args.blocks, args.segment)
    compiled, bf16 = TORCH_ARMS[arm]
    predict = ts.Predictor(compiled=compiled, bf16=bf16, width=args.width, num_blocks=num_blocks,
                           num_classes=task.num_classes, block="se")
    load = time.perf_counter() - t0

    def tag_file(f):
        x = segments(sf.read(f, dtype="float32")[0], segment, task.paper_mean, task.paper_std)
        predict(x, args.batch_size).mean(axis=0)
        return len(x)

    return {"load_s": load, **_timed(tag_file, _files(folder)),
            "framework": "PyTorch, torch.compile" if compiled else "PyTorch, eager",
            "precision": "bfloat16 (autocast)" if bf16 else "float32", "onednn": "torch's own"}


def _musicnn(folder: str) -> dict:
    t0 = time.perf_counter()
    from musicnn import extractor

    load = time.perf_counter() - t0
    scores = {}

    def tag_file(f):
        taggram, tags = extractor.extractor(f, model="MTT_musicnn", input_length=3, extract_features=False)
        scores[os.path.basename(f)] = dict(zip(tags, taggram.mean(axis=0).tolist()))
        return len(taggram)

    return {"load_s": load, **_timed(tag_file, _files(folder)), "scores": scores,
            "framework": "musicnn 0.1.0 (tf.compat.v1)", "precision": "float32",
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default")}


def _musicnn_port(folder: str, args) -> dict:
    t0 = time.perf_counter()
    from sampleaudio.inference import Tagger

    tagger = Tagger.from_path("musicnn-mtt", batch_size=args.batch_size)
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    tagger.tag(_files(folder)[:1])
    t1, c1 = time.perf_counter(), cpu_seconds()
    results = tagger.tag(folder)
    out = {"load_s": load, "warm_s": t1 - t0, "tag_s": time.perf_counter() - t1, "cpu_s": cpu_seconds() - c1}
    if any(r.error for r in results):
        raise SystemExit(f"tagging.py: musicnn-mtt failed: {[r.error for r in results if r.error][:2]}")
    scores = {os.path.basename(r.source): dict(zip(r.labels, r.scores.tolist())) for r in results}
    return {**out, "segments": int(sum(len(r.taggram) for r in results)), "scores": scores,
            "framework": "sampleaudio tag musicnn-mtt", "precision": tagger.precision,
            "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default")}


def _child_main(name: str, folder: str, args, preset: str = "mtat"):
    out = side_process(name, preset, args, block="se", batch=1)
    if out is not None:
        return out
    if name in PLAIN_ARMS:
        return _plain(name, folder, args, preset)
    if name in TORCH_ARMS:
        return _torch(name, folder, args, preset)
    if name == "musicnn":
        return _musicnn(folder)
    if name == "musicnn-port":
        return _musicnn_port(folder, args)
    return _tagger(name, folder, args, preset)


def _arm_env(env: dict, arm: str) -> dict:
    env = {k: v for k, v in env.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "SAMPLEAUDIO_ONEDNN",
                                                     "_SAMPLEAUDIO_CPU_SET", "TF_USE_LEGACY_KERAS")}
    if arm.startswith("onednn="):
        env["SAMPLEAUDIO_ONEDNN"] = arm.split("=", 1)[1]
    if arm == "musicnn":
        env["TF_USE_LEGACY_KERAS"] = "1"  # musicnn's tf.compat.v1.layers need Keras 2 (tf-keras)
    return env


def _run(name: str, folder: str, args) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", name, "--data", folder, *size_args(args)]
    return run_child(name, cmd, _arm_env(dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), name))


def _score_gap(a: dict, b: dict) -> float:
    """Largest |score difference| over the files and tags two arms both scored."""
    gaps = [abs(a[f][t] - b[f][t]) for f in a if f in b for t in a[f] if t in b[f]]
    return max(gaps) if gaps else float("nan")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each file")
    p.add_argument("--batch-size", type=int, default=32, help="segments per forward pass")
    p.add_argument("--width", type=int, default=128, help="init_features of the SampleCNN (128 = the paper's)")
    p.add_argument("--blocks", type=int, default=None, help="SampleCNN blocks (%(default)s: MTAT's 9)")
    p.add_argument("--segment", type=int, default=None, help="samples per segment (%(default)s: MTAT's 59,049)")
    p.add_argument("--arms", nargs="+", default=None, choices=ARMS, metavar="ARM",
                   help="any of " + ", ".join(ARMS) + " (see the module doc; %(default)s: plain plain-bf16 sampleaudio "
                        "bf16, and the four torch arms when PyTorch is installed); the first is the baseline of "
                        "the ratio columns")
    p.add_argument("--repeats", type=int, default=2, help="fresh processes per arm, interleaved")
    p.add_argument("--musicnn", action="store_true",
                   help="add the musicnn arms: the original extractor and sampleaudio's port (needs musicnn)")
    p.add_argument("--no-limit", dest="limit", action="store_false", help="skip the machine limit")
    p.add_argument("--limit-n", type=int, default=4096, help="matrix size of the limit's matrix product")
    p.add_argument("--limit-reps", type=int, default=3, help="timed calls per kernel of the limit (median)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(_child_main(args.child, args.data, args)))
        return 0
    have_torch = torch_installed()
    if args.arms is None:
        args.arms = ["plain", "plain-bf16", "sampleaudio", "bf16"] + (list(TORCH_ARMS) if have_torch else [])
    if args.musicnn:
        args.arms += [a for a in MUSICNN_ARMS if a not in args.arms]
    wants_torch = [a for a in args.arms if a in TORCH_ARMS]
    if wants_torch and not have_torch:
        raise SystemExit(f"tagging.py: error: arms {wants_torch} need PyTorch: pip install -e '.[bench]'")
    if any(a == "musicnn" for a in args.arms) and importlib.util.find_spec("musicnn") is None:
        raise SystemExit("tagging.py: error: the musicnn arm needs musicnn: pip install --no-deps musicnn "
                         "'tf-keras==2.21.*' librosa")

    started, load_before = now(), load_average()
    runs: dict[str, list[dict]] = {arm: [] for arm in args.arms}
    limit_runs: list = []
    with tempfile.TemporaryDirectory() as folder:
        check = _run("check", folder, args)
        if "error" in check:
            raise SystemExit(f"tagging.py: error: the model check failed: {check['error']}")
        differ = compare_counts(check["keras"], check["torch"]) if "torch" in check else None
        failed = {a: f"the PyTorch model differs from the Keras one ({differ})" for a in wants_torch if differ}
        rng = np.random.default_rng(0)
        t = np.arange(int(args.seconds * 22050)) / 22050
        for i in range(args.files):
            # quiet (-50 dBFS): louder tones overflow the original musicnn's float16 log-mel (inf), which the port
            # does not copy, and the score comparison would compare that instead of the models
            audio = 0.003 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.0005 * rng.standard_normal(t.shape)
            sf.write(os.path.join(folder, f"track{i:03d}.wav"), audio.astype(np.float32), 22050)
        for _ in range(args.repeats):
            for arm in args.arms:  # interleaved: slow phases of a shared machine hit every arm alike
                if arm not in failed:
                    runs[arm].append(_run(arm, folder, args))
            for fw in (["torch"] if have_torch else []) + ["tf"] if args.limit else []:
                limit_runs.append(_run(f"limit-{fw}", folder, args))
    load_after = load_average()

    import pandas as pd

    total = args.files * args.seconds
    forward = check["keras"]["forward_flops"]  # per segment
    limit_table, best = limit_table_of(limit_runs)
    print("\n" + header(f"Tagging {args.files} files x {args.seconds:g} s ({total:g} s of audio), batch "
                        f"{args.batch_size}: median of {args.repeats} fresh processes per arm", started,
                        load_before, load_after))
    num_blocks, segment = sizes("mtat", args.blocks, args.segment)
    print(f"SampleCNN SE + multi-level (MTAT preset), width {args.width}, {num_blocks} blocks, segment {segment:,}: "
          f"{forward / 1e9:.3f} GFLOP per segment forward (Keras hand count"
          + (f"; PyTorch's flop counter: {check['torch']['forward_flops'] / 1e9:.3f}, parameters "
             f"{check['keras']['trainable']:,} / {check['torch']['trainable']:,}" if "torch" in check else "") + ")")
    if failed:
        print(f"\nPyTorch arms failed: {next(iter(failed.values()))}")
    if limit_table is not None:
        print("\nMachine limit (GFLOP per CPU s of the best kernel: "
              + ", ".join(f"{k} {v:.0f}" for k, v in best.items()) + ")\n")
        print(markdown(limit_table))
    base = next((a for a in args.arms if a not in MUSICNN_ARMS), None)
    status, rows, tables = 0, {"samplecnn": [], "musicnn": []}, {}
    ok = {a: [r for r in rs if "error" not in r] for a, rs in runs.items()}
    cpu_s = {a: statistics.median(r["cpu_s"] for r in rs) for a, rs in ok.items() if rs}
    wall = {a: statistics.median(r["tag_s"] for r in rs) for a, rs in ok.items() if rs}
    for arm, rs in runs.items():
        kind = "musicnn" if arm in MUSICNN_ARMS else "samplecnn"
        if arm in failed or not ok[arm]:
            status = 1
            reason = failed.get(arm) or "; ".join(r["error"] for r in rs)[:400]
            rows[kind].append({"arm": arm, "framework": f"FAILED: {reason}"})
            continue
        good = ok[arm]
        r0, ref = good[0], base if kind == "samplecnn" else "musicnn"
        row = {"arm": arm, "framework": r0["framework"], "oneDNN": r0["onednn"], "precision": r0["precision"],
               "model load s": fmt(statistics.median(r["load_s"] for r in good)),
               "first file s": fmt(statistics.median(r["warm_s"] for r in good)),
               "tagging wall s": fmt(wall[arm]), "files/s": fmt(args.files / wall[arm]),
               "audio s per wall s": fmt(total / wall[arm]), "CPU s": fmt(cpu_s[arm]),
               "segments": str(r0["segments"])}
        if kind == "samplecnn":
            per_cpu = forward * r0["segments"] / cpu_s[arm] / 1e9
            limit = best.get("bfloat16" if r0["precision"].startswith("bfloat16") else "float32")
            row.update({"GFLOP per CPU s": fmt(per_cpu),
                        "% of its precision's limit": f"{100 * per_cpu / limit:.0f} %" if limit else ""})
        elif arm == "musicnn-port" and ok.get("musicnn"):
            row["max abs score difference vs original"] = f"{_score_gap(r0['scores'], ok['musicnn'][0]['scores']):.2g}"
        row.update({f"vs {ref} (CPU)": f"{cpu_s[ref] / cpu_s[arm]:.2f}x" if ref in cpu_s else "",
                    f"vs {ref} (wall)": f"{wall[ref] / wall[arm]:.2f}x" if ref in wall else ""})
        rows[kind].append(row)
    for kind, title in (("samplecnn", "SampleCNN arms"), ("musicnn", "musicnn: the original extractor against "
                                                                      "sampleaudio's port (same model and weights)")):
        if rows[kind]:
            df = pd.DataFrame(rows[kind]).fillna("")
            tables[kind] = df[[c for c in df.columns if (df[c] != "").any()]]
            print(f"\n{title}\n\n{markdown(tables[kind])}")
    print(f"\n(benchmark wall time {(now() - started).total_seconds():.0f} s)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
