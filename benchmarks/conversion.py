"""Conversion throughput (clips per second): the local writer against Apache Beam's DirectRunner.

    python benchmarks/conversion.py                          # 64 MTAT-layout clips of 10 s, 3 repeats
    python benchmarks/conversion.py --clips-per-folder 8 --seconds 29.1 --repeats 5

The fixture is a MagnaTagATune folder in the release's exact layout (``tests/layouts.py``: tab-separated
annotations, ``mp3/0..f/*.mp3`` at 16 kHz, so every clip is MP3-decoded and resampled to 22,050 Hz as with the
real release), written once into a temporary folder. The same ``data_prep.mtat.convert`` then converts it with:

- ``local w=1`` / ``local w=2``: ``sampleaudio prep --workers 1|2`` (one process, or a spawn pool of two);
- ``beam direct w=1`` / ``beam direct w=2``: ``--runner direct`` (Beam's DirectRunner in memory, or with two
  worker processes, ``--direct_num_workers 2 --direct_running_mode multi_processing``).

Each arm converts into a fresh folder; the time is the whole ``convert`` call (listing, plan, worker start-up,
decoding, writing, manifest). Arms are interleaved and repeated; the median is printed. Every Beam store is
checked to be byte-identical to the local one. On a machine with few cores shared with other jobs, figures
vary run to run: compare arms within one run, never across machines.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _arms():
    from data_prep.beam import BeamWorkers

    return {"local w=1": 1, "local w=2": 2,
            "beam direct w=1": BeamWorkers("direct", num_workers=1),
            "beam direct w=2": BeamWorkers("direct", num_workers=2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips-per-folder", type=int, default=4, help="clips in each of the 16 mp3 folders")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each fixture clip")
    parser.add_argument("--clips-per-shard", type=int, default=8, help="clips in each shard")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of every arm")
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import layouts

    from data_prep import mtat
    from sampleaudio.records import read_manifest

    arms = _arms()
    with tempfile.TemporaryDirectory(prefix="sampleaudio-conversion-") as tmp:
        src = os.path.join(tmp, "src")
        layouts.make_mtat(src, clips_per_folder=args.clips_per_folder, seconds=args.seconds)
        times: dict[str, list[float]] = {name: [] for name in arms}
        reference = None
        clips = 0
        for r in range(args.repeats):
            for name, workers in arms.items():
                out = os.path.join(tmp, f"out-{r}-{name.replace(' ', '_').replace('=', '')}")
                t0 = time.perf_counter()
                mtat.convert(src, out, workers=workers, progress=False, clips_per_shard=args.clips_per_shard)
                times[name].append(time.perf_counter() - t0)
                m = read_manifest(out)
                clips = sum(s["clips"] for s in m.splits.values())
                if reference is None:
                    reference = out
                else:
                    names = sorted(os.listdir(reference))
                    assert sorted(os.listdir(out)) == names, f"{name}: different files"
                    _, mismatch, errors = filecmp.cmpfiles(reference, out, names, shallow=False)
                    assert not mismatch and not errors, f"{name}: files differ from the local store: {mismatch}"
                    shutil.rmtree(out)
        shards = sum(len(s["shards"]) for s in read_manifest(reference).splits.values())

    base = statistics.median(times["local w=1"])
    print(f"conversion of {clips} MTAT-layout clips of {args.seconds:g} s (MP3 16 kHz -> 22,050 Hz PCM), "
          f"{shards} shards, median of {args.repeats}; CPU cores: {os.cpu_count()}")
    print(f"{'arm':<18}{'seconds':>9}{'clips/s':>10}{'vs local w=1':>14}")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"{name:<18}{t:>9.2f}{clips / t:>10.1f}{base / t:>13.2f}x")
    print("every Beam store byte-identical to the local one: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
