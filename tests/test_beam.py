"""Conversion on Apache Beam (data_prep/beam.py) writes the local converter's store, byte for byte.

Every dataset layout is converted twice, locally and on Beam's DirectRunner, and the two folders are compared
file by file; a transient failure injected into a bundle is retried by the runner without duplicating or
losing a clip; a run that fails for good is resumed by starting it again.
"""

import filecmp
import json
import os

import layouts
import numpy as np
import pytest
import tones

from sampleaudio.cli import main as cli_main
from sampleaudio.data_prep import dcase2017, mtat, speech_commands
from sampleaudio.data_prep.beam import BeamWorkers  # the test extra installs apache-beam: CI runs these
from sampleaudio.stores import Clip, read_index, read_manifest, write_dataset


def assert_same_store(local: str, beam: str) -> None:
    """Same files with the same bytes; and, spelled out, the same clips, labels, splits, stats and skips."""
    names = sorted(os.listdir(local))
    assert sorted(os.listdir(beam)) == names
    match, mismatch, errors = filecmp.cmpfiles(local, beam, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    a, b = read_manifest(local), read_manifest(beam)
    assert (a.labels, a.splits, a.skipped) == (b.labels, b.splits, b.skipped)
    np.testing.assert_allclose([a.mean, a.std], [b.mean, b.std], atol=1e-6, rtol=0)
    ia, ib = read_index(local), read_index(beam)
    assert ia.equals(ib) and not ib["clip_id"].duplicated().any()


LAYOUTS = {
    "mtat": (lambda src: layouts.make_mtat(src, clips_per_folder=1), mtat, 3),
    "speech-commands": (lambda src: layouts.make_speech_commands(src, speakers=4), speech_commands, 40),
    "dcase2017": (lambda src: layouts.make_dcase2017(src, per_class=1, seconds=1.0), dcase2017, 9),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_direct_runner_writes_the_local_store(name, tmp_path):
    make, module, per_shard = LAYOUTS[name]
    src = tmp_path / "src"
    src.mkdir()
    make(str(src))
    module.convert(str(src), str(tmp_path / "local"), workers=1, progress=False, clips_per_shard=per_shard)
    module.convert(str(src), str(tmp_path / "beam"), workers=BeamWorkers("direct"), progress=False,
                   clips_per_shard=per_shard)
    assert_same_store(str(tmp_path / "local"), str(tmp_path / "beam"))
    m = read_manifest(tmp_path / "beam")
    assert sum(len(s["shards"]) for s in m.splits.values()) > 3  # several shards, so several bundles
    if name == "mtat":  # the fixture's known-broken and corrupt files: reported and skipped on Beam too
        reasons = {os.path.basename(s["path"]): s["reason"] for s in m.skipped}
        assert any("known broken" in r for r in reasons.values())
        assert any("corrupt" in k for k in reasons)
        assert not set(read_index(tmp_path / "beam")["clip_id"]) & {s["clip_id"] for s in m.skipped}


def test_cli_runner_direct_and_its_options(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    layouts.make_speech_commands(str(src), words=speech_commands.WORDS, speakers=4)  # 4: non-empty split lists
    args = ["prep", "speech-commands", "--src", str(src), "--quiet", "--workers", "1"]
    assert cli_main(args + ["--out", str(tmp_path / "local")]) == 0
    assert cli_main(args + ["--out", str(tmp_path / "beam"), "--runner", "direct",
                            "--direct_running_mode=in_memory"]) == 0  # a Beam option, passed through
    assert_same_store(str(tmp_path / "local"), str(tmp_path / "beam"))
    assert not [n for n in os.listdir(tmp_path / "beam") if ".tmp-" in n or n.endswith(".jsonl")]
    with pytest.raises(SystemExit):  # runner options without a runner are a mistake, not silently dropped
        cli_main(args + ["--out", str(tmp_path / "x"), "--direct_running_mode=in_memory"])
    assert "unrecognized arguments" in capsys.readouterr().err


class FlakyLoader:
    """A tone per clip; the clips in ``flaky`` raise a transient error the first ``failures`` times each.

    Every call is counted in a file per clip (the runner may call a copy of this loader in another thread or
    process).
    """

    def __init__(self, log_dir: str, flaky: set[str], failures: int = 1):
        self.log_dir, self.flaky, self.failures = log_dir, set(flaky), failures

    def __call__(self, clip: Clip) -> np.ndarray:
        log = os.path.join(self.log_dir, clip.clip_id)
        with open(log, "a") as f:
            f.write("x")
        if clip.clip_id in self.flaky:
            with open(log) as f:
                if len(f.read()) <= self.failures:
                    raise ConnectionResetError(f"transient read failure of {clip.source}")
        k = int(clip.source)
        t = np.arange(1500 + 37 * k) / 22050
        return (0.5 * np.sin(2 * np.pi * (200 + 30 * k) * t)).astype(np.float32)


def tone_clips(n: int = 30) -> list[Clip]:
    return [Clip(f"c{k:03d}", ["train", "train", "valid", "test"][k % 4], (k % 3,), str(k)) for k in range(n)]


def write(out, loader, workers, sample_rate=22050):
    return write_dataset(tone_clips(), str(out), info=tones.INFO, labels=["a", "b", "c"], converter="test",
                         converter_version="0", loader=loader, workers=workers,
                         clips_per_shard=4, progress=False, sample_rate=sample_rate)


def test_declared_features_and_the_stores_rate_reach_the_beam_workers(tmp_path):
    """A dataset's own features (tests/covers.py: a cover image, a fold) and a 16 kHz rate are written on Beam as
    locally: the workers get the whole shard writer, not only the audio loader."""
    import covers

    covers.make_covers(str(tmp_path / "src"))
    covers.convert(str(tmp_path / "src"), str(tmp_path / "local"), workers=1)
    covers.convert(str(tmp_path / "src"), str(tmp_path / "beam"), workers=BeamWorkers("direct"))
    assert_same_store(str(tmp_path / "local"), str(tmp_path / "beam"))
    assert read_manifest(tmp_path / "beam").skipped[0]["reason"] == "not a PNG image"
    (tmp_path / "log").mkdir()
    loader = FlakyLoader(str(tmp_path / "log"), set())
    write(tmp_path / "local16", loader, 1, sample_rate=16000)
    write(tmp_path / "beam16", loader, BeamWorkers("direct"), sample_rate=16000)
    assert_same_store(str(tmp_path / "local16"), str(tmp_path / "beam16"))
    assert read_manifest(tmp_path / "beam16").sample_rate == 16000


def test_a_transiently_failing_bundle_is_retried_without_duplicates_or_losses(tmp_path):
    (tmp_path / "local_log").mkdir()
    (tmp_path / "log").mkdir()
    write(tmp_path / "local", FlakyLoader(str(tmp_path / "local_log"), set()), 1)
    flaky = {"c013", "c022"}  # in shards of two splits
    # the bundle-based direct runner retries a failed bundle (up to 4 attempts), as Flink/Spark/Dataflow do
    write(tmp_path / "beam", FlakyLoader(str(tmp_path / "log"), flaky), BeamWorkers("BundleBasedDirectRunner"))
    calls = {c: len(open(tmp_path / "log" / c).read()) for c in sorted(os.listdir(tmp_path / "log"))}
    assert len(calls) == 30
    assert all(calls[c] >= 2 for c in flaky)  # failed on the first attempt, written on a retry
    assert sum(n > 1 for n in calls.values()) > len(flaky)  # retried bundles rewrote other shards too ...
    assert_same_store(str(tmp_path / "local"), str(tmp_path / "beam"))  # ... yet every clip is there once
    assert len(read_index(tmp_path / "beam")) == 30


def test_a_run_that_fails_for_good_resumes_when_started_again(tmp_path):
    (tmp_path / "log").mkdir()
    write(tmp_path / "local", FlakyLoader(str(tmp_path / "log"), set()), 1)
    # the default direct runner does not retry: the pipeline fails, the shards already written stay
    with pytest.raises(Exception, match="transient read failure"):
        write(tmp_path / "beam", FlakyLoader(str(tmp_path / "log"), {"c013"}, failures=10), BeamWorkers("direct"))
    assert not os.path.exists(tmp_path / "beam" / "manifest.json")
    plan = json.load(open(tmp_path / "beam" / "plan.json"))
    assert sum(map(len, plan["shards"].values())) == 30
    write(tmp_path / "beam", FlakyLoader(str(tmp_path / "log"), set()), BeamWorkers("direct"))
    assert_same_store(str(tmp_path / "local"), str(tmp_path / "beam"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mini-speech-commands", "mini-dcase", "mini-mtat"])
def test_direct_runner_writes_the_local_store_of_every_proxy(name, tmp_path):
    from sampleaudio.data_prep import get_converter

    module = get_converter(name)
    module.convert(str(tmp_path / "local"), size="small", seed=0, workers=1, progress=False)
    module.convert(str(tmp_path / "beam"), size="small", seed=0, workers=BeamWorkers("direct", num_workers=2),
                   progress=False)
    assert_same_store(str(tmp_path / "local"), str(tmp_path / "beam"))
