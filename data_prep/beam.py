"""Dataset conversion on Apache Beam: the local writer's store, written by a cluster's workers.

Every converter ends in :func:`sampleaudio.stores.write_dataset`, which plans which clip goes into which
shard, writes the shards and builds the manifest from the shards' sidecars. Passing
``workers=BeamWorkers(runner=...)`` to any converter's ``convert`` (``sampleaudio prep NAME --runner ...``) keeps
the listing, the plan and the manifest on the launching machine and hands the shards to a Beam pipeline::

    clips.jsonl (one line per planned clip: shard, position, clip)      written next to the store
      | ReadFromText                     splittable: the runner spreads the listing over its workers
      | key by shard, GroupByKey         the clips of each shard meet on one worker (metadata only)
      | WriteShard                       the store's ShardWriter on worker-local disk, in plan order; then the
                                         shard and (last) its sidecar are copied into the store through
                                         Beam's FileSystems and renamed into place

Consequences, each tested in ``tests/test_beam.py``:

- The store is byte for byte the local path's (same plan, same encoder, same clip order in each shard, the
  same manifest built from the same sidecars).
- A bundle the runner retries (Flink, Spark and Dataflow retry failed work; so does Beam's
  ``BundleBasedDirectRunner``, 4 attempts) writes the same shard again under the same name with the same
  bytes: no clip is duplicated or lost. A shard counts as done only once its sidecar exists, so a run that
  fails for good is resumed by starting it again, on any runner or locally.
- Files that cannot be decoded are skipped and reported in the sidecar, hence in the manifest, as locally.

Why a shard, not a clip, is the unit of work: a clip's decoded audio would have to travel through the
shuffle to the worker writing its shard (about the store's size over the network again), whereas clip
metadata is a few hundred bytes; a large dataset has thousands of shards (the Million Song Dataset's 1.2 M
clips make ~4,700), far more than a cluster has workers.

Requirements on a cluster: the dataset folder and the output folder are paths that the launching machine
and every worker see (a shared file system: NFS, Lustre, a mounted bucket), and sampleaudio is installed on
the workers (``--extra_package`` of a built wheel, or a container image); see docs/datasets.md, "Converting on
Apache Beam".
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import uuid
from collections.abc import Iterable

try:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.metrics import Metrics
    from apache_beam.options.pipeline_options import PipelineOptions
except ImportError as exc:  # an extra, not a core dependency
    raise ImportError("Apache Beam is not installed: pip install 'sampleaudio[beam]'") from exc

from sampleaudio.errors import DatasetLayoutError
from sampleaudio.fileio import atomic_open
from sampleaudio.stores import Clip, ShardWriter

__all__ = ["RUNNERS", "BeamWorkers", "WriteShard"]

#: ``--runner`` choices of ``sampleaudio prep`` -> Beam runner names.
RUNNERS = {"direct": "DirectRunner", "flink": "FlinkRunner", "spark": "SparkRunner", "dataflow": "DataflowRunner"}
_INPUT = "beam-clips.jsonl"


@dataclasses.dataclass(frozen=True)
class BeamWorkers:
    """Write a store's shards with an Apache Beam pipeline (:class:`sampleaudio.stores.ShardWorkers`).

    Args:
        runner: ``direct``, ``flink``, ``spark``, ``dataflow`` or any Beam runner class name (e.g.
            ``BundleBasedDirectRunner``, the direct runner that retries failed bundles).
        options: Beam pipeline options as command-line flags (``--flink_master=host:8081``,
            ``--project=...``), passed to the runner unchanged.
        num_workers: with the direct runner, the local worker processes (``--direct_num_workers``).
    """

    runner: str = "direct"
    options: tuple[str, ...] = ()
    num_workers: int = 1

    def pipeline_options(self) -> PipelineOptions:
        runner = RUNNERS.get(self.runner, self.runner)
        kwargs: dict = {"runner": runner}
        if runner == "DirectRunner" and self.num_workers > 1:
            kwargs.update(direct_num_workers=self.num_workers, direct_running_mode="multi_processing")
        return PipelineOptions(list(self.options), **kwargs)

    def write_shards(self, out_dir: str, shards: dict[str, list[Clip]], writer: ShardWriter) -> None:
        listing = os.path.join(out_dir, _INPUT)
        with atomic_open(listing, "w", encoding="utf-8") as f:
            for name in sorted(shards):
                for pos, clip in enumerate(shards[name]):
                    f.write(json.dumps({"shard": name, "pos": pos, "clip": dataclasses.asdict(clip)},
                                       sort_keys=True) + "\n")
        with beam.Pipeline(options=self.pipeline_options()) as p:
            _ = (p
                 | "ReadPlan" >> beam.io.ReadFromText(listing)
                 | "KeyByShard" >> beam.Map(_key_by_shard)
                 | "GroupByShard" >> beam.GroupByKey()
                 | "WriteShard" >> beam.ParDo(WriteShard(out_dir, writer)))
        os.remove(listing)
        missing = [n for n in shards if not os.path.exists(os.path.join(out_dir, n + ".json"))]
        if missing:  # a runner that reports success must have written every shard
            raise DatasetLayoutError(f"the Beam pipeline finished but {len(missing)} shard(s) are missing in "
                               f"'{out_dir}', e.g. {missing[0]}")


def _key_by_shard(line: str) -> tuple[str, tuple[int, dict]]:
    d = json.loads(line)
    return d["shard"], (d["pos"], d["clip"])


def _clip(d: dict) -> Clip:
    return Clip(**{**d, "labels": tuple(d["labels"])})


def _publish(local: str, dest: str) -> None:
    """Copy ``local`` to ``dest`` under a unique temporary name, then rename it into place."""
    tmp = f"{dest}.tmp-{uuid.uuid4().hex}"  # unique across hosts: two attempts may run at once
    FileSystems.copy([local], [tmp])
    FileSystems.rename([tmp], [dest])


class WriteShard(beam.DoFn):
    """Beam ``DoFn``: ``(shard name, [(position, clip dict)])`` -> the shard and its sidecar in ``out_dir``."""

    def __init__(self, out_dir: str, writer: ShardWriter):
        super().__init__()
        self.out_dir = out_dir
        self.writer = writer

    def process(self, element: tuple[str, Iterable[tuple[int, dict]]]):
        name, items = element
        clips = [_clip(d) for _, d in sorted(items, key=lambda item: item[0])]
        with tempfile.TemporaryDirectory(prefix="sampleaudio-shard-") as tmp:
            local = os.path.join(tmp, name)
            stats = self.writer(local, clips)
            dest = os.path.join(self.out_dir, name)
            _publish(local, dest)
            _publish(local + ".json", dest + ".json")  # last: the shard counts as done from here on
        Metrics.counter("sampleaudio", "clips_written").inc(len(stats["clips"]))
        Metrics.counter("sampleaudio", "clips_skipped").inc(len(stats["skipped"]))
        yield name
