import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
import tones

from sampleaudio.cli import main as cli_main
from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.runs import load_run
from sampleaudio.train import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def store(tone_store):
    return tone_store


def tiny(store, **train):
    base = {"lr": 0.05, "num_stages": 2, "max_epochs_per_stage": 3, "patience": 2, "steps_per_epoch": 4}
    base.update(train)
    return ExperimentConfig(name="tiny", data=DataConfig(data_dir=store, segment=729, batch_size=8),
                            model=model_params(block="se", multi=True, num_blocks=3, init_features=4),
                            train=TrainConfig(**base), eval=EvalConfig())


def _cli_args(store, run_dir, extra=()):
    return ["train", "--data", store, "--run-dir", str(run_dir), "--segment", "729", "--batch-size", "8",
            "--num-blocks", "3", "--init-features", "4", "--block", "se", "--multi", "--lr", "0.05",
            "--steps-per-epoch", "4", "--quiet", *extra]


def test_stage_schedule_and_run_directory(store, tmp_path):
    result = train(tiny(store), str(tmp_path), verbose=0)
    hist = pd.read_csv(tmp_path / "history.csv")
    assert list(hist.global_epoch) == list(range(len(hist)))
    for stage, rows in hist.groupby("stage"):
        assert list(rows.lr) == pytest.approx([0.05 * 0.2 ** stage] * len(rows))
        # a stage ends at its epoch cap or after `patience` epochs without improvement
        assert len(rows) == 3 or (not rows.improved.iloc[-1] and not rows.improved.iloc[-2])
        assert rows.improved.iloc[0]  # each stage keeps its own best, as the original's callbacks did
    assert set(hist.stage) == {0, 1}
    for name in ("config.json", "environment.json", "best.keras", "model_card.json", "final_metrics.json",
                 "per_class_test.csv", "tensorboard"):
        assert (tmp_path / name).exists(), name
    env = json.loads((tmp_path / "environment.json").read_text())
    assert {"tensorflow", "keras", "git_commit", "numpy", "cpu"} <= set(env)
    assert {"flags", "onednn", "intra_op_threads", "inter_op_threads"} <= set(env["cpu"])  # what the run ran with
    assert result["clips"] == 12 and 0.0 <= result["accuracy"] <= 1.0
    # a finished run is reused, not retrained
    mtime = os.path.getmtime(tmp_path / "history.csv")
    assert train(tiny(store), str(tmp_path), verbose=0) == result
    assert os.path.getmtime(tmp_path / "history.csv") == mtime
    # rewording the prose of a configuration does not make it another run
    reworded = tiny(store)
    reworded.notes = "the same run, described in other words"
    assert train(reworded, str(tmp_path), verbose=0) == result
    # another configuration in the same folder is refused
    with pytest.raises(Exception, match="different configuration"):
        train(tiny(store, lr=0.1), str(tmp_path), verbose=0)
    model, config, task = load_run(str(tmp_path))
    assert model.output.shape[-1] == 2 and task.name == "tones" and config.train.lr == 0.05


def test_training_learns_the_tones(store, tmp_path):
    config = tiny(store, num_stages=1, max_epochs_per_stage=6, patience=6, steps_per_epoch=8)
    # 48 steps: with Keras' 0.99 the moving statistics used at test time would still weigh their initial values
    # by 0.62 (fixed segments then score 0.5 here, random crops 1.0: chance, not signal); 0.9 leaves 0.006
    config.model.bn_momentum = 0.9
    result = train(config, str(tmp_path), verbose=0)
    assert result["accuracy"] >= 0.75  # two tones an octave and a half apart: a real signal to learn


def test_killed_run_resumes_where_it_was(store, tmp_path):
    run = tmp_path / "run"
    args = _cli_args(store, run, ["--num-stages", "2", "--max-epochs-per-stage", "4", "--patience", "9"])
    cmd = [sys.executable, "-c", tones.CLI, *args]
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            state = json.loads((run / "state.json").read_text())
            if state["global_epoch"] >= 2:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run / "final_metrics.json").exists()
    before = pd.read_csv(run / "history.csv")
    assert len(before) >= 2
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 0
    after = pd.read_csv(run / "history.csv")
    # the first epochs are kept, the run went on from there, and it did the whole schedule once
    pd.testing.assert_frame_equal(after.iloc[:len(before)], before)
    assert list(after.global_epoch) == list(range(8))
    assert list(after.stage) == [0] * 4 + [1] * 4
    assert (run / "final_metrics.json").exists()


def test_mixed_precision_training_run(store, tmp_path):
    result = train(tiny(store, num_stages=1, max_epochs_per_stage=1, mixed_precision="bfloat16"), str(tmp_path),
                   verbose=0)
    assert np.isfinite(result["roc_auc"])
    saved = keras.saving.load_model(str(tmp_path / "best.keras"))
    assert saved.get_layer("block0_conv").compute_dtype == "bfloat16"
    assert saved.get_layer("pred").compute_dtype == "float32"
    # evaluation, tagging and export get the same weights computing in float32 (portable SavedModels)
    model, _, _ = load_run(str(tmp_path))
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    x = np.random.default_rng(0).standard_normal((2, 729, 1)).astype("float32")
    np.testing.assert_allclose(model.predict_on_batch(x), saved.predict_on_batch(x), atol=0.02)
    assert [w.name for w in model.weights] == [w.name for w in saved.weights]
    # one score per run: the final metrics are computed as `sampleaudio evaluate` computes them (in float32)
    from sampleaudio.evaluate import evaluate_run

    again = evaluate_run(str(tmp_path), "test")
    assert result["precision"] == "float32"
    for key in ("roc_auc", "pr_auc", "accuracy"):
        assert again[key] == result[key], key


def test_auto_mixed_precision_is_resolved_recorded_and_kept_on_resume(store, tmp_path):
    from sampleaudio import cpu

    train(tiny(store, num_stages=1, max_epochs_per_stage=1, mixed_precision="auto"), str(tmp_path / "a"), verbose=0)
    recorded = json.loads((tmp_path / "a" / "config.json").read_text())["train"]["mixed_precision"]
    assert recorded == cpu.auto_mixed_precision(4, gpu=bool(tf.config.list_physical_devices("GPU")))
    # a run made before "auto" existed (float32) is resumed / reused by the default "auto", not refused
    old = tmp_path / "old"
    first = train(tiny(store, num_stages=1, max_epochs_per_stage=1, mixed_precision="off"), str(old), verbose=0)
    again = train(tiny(store, num_stages=1, max_epochs_per_stage=1, mixed_precision="auto"), str(old), verbose=0)
    assert again == first
    assert json.loads((old / "config.json").read_text())["train"]["mixed_precision"] == "off"


def test_cli_train_and_evaluate(store, tmp_path, capsys):
    run = tmp_path / "cli"
    assert cli_main(_cli_args(store, run, ["--num-stages", "1", "--max-epochs-per-stage", "1"])) == 0
    capsys.readouterr()
    assert cli_main(["evaluate", str(run), "--split", "valid"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["split"] == "valid" and out["clips"] == 12
    assert (run / "metrics_valid.json").exists() and (run / "per_class_valid.csv").exists()
    assert cli_main(["evaluate", str(tmp_path / "nothing")]) == 1


def test_mirrored_strategy_trains(store, tmp_path):
    result = train(tiny(store, num_stages=1, max_epochs_per_stage=1, distribute="mirrored"), str(tmp_path / "m"),
                   verbose=0)
    assert np.isfinite(result["roc_auc"])


def _free_ports(n):
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_on_localhost(store, tmp_path):
    """--distribute multiworker: two worker processes on this machine train one model together."""
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    run = tmp_path / "mw"
    args = _cli_args(store, run, ["--num-stages", "2", "--max-epochs-per-stage", "2", "--distribute", "multiworker"])
    cmd = [sys.executable, "-c", tones.CLI, *args]
    procs = []
    for index in range(2):
        env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=400) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    result = json.loads(outs[0][0][outs[0][0].index("{"):])
    assert result["clips"] == 12 and np.isfinite(result["roc_auc"])
    assert outs[1][0].strip() == "{}"  # only the chief evaluates
    chief, other = pd.read_csv(run / "history.csv"), pd.read_csv(run / "worker-1" / "history.csv")
    assert list(chief.stage) == [0, 0, 1, 1]
    # all-reduced steps keep the workers' weights identical, so they see the same losses
    np.testing.assert_allclose(chief.val_loss, other.val_loss, rtol=1e-5)
    np.testing.assert_allclose(chief.loss, other.loss, rtol=1e-5)
    assert (run / "best.keras").exists() and not (run / "worker-1" / "best.keras").exists()
    model, _, _ = load_run(str(run))
    assert model.output.shape[-1] == 2


def test_bn_momentum_reaches_every_batch_norm_and_old_configs_still_resume(store, tmp_path):
    import keras

    from sampleaudio.data_prep import task_for
    from sampleaudio.train import build_model

    model = build_model(model_params(block="rese2", multi=True, num_blocks=3, init_features=4, bn_momentum=0.9),
                        task_for("speech-commands"))
    norms = [la for la in model.layers if isinstance(la, keras.layers.BatchNormalization)]
    assert len(norms) >= 5 and {la.momentum for la in norms} == {0.9}
    default = build_model(model_params(num_blocks=3, init_features=4), task_for("speech-commands"))
    assert {la.momentum for la in default.layers if isinstance(la, keras.layers.BatchNormalization)} == {0.99}
    # a run directory written before a config field existed is still recognised as the same configuration
    config = tiny(store, num_stages=1, max_epochs_per_stage=1)
    old = config.to_dict()
    del old["model"]["bn_momentum"]
    (tmp_path / "config.json").write_text(json.dumps(old))
    assert np.isfinite(train(config, str(tmp_path), verbose=0)["roc_auc"])


def test_cosine_schedule_warms_up_then_decays_to_zero_at_the_stage_end():
    from sampleaudio.schedule import optimizer

    opt = optimizer(TrainConfig(optimizer="adam", lr=0.01, lr_schedule="cosine", warmup_steps=10), 0, 110)
    schedule = opt.learning_rate if callable(opt.learning_rate) else opt._learning_rate
    assert float(schedule(0)) == 0.0
    assert float(schedule(5)) == pytest.approx(0.005)
    assert float(schedule(10)) == pytest.approx(0.01)
    assert float(schedule(60)) == pytest.approx(0.005, abs=1e-6)  # half way through the cosine
    assert float(schedule(110)) == pytest.approx(0.0, abs=1e-9)
    # the second stage decays from the stage's own (divided) rate
    second = optimizer(TrainConfig(optimizer="adam", lr=0.01, lr_schedule="cosine"), 1, 100)._learning_rate
    assert float(second(0)) == pytest.approx(0.002)


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_the_optimizer_built_at_compile_trains_as_keras_lazy_build_does(kind):
    """compile_stage builds the optimizer's slots before the first step (not in its trace): same variables,
    same weights after training as the optimizer Keras builds inside the first step."""
    from sampleaudio.schedule import compile_stage, optimizer

    config = ExperimentConfig(name="t", data=DataConfig(data_dir="/data"), model=model_params(),
                              train=TrainConfig(optimizer=kind, lr=0.01, lr_schedule="cosine", warmup_steps=2,
                                                max_epochs_per_stage=1))
    x = np.random.default_rng(0).normal(size=(16, 8)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    weights = []
    for eager in (True, False):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
        if eager:
            compile_stage(model, config, 0, 5, "mse")
            assert model.optimizer.built and len(model.optimizer.variables) > len(model.trainable_variables)
        else:
            model.compile(optimizer=optimizer(config.train, 0, 5), loss="mse", jit_compile=False)  # as compile_stage
            assert not model.optimizer.built
        model.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False)
        weights.append([w.numpy() for w in model.weights + model.optimizer.variables])
    assert len(weights[0]) == len(weights[1])
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_cli_train_flags_reach_the_configuration(store, tmp_path):
    run = tmp_path / "run"
    assert cli_main(["train", "--data", store, "--run-dir", str(run), "--init-features", "4", "--num-blocks", "3",
                     "--segment", "729", "--num-stages", "1", "--max-epochs-per-stage", "1", "--steps-per-epoch",
                     "2", "--optimizer", "adam", "--lr-schedule", "cosine", "--warmup-steps", "1",
                     "--bn-momentum", "0.9", "--time-decay", "0", "--quiet"]) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["train"]["lr_schedule"] == "cosine" and cfg["train"]["warmup_steps"] == 1
    assert cfg["model"]["bn_momentum"] == 0.9 and cfg["train"]["time_decay"] == 0


@pytest.mark.slow
def test_a_killed_worker_and_the_restarted_job_resume_from_the_last_common_epoch(store, tmp_path):
    """Kill one of two workers mid-epoch: the other exits; restarted, both resume at the same committed epoch.

    Before the restart, worker 1's folder is rewound by one commit (as if it had died after the chief committed
    epoch n but before it did): the workers must agree on epoch n - 1, so the chief steps back one epoch.
    """
    ports = _free_ports(2)
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    run = tmp_path / "mw"
    args = _cli_args(store, run, ["--num-stages", "2", "--max-epochs-per-stage", "3", "--patience", "9",
                                  "--steps-per-epoch", "12", "--distribute", "multiworker"])
    cmd = [sys.executable, "-c", tones.CLI, *args]

    def start(index):
        env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    procs = [start(0), start(1)]
    state1 = run / "worker-1" / "state.json"
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            if json.loads(state1.read_text())["global_epoch"] >= 3:  # in stage 1's first epoch now
                break
        except (OSError, ValueError):
            pass
        assert procs[0].poll() is None and procs[1].poll() is None
        time.sleep(0.05)
    time.sleep(0.5)  # into the epoch
    procs[1].send_signal(signal.SIGKILL)
    procs[1].wait()
    lost = time.time()
    _, err = procs[0].communicate(timeout=300)  # the survivor's next collective fails: it exits
    assert procs[0].returncode != 0, "the surviving worker went on alone"
    assert "restart every worker" in err.strip().splitlines()[-1], err[-3000:]  # one line saying what to do
    print(f"survivor exited {time.time() - lost:.1f} s after the kill: {err.strip().splitlines()[-1][:300]}")
    assert not (run / "final_metrics.json").exists()
    # worker 1 as if killed before it committed its last epoch
    state = json.loads(state1.read_text())
    assert state["previous"]["global_epoch"] == state["global_epoch"] - 1
    state1.write_text(json.dumps(state["previous"]))
    rewound_to = state["previous"]["global_epoch"]
    chief_before = pd.read_csv(run / "history.csv")
    assert chief_before.global_epoch.max() >= rewound_to  # the chief is ahead and must step back

    procs = [start(0), start(1)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    chief, other = pd.read_csv(run / "history.csv"), pd.read_csv(run / "worker-1" / "history.csv")
    for hist in (chief, other):  # every epoch of the schedule exactly once: none lost, none repeated
        assert list(hist.global_epoch) == list(range(6))
        assert list(hist.stage) == [0, 0, 0, 1, 1, 1]
    # the epochs before the agreed point are the first run's; after it, both workers trained from identical
    # weights again, so they see the same losses
    pd.testing.assert_frame_equal(chief.iloc[:rewound_to], chief_before.iloc[:rewound_to])
    np.testing.assert_allclose(chief.loss, other.loss, rtol=1e-5)
    np.testing.assert_allclose(chief.val_loss, other.val_loss, rtol=1e-5)
    assert json.loads(outs[0][0][outs[0][0].index("{"):])["clips"] == 12
    assert len(os.listdir(run / "checkpoints")) <= 4  # two epochs' checkpoints and bests are kept, no more


def test_slurm_tf_config(tmp_path, monkeypatch):
    from sampleaudio.distributed import slurm_tf_config

    fake = tmp_path / "scontrol"  # Slurm's own expansion of a node list, faked
    fake.write_text("#!/bin/sh\n[ \"$3\" = 'node[07-08]' ] && printf 'node07\\nnode08\\n'\n")
    fake.chmod(0o755)
    env = {"SLURM_JOB_NODELIST": "node[07-08]", "SLURM_PROCID": "1"}
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    config = json.loads(slurm_tf_config(2222, env))
    assert config == {"cluster": {"worker": ["node07:2222", "node08:2222"]}, "task": {"type": "worker", "index": 1}}
    with pytest.raises(RuntimeError, match="SLURM_PROCID"):
        slurm_tf_config(env={"SLURM_JOB_NODELIST": "x"})


class _Gathering:
    """Stands in for a multi-worker strategy whose workers committed ``epochs`` (for the agreement logic)."""

    def __init__(self, epochs):
        self.epochs = epochs

    def experimental_distribute_values_from_function(self, fn):
        return fn(None)

    def gather(self, value, axis):
        import tensorflow as tf

        return tf.constant(self.epochs, tf.int64)


def test_workers_agree_on_the_smallest_committed_epoch():
    from sampleaudio.distributed import agree_on_resume_point

    previous = {"global_epoch": 4, "stage": 1, "checkpoint": "epoch-00004.keras"}
    mine = {"global_epoch": 5, "stage": 1, "checkpoint": "epoch-00005.keras", "previous": previous}
    assert agree_on_resume_point(_Gathering([5, 5]), mine) is mine
    assert agree_on_resume_point(_Gathering([5, 4]), mine) == previous  # the other died before committing 5
    with pytest.raises(RuntimeError, match="cannot agree"):
        agree_on_resume_point(_Gathering([5, 3]), mine)  # two epochs apart: not folders of one job
    with pytest.raises(RuntimeError, match="cannot agree"):
        agree_on_resume_point(_Gathering([5, 4]), {**mine, "previous": None})


class _Killed(BaseException):
    """Stands in for kill -9 (no except clause catches it)."""


class _KillAt(keras.callbacks.Callback):
    """Raises :class:`_Killed` at a point of training: as an epoch begins (after the epochs before it were
    committed), after a batch of an epoch (mid-epoch: nothing of it is committed), or as an epoch ends (its
    validation done, its checkpoint not yet written)."""

    def __init__(self, where: str, epoch: int, batch: int = 0):
        super().__init__()
        self.where, self.epoch, self.batch, self.current = where, epoch, batch, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if self.where == "begin" and epoch == self.epoch:
            raise _Killed()

    def on_train_batch_end(self, batch, logs=None):
        if self.where == "batch" and self.current == self.epoch and batch == self.batch:
            raise _Killed()

    def on_epoch_end(self, epoch, logs=None):
        if self.where == "end" and epoch == self.epoch:
            raise _Killed()


@pytest.mark.slow  # five short trainings of 4 epochs: ~1-2 min each on the shared machine
@pytest.mark.parametrize("block", ["se", "res2"])  # res2: the blocks' 16-bit dropout (sampleaudio.layers.dropout)
def test_a_killed_training_resumes_to_the_uninterrupted_runs_weights(store, tmp_path, block):
    """A run killed at any of several points and started again ends with exactly the weights, history and metrics
    of the same run uninterrupted: random crops, shuffling and dropout are restored with the committed epoch."""
    config = tiny(store, num_stages=2, max_epochs_per_stage=2, patience=9, steps_per_epoch=3)
    config.model = model_params(block=block, multi=True, num_blocks=3, init_features=4)
    config.data.train_examples = "random_crop"
    whole = train(config, str(tmp_path / "whole"), verbose=0)
    reference = load_run(str(tmp_path / "whole"))[0].get_weights()
    history = pd.read_csv(tmp_path / "whole" / "history.csv").drop(columns="seconds")
    for where, epoch, batch in (("begin", 1, 0), ("batch", 2, 1), ("end", 0, 0), ("begin", 3, 0)):
        run = str(tmp_path / f"{where}{epoch}")
        with pytest.raises(_Killed):
            train(config, run, verbose=0, callbacks=(_KillAt(where, epoch, batch),))
        assert train(config, run, verbose=0) == whole, (where, epoch)
        for a, b in zip(load_run(run)[0].get_weights(), reference):
            np.testing.assert_array_equal(a, b, err_msg=f"{where} {epoch}")
        pd.testing.assert_frame_equal(pd.read_csv(os.path.join(run, "history.csv")).drop(columns="seconds"), history)
