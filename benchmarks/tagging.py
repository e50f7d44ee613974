"""Tagging speed over a folder of files with the full-size SampleCNN: audio seconds tagged per wall-clock second.

    python benchmarks/tagging.py                        # width 128 (the paper's), arms plain/sampleaudio/oneDNN
    python benchmarks/tagging.py --width 32 --musicnn

Every arm runs in its own fresh process (``TF_ENABLE_ONEDNN_OPTS`` is read when TensorFlow is imported), the
arms interleaved and repeated (``--repeats``); compare ratios within one run:

- ``plain``: TensorFlow imported first (its own CPU defaults), the same model's ``model.predict`` file by file on
  the file's non-overlapping segments (the way most Keras code tags a folder);
- ``sampleaudio``: ``sampleaudio.inference.Tagger`` over the folder with the package's CPU defaults
  (:mod:`sampleaudio.cpu`), files decoded in threads and their segments batched together;
- ``onednn=0`` / ``onednn=1``: the same Tagger with oneDNN forced off / on (``SAMPLEAUDIO_ONEDNN``);
- ``bf16``: the same Tagger with ``precision="bfloat16"`` (``sampleaudio tag --precision bfloat16``);
- with ``--musicnn``: ``musicnn.extractor.extractor(file, model='MTT_musicnn')`` file by file, its public API
  (install: ``pip install --no-deps musicnn "tf-keras==2.21.*" librosa``; run with ``TF_USE_LEGACY_KERAS=1``).

The model is SampleCNN SE + multi-level on the MTAT preset with random weights (speed does not depend on them).
Model loading is timed separately from tagging; CPU time (user + system, ``resource.getrusage``) of the tagging
part is printed next to the wall time, as it is less disturbed by other load on a shared machine. The audio is
synthetic noise and tones written as WAV at 22,050 Hz (content does not change the cost). Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

_SAMPLEAUDIO = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from sampleaudio.inference import Tagger
from sampleaudio.models import from_preset
from sampleaudio.families.samplecnn.params import KIM2019_SIZES
from sampleaudio.data_prep import task_for
task, segment = task_for("mtat"), KIM2019_SIZES["mtat"][1]
model = from_preset("mtat", block="se", multi=True, init_features=int(sys.argv[3]))
tagger = Tagger(model, [f"tag{i}" for i in range(50)], segment=segment, mean=task.paper_mean,
                std=task.paper_std, batch_size=int(sys.argv[2]), precision=sys.argv[4])
t1 = time.perf_counter()
r0 = resource.getrusage(resource.RUSAGE_SELF)
results = tagger.tag(sys.argv[1])
r1 = resource.getrusage(resource.RUSAGE_SELF)
t2 = time.perf_counter()
assert all(r.error is None for r in results)
import os
print(json.dumps({"load_s": t1 - t0, "tag_s": t2 - t1, "files": len(results),
                  "cpu_s": r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
                  "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default")}))
"""

_PLAIN = r"""
import glob, json, os, resource, sys, time
t0 = time.perf_counter()
import tensorflow as tf  # first: TensorFlow's own CPU defaults
import keras
import numpy as np
import soundfile as sf
from sampleaudio.models import from_preset
from sampleaudio.families.samplecnn.params import KIM2019_SIZES
from sampleaudio.data_prep import task_for
task, segment = task_for("mtat"), KIM2019_SIZES["mtat"][1]
model = from_preset("mtat", block="se", multi=True, init_features=int(sys.argv[3]))
t1 = time.perf_counter()
r0 = resource.getrusage(resource.RUSAGE_SELF)
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.wav")))
for f in files:
    audio, _ = sf.read(f, dtype="float32")
    n = len(audio) // segment
    x = ((audio[:n * segment].reshape(n, segment, 1)) - task.paper_mean) / task.paper_std
    model.predict(x, batch_size=int(sys.argv[2]), verbose=0).mean(axis=0)
r1 = resource.getrusage(resource.RUSAGE_SELF)
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "tag_s": t2 - t1, "files": len(files), "cpu_s": r1.ru_utime + r1.ru_stime
                  - r0.ru_utime - r0.ru_stime, "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TF default")}))
"""

_MUSICNN = r"""
import glob, json, os, sys, time
t0 = time.perf_counter()
from musicnn import extractor
t1 = time.perf_counter()
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.wav")))
for f in files:
    taggram, tags = extractor.extractor(f, model="MTT_musicnn", input_length=3, extract_features=False)
t2 = time.perf_counter()
print(json.dumps({"load_s": t1 - t0, "tag_s": t2 - t1, "files": len(files)}))
"""


def _run(code: str, args: list[str], env: dict) -> dict | None:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _arm_env(env: dict, arm: str) -> dict:
    env = {k: v for k, v in env.items() if k not in ("TF_ENABLE_ONEDNN_OPTS", "SAMPLEAUDIO_ONEDNN",
                                                     "_SAMPLEAUDIO_CPU_SET")}
    if arm.startswith("onednn="):
        env["SAMPLEAUDIO_ONEDNN"] = arm.split("=", 1)[1]
    return env


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each file")
    p.add_argument("--batch-size", type=int, default=32, help="segments per forward pass")
    p.add_argument("--width", type=int, default=128, help="init_features of the SampleCNN (128 = the paper's)")
    p.add_argument("--arms", nargs="+", default=["plain", "sampleaudio", "bf16", "onednn=0"],
                   help="plain (TensorFlow imported first, keras model.predict per file), sampleaudio (Tagger with "
                        "the package's CPU defaults), bf16 (Tagger with precision='bfloat16'), onednn=0|1 "
                        "(Tagger with oneDNN forced)")
    p.add_argument("--repeats", type=int, default=2, help="fresh processes per arm, interleaved")
    p.add_argument("--musicnn", action="store_true", help="also time musicnn's extractor (needs musicnn)")
    args = p.parse_args(argv)
    from sampleaudio import cpu

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    runs: dict[str, list[dict]] = {arm: [] for arm in args.arms}
    with tempfile.TemporaryDirectory() as folder:
        rng = np.random.default_rng(0)
        t = np.arange(int(args.seconds * 22050)) / 22050
        for i in range(args.files):
            audio = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.05 * rng.standard_normal(t.shape)
            sf.write(os.path.join(folder, f"track{i:03d}.wav"), audio.astype(np.float32), 22050)
        total = args.files * args.seconds
        call = [folder, str(args.batch_size), str(args.width)]
        for _ in range(args.repeats):
            for arm in args.arms:  # interleaved: slow phases of a shared machine hit every arm alike
                precision = "bfloat16" if arm == "bf16" else "float32"
                r = _run(_PLAIN if arm == "plain" else _SAMPLEAUDIO, [*call, precision], _arm_env(env, arm))
                if r is None:
                    raise SystemExit(f"tagging.py: arm {arm} failed (its error is above)")
                print(f"  {arm}: {json.dumps(r)}", file=sys.stderr, flush=True)
                runs[arm].append(r)
        theirs = _run(_MUSICNN, [folder], dict(env, TF_USE_LEGACY_KERAS="1")) if args.musicnn else None
    base = args.arms[0]
    med = {a: statistics.median(r["tag_s"] for r in rs) for a, rs in runs.items()}
    cpu_s = {a: statistics.median(r["cpu_s"] for r in rs) for a, rs in runs.items()}
    print(f"\nTagging {args.files} files x {args.seconds:.0f} s ({total:.0f} s of audio) with SampleCNN SE+multi "
          f"(MTAT preset), width {args.width}, batch {args.batch_size}: median of {args.repeats} fresh processes; "
          f"{os.cpu_count()} CPU threads, CPU flags: {cpu.describe()}\n")
    print(f"| arm | oneDNN | model load (s) | tagging (s) | audio s per wall s | CPU s | vs {base} (wall) | "
          f"vs {base} (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    for arm, rs in runs.items():
        load = statistics.median(r["load_s"] for r in rs)
        print(f"| {arm} | {rs[0]['onednn']} | {load:.1f} | {med[arm]:.1f} | {total / med[arm]:.1f} | "
              f"{cpu_s[arm]:.1f} | {med[base] / med[arm]:.2f}x | {cpu_s[base] / cpu_s[arm]:.2f}x |")
    if args.musicnn:
        print(f"| musicnn (MTT_musicnn) | | {theirs['load_s']:.1f} | {theirs['tag_s']:.1f} | "
              f"{total / theirs['tag_s']:.1f} | | | |" if theirs else "| musicnn: not installed or failed | | | | |")
    return 0


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"\n(benchmark wall time {time.time() - started:.0f} s)")
    raise SystemExit(code)
