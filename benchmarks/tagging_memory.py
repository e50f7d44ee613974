"""Peak memory of a tag run against the number of files: the bounded decode queue vs decoding everything at once.

    python benchmarks/tagging_memory.py --files 20 100 200 --seconds 30

Each cell is a fresh process that tags N synthetic WAV files (22,050 Hz mono, ``--seconds`` each) with a SampleCNN
(MTAT preset, basic blocks, width ``--width``, random weights: memory does not depend on them) and reports its peak
resident set size (``ru_maxrss``). Two arms run in the same invocation:

- ``bounded``: ``Tagger.tag`` as shipped: at most ``workers`` files decoded ahead of the model;
- ``unbounded``: the same tagger with the earlier decode step (``ThreadPoolExecutor.map`` over every file at
  once, each decoded file kept until the model reaches it), as the baseline.

With a bounded queue the peak should not grow with N; figures are printed, never asserted.
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

_CHILD = r"""
import json, resource, sys, time
from concurrent.futures import ThreadPoolExecutor
from sampleaudio.inference import Tagger
from sampleaudio.sources import decode_source
from sampleaudio.models import from_preset
from sampleaudio.families.samplecnn.params import KIM2019_SIZES

folder, arm, width = sys.argv[1], sys.argv[2], int(sys.argv[3])

class Unbounded(Tagger):
    def _decoded(self, sources):  # the earlier decode step: every file submitted at once
        def decode(source):
            return self._cut(decode_source(source, self.sample_rate, self.max_seconds)), None
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            yield from pool.map(decode, sources)

segment = KIM2019_SIZES["mtat"][1]
model = from_preset("mtat", block="basic", init_features=width)
cls = Unbounded if arm == "unbounded" else Tagger
tagger = cls(model, [f"tag{i}" for i in range(50)], segment=segment, mean=0.0, std=0.2, batch_size=16)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
results = tagger.tag(folder)
assert all(r.error is None for r in results), [r.error for r in results if r.error][:1]
print(json.dumps({"files": len(results), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "after_load_mb": base / 1024, "seconds": time.perf_counter() - t0}))
"""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--files", type=int, nargs="+", default=[20, 100, 200])
    p.add_argument("--seconds", type=float, default=30.0, help="length of each file")
    p.add_argument("--width", type=int, default=16, help="SampleCNN width (init_features)")
    p.add_argument("--arms", nargs="+", default=["bounded", "unbounded"], choices=["bounded", "unbounded"])
    args = p.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        rng = np.random.default_rng(0)
        t = np.arange(int(args.seconds * 22050)) / 22050
        made = 0
        for n in sorted(args.files):
            folder = os.path.join(root, f"n{n}")
            os.makedirs(folder)
            for i in range(n):  # hard links: one file's bytes, n paths (the decoder reads each path anew)
                src = os.path.join(root, f"track{i:04d}.wav")
                if i >= made:
                    x = 0.3 * np.sin(2 * np.pi * (200 + 5 * i) * t) + 0.05 * rng.standard_normal(t.shape)
                    sf.write(src, x.astype(np.float32), 22050, subtype="PCM_16")
                    made += 1
                os.link(src, os.path.join(folder, f"track{i:04d}.wav"))
            for arm in args.arms:
                proc = subprocess.run([sys.executable, "-c", _CHILD, folder, arm, str(args.width)],
                                      capture_output=True, text=True, env=env)
                if proc.returncode != 0:
                    print(proc.stderr[-2000:], file=sys.stderr)
                    rows.append((n, arm, None))
                    continue
                rows.append((n, arm, json.loads(proc.stdout.strip().splitlines()[-1])))
                print(f"  done: {n} files, {arm}", file=sys.stderr)
    print(f"\nPeak RSS of `sampleaudio.tag` over N files of {args.seconds:.0f} s (22,050 Hz WAV), SampleCNN MTAT "
          f"preset width {args.width}, {os.cpu_count()} CPU threads\n")
    print("| files | arm | peak RSS (MB) | after model load (MB) | growth during tagging (MB) | tagging (s) |")
    print("|---|---|---|---|---|---|")
    for n, arm, r in rows:
        if r is None:
            print(f"| {n} | {arm} | failed | | | |")
        else:
            print(f"| {n} | {arm} | {r['peak_mb']:.0f} | {r['after_load_mb']:.0f} | "
                  f"{r['peak_mb'] - r['after_load_mb']:.0f} | {r['seconds']:.1f} |")
    return 0


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"\n(benchmark wall time {time.time() - started:.0f} s)")
    raise SystemExit(code)
