"""The experiment runner's worker processes: runs that fix their TensorFlow threads (``TrainConfig.threads``, the
Kim 2019 demo's one-thread runs) train in pinned worker processes, with the same numbers however many at once."""

import json

import pytest
import tensorflow as tf

from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig
from sampleaudio.cpu import usable_cpus
from sampleaudio.errors import ParameterError
from sampleaudio.experiments import run_experiments
from sampleaudio.families import model_params
from sampleaudio.train import _use_threads


def _configs(store: str, seeds: list[int]) -> list[tuple[dict, ExperimentConfig]]:
    return [({"seed": s}, ExperimentConfig(
        name=f"tones-{s}", data=DataConfig(data_dir=store, segment=81, batch_size=8),
        model=model_params(block="basic", init_features=4),
        train=TrainConfig(optimizer="adam", lr=0.01, num_stages=1, max_epochs_per_stage=1, steps_per_epoch=3, seed=s,
                          threads=1))) for s in seeds]


def test_one_thread_runs_give_the_same_numbers_two_at_a_time_as_one_at_a_time(tone_store, tmp_path, capsys):
    two = run_experiments(_configs(tone_store, [0, 1, 2]), str(tmp_path / "two"), workers=2)
    assert "3 run(s), 2 at a time, 1 thread(s) each" in capsys.readouterr().out
    one = run_experiments(_configs(tone_store, [0, 1, 2]), str(tmp_path / "one"), workers=1)
    assert two.seed.tolist() == [0, 1, 2]  # the order given, whatever order they finished in
    metrics = [c for c in two.columns if c not in ("seed", "seconds", "run_dir")]
    assert "roc_auc" in metrics and "accuracy" in metrics
    assert two[metrics].equals(one[metrics])
    cpu = json.loads((tmp_path / "two" / "tones-0" / "environment.json").read_text())["cpu"]
    assert cpu["intra_op_threads"] == 1 and cpu["inter_op_threads"] == 1
    if len(usable_cpus()) >= 2:
        assert cpu["cpus"] == 1  # pinned to a core of its own
    again = run_experiments(_configs(tone_store, [0, 1, 2]), str(tmp_path / "two"), workers=2)
    assert "reused" in capsys.readouterr().out and again[metrics].equals(two[metrics])


def test_a_run_with_other_threads_is_refused_where_tensorflow_already_started():
    tf.constant(1.0) + 1  # this process's thread pools exist from here on
    if tf.config.threading.get_intra_op_parallelism_threads() == 7:
        pytest.skip("this process already runs on 7 threads")
    with pytest.raises(ParameterError, match=r"^'R' trains with 7 TensorFlow thread\(s\) .*fresh process"):
        _use_threads(7, "R")
