"""Conversion throughput (clips per second): the local writer against Apache Beam's DirectRunner.

    python benchmarks/conversion.py                          # 128 and 256 MTAT-layout clips of 29.1 s
    python benchmarks/conversion.py --clips-per-folder 16 --repeats 5

The fixture is a MagnaTagATune folder in the release's exact layout (``tests/layouts.py``: tab-separated
annotations, ``mp3/0..f/*.mp3`` at 16 kHz, so every clip is MP3-decoded and resampled to 22,050 Hz as with the
real release), written once into a temporary folder. The same ``sampleaudio.data_prep.mtat.convert`` then converts it with:

- ``local w=1`` / ``local w=2``: ``sampleaudio prep --workers 1|2`` (one process, or a spawn pool of two);
- ``beam direct w=1`` / ``beam direct w=2``: ``--runner direct`` (Beam's DirectRunner in memory, or with two
  worker processes, ``--direct_num_workers 2 --direct_running_mode multi_processing``).

Two fixtures (``--clips-per-folder`` k and 2k clips in each of the 16 folders) separate a fixed cost (worker
start-up: every spawned worker imports TensorFlow; pipeline set-up; manifest) from the throughput once the
workers run: marginal clips/s = extra clips / extra seconds. Each conversion runs in its own fresh process
(so no arm inherits another's warm caches or lingering worker processes) after one untimed warm-up conversion of two clips in that process (TensorFlow's and the decoder's
first-use costs); the time is the whole ``convert`` call (listing, plan, worker start-up, decoding, writing,
manifest). Arms are interleaved and repeated; the median is printed, with every repeat. Every Beam store is
checked to be byte-identical to the local one. On a machine with few cores shared with other jobs, figures
vary run to run: compare arms within one run, never across machines.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _arms():
    from sampleaudio.data_prep.beam import BeamWorkers

    return {"local w=1": 1, "local w=2": 2,
            "beam direct w=1": BeamWorkers("direct", num_workers=1),
            "beam direct w=2": BeamWorkers("direct", num_workers=2)}


def _one(arm: str, src: str, out: str, clips_per_shard: int) -> float:
    """Child process: warm up, then time one conversion of ``src`` into ``out`` with ``arm``."""
    from sampleaudio.data_prep import mtat
    from sampleaudio.stores import write_dataset

    clips, skipped, vocab = mtat.list_clips(src)
    write_dataset(clips[:2], out + "-warmup", info=mtat.INFO, labels=vocab, converter="b",
                  converter_version="0", progress=False)
    shutil.rmtree(out + "-warmup")
    workers = _arms()[arm]
    t0 = time.perf_counter()
    mtat.convert(src, out, workers=workers, progress=False, clips_per_shard=clips_per_shard)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, arm, src, out, per_shard = sys.argv
        print(json.dumps({"seconds": _one(arm, src, out, int(per_shard))}))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips-per-folder", type=int, default=8, help="clips in each of the 16 mp3 folders")
    parser.add_argument("--seconds", type=float, default=29.1, help="length of each fixture clip")
    parser.add_argument("--clips-per-shard", type=int, default=8, help="clips in each shard")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats of every arm")
    args = parser.parse_args(argv)

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    import layouts

    from sampleaudio.stores import read_manifest

    arms = _arms()
    sizes = (args.clips_per_folder, 2 * args.clips_per_folder)
    times: dict[tuple[str, int], list[float]] = {(name, k): [] for name in arms for k in sizes}
    clips: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="sampleaudio-conversion-") as tmp:
        for k in sizes:
            layouts.make_mtat(os.path.join(tmp, f"src{k}"), clips_per_folder=k, seconds=args.seconds)
        for r in range(args.repeats):
            for k in sizes:
                reference = None
                for name in arms:
                    out = os.path.join(tmp, f"out-{r}-{k}-{name.replace(' ', '_').replace('=', '')}")
                    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name,
                                            os.path.join(tmp, f"src{k}"), out, str(args.clips_per_shard)],
                                           capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
                    if child.returncode != 0:
                        raise RuntimeError(f"{name} failed:\n{child.stderr[-3000:]}")
                    times[name, k].append(json.loads(child.stdout.strip().splitlines()[-1])["seconds"])
                    print(f"repeat {r + 1}, {k} per folder, {name}: {times[name, k][-1]:.2f} s", file=sys.stderr,
                          flush=True)
                    clips[k] = sum(s["clips"] for s in read_manifest(out).splits.values())
                    if reference is None:
                        reference = out
                        continue
                    names = sorted(os.listdir(reference))
                    assert sorted(os.listdir(out)) == names, f"{name}: different files"
                    _, mismatch, errors = filecmp.cmpfiles(reference, out, names, shallow=False)
                    assert not mismatch and not errors, f"{name}: files differ from the local store: {mismatch}"

    small, large = sizes
    n1, n2 = clips[small], clips[large]
    print(f"conversion of MTAT-layout clips of {args.seconds:g} s (MP3 16 kHz -> 22,050 Hz PCM, {args.clips_per_shard} "
          f"per shard), {n1} and {n2} clips, median of {args.repeats} fresh processes; CPU cores: {os.cpu_count()}")
    print("marginal clips/s = extra clips / extra seconds between the two sizes (throughput once workers run);")
    print("fixed s = the remainder (worker start-up, pipeline set-up, manifest)")
    print(f"{'arm':<17}{f'{n1} clips s':>12}{f'{n2} clips s':>12}{f'clips/s@{n2}':>13}{'marginal c/s':>14}"
          f"{'fixed s':>9}{'vs local w=1':>14}")
    rate0 = None
    for name in arms:
        t1, t2 = statistics.median(times[name, small]), statistics.median(times[name, large])
        head = f"{name:<17}{t1:>12.2f}{t2:>12.2f}{n2 / t2:>13.1f}"
        if t2 <= t1:  # noise larger than the extra work: no estimate
            print(head + f"{'n/a':>14}{'n/a':>9}{'n/a':>14}")
            continue
        marginal = (n2 - n1) / (t2 - t1)
        rate0 = rate0 or (marginal if name == "local w=1" else None)
        ratio = f"{marginal / rate0:>13.2f}x" if rate0 else f"{'n/a':>14}"
        print(head + f"{marginal:>14.1f}{t1 - n1 / marginal:>9.1f}{ratio}")
    print("every repeat (s): " + "; ".join(f"{n} {k}: {' '.join(f'{x:.1f}' for x in ts)}"
                                          for (n, k), ts in times.items()))
    print("every Beam store byte-identical to the local one: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
