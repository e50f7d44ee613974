"""Tagging speed over a folder of files: audio seconds tagged per wall-clock second, sampleaudio vs musicnn.

    python benchmarks/tagging.py --files 12 --seconds 30

Both taggers run in the same invocation, each in its own process (musicnn needs the legacy tf-keras):

- ``sampleaudio``: ``sampleaudio.tag`` over the folder with the full-size MTAT preset (SampleCNN SE + multi-level,
  width 128, random weights: speed does not depend on them), files decoded in threads and batched together;
- ``musicnn``: ``musicnn.extractor.extractor(file, model='MTT_musicnn')`` file by file, its public API (install:
  ``pip install --no-deps musicnn "tf-keras==2.21.*" librosa``; run with ``TF_USE_LEGACY_KERAS=1``).

Model loading is timed separately from tagging. The audio is synthetic noise and tones written as WAV at
22,050 Hz (content does not change the cost). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import soundfile as sf

_SAMPLEAUDIO = r"""
import json, sys, time
t0 = time.perf_counter()
from sampleaudio.inference import Tagger
from sampleaudio.models import from_preset
from sampleaudio.tasks import TASKS
task = TASKS["mtat"]
model = from_preset("mtat", block="se", multi=True)
tagger = Tagger(model, [f"tag{i}" for i in range(50)], segment=task.segment, mean=task.paper_mean,
                std=task.paper_std, batch_size=int(sys.argv[2]))
t1 = time.perf_counter()
results = tagger.tag(sys.argv[1])
t2 = time.perf_counter()
assert all(r.error is None for r in results)
print(json.dumps({"load_s": t1 - t0, "tag_s": t2 - t1, "files": len(results)}))
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--files", type=int, default=12)
    p.add_argument("--seconds", type=float, default=30.0, help="length of each file")
    p.add_argument("--batch-size", type=int, default=32, help="sampleaudio segments per forward pass")
    p.add_argument("--skip-musicnn", action="store_true")
    args = p.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rng = np.random.default_rng(0)
        t = np.arange(int(args.seconds * 22050)) / 22050
        for i in range(args.files):
            audio = 0.3 * np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.05 * rng.standard_normal(t.shape)
            sf.write(os.path.join(folder, f"track{i:03d}.wav"), audio.astype(np.float32), 22050)
        total = args.files * args.seconds
        ours = _run(_SAMPLEAUDIO, [folder, str(args.batch_size)], env)
        if ours:
            rows.append(("sampleaudio (SampleCNN SE+multi, MTAT preset)", ours))
        if not args.skip_musicnn:
            theirs = _run(_MUSICNN, [folder], dict(env, TF_USE_LEGACY_KERAS="1"))
            rows.append(("musicnn (MTT_musicnn)", theirs) if theirs else ("musicnn: not installed or failed", None))
    print(f"\nTagging {args.files} files x {args.seconds:.0f} s ({total:.0f} s of audio), {os.cpu_count()} CPU threads\n")
    print("| tagger | model load (s) | tagging (s) | audio s per wall s |")
    print("|---|---|---|---|")
    for name, r in rows:
        if r is None:
            print(f"| {name} | — | — | — |")
        else:
            print(f"| {name} | {r['load_s']:.1f} | {r['tag_s']:.1f} | {total / r['tag_s']:.1f} |")
    return 0


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"\n(benchmark wall time {time.time() - started:.0f} s)")
    raise SystemExit(code)
