"""Build a folder of short real recordings in mixed formats, for measuring tagging at library scale.

Cuts the Debian ``sonic-pi-samples`` recordings (``/usr/share/sonic-pi/samples/*.flac``, CC0 / public domain) into
pieces of 1-5 s and encodes them with ffmpeg, cycling through FLAC, WAV, MP3, Ogg Vorbis, AAC in M4A and Opus.
A source shorter than its piece is looped (ffmpeg's ``aloop``). Pieces, offsets and formats come from a seeded generator, so the same
command builds the same library (up to the encoders' own versions)::

    python tools/make_test_library.py /tmp/library --count 10000

Nothing here is imported by the package; docs/tagging.md quotes the figures measured on such a folder.
"""

from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: extension -> ffmpeg encoder arguments (each a codec a music library really holds)
FORMATS = {
    "flac": ["-c:a", "flac"],
    "wav": ["-c:a", "pcm_s16le"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "4"],
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "opus": ["-c:a", "libopus", "-b:a", "96k"],
}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="output folder (created)")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--src", default="/usr/share/sonic-pi/samples")
    args = p.parse_args(argv)
    sources = sorted(glob.glob(os.path.join(args.src, "*.flac")))
    if not sources:
        sys.exit(f"no .flac under {args.src} (apt-get install sonic-pi-samples)")
    rng = np.random.default_rng(args.seed)
    names = list(FORMATS)
    jobs = []
    for i in range(args.count):
        src = sources[i % len(sources)]
        ext = names[i % len(names)]
        duration = float(rng.uniform(1.0, 5.0))
        offset = float(rng.uniform(0.0, 1.0))  # looped sources: any offset is inside the loop
        sub = os.path.join(args.out, f"{i // 1000:02d}")
        out = os.path.join(sub, f"{i:05d}_{os.path.splitext(os.path.basename(src))[0]}.{ext}")
        jobs.append((src, offset, duration, ext, out))
    for sub in {os.path.dirname(j[-1]) for j in jobs}:
        os.makedirs(sub, exist_ok=True)

    def encode(job):
        src, offset, duration, ext, out = job
        if os.path.exists(out):
            return
        cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", src, "-af", "aloop=loop=-1:size=2147483647",
               "-ss", f"{offset:.3f}", "-t", f"{duration:.3f}", "-map_metadata", "-1", *FORMATS[ext],
               out + ".part." + ext]
        subprocess.run(cmd, check=True)
        os.replace(out + ".part." + ext, out)

    with ThreadPoolExecutor(args.workers) as pool:
        for k, _ in enumerate(pool.map(encode, jobs), 1):
            if k % 1000 == 0:
                print(f"{k} files", file=sys.stderr)
    print(f"{len(jobs)} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
