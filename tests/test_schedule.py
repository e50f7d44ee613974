"""The schedules as declared plans (:mod:`sampleaudio.schedule`), each pinned to the original code it stands for:
Kim 2019's stages, Park 2018's plateau (Keras 2.1 ``ReduceLROnPlateau``) and Won 2020's Adam-then-SGD switch, and
PyTorch's coupled weight decay."""

import keras
import numpy as np
import pandas as pd
import pytest

from sampleaudio import config as config_module
from sampleaudio import schedule
from sampleaudio.config import DataConfig, EvalConfig, ExperimentConfig, TrainConfig, model_params
from sampleaudio.layers.optimizers import AdamWithL2, SGDWithL2
from sampleaudio.train import train


@pytest.fixture(scope="module")
def store(tone_store):
    return tone_store


def tiny(store, **train_fields):
    base = {"lr": 0.05, "steps_per_epoch": 3}
    base.update(train_fields)
    return ExperimentConfig(name="tiny", data=DataConfig(data_dir=store, segment=729, batch_size=8),
                            model=model_params(block="basic", num_blocks=3, init_features=4, bn_momentum=0.9),
                            train=TrainConfig(**base), eval=EvalConfig())


def test_every_declared_schedule_has_a_plan():
    assert tuple(schedule.SCHEDULES) == config_module.SCHEDULES
    for name in config_module.SCHEDULES:
        stages = schedule.plan(TrainConfig(schedule=name))
        assert stages and all(isinstance(s, schedule.Stage) for s in stages)
        assert schedule.describe(TrainConfig(schedule=name))


def test_the_staged_plan_is_kims():
    stages = schedule.plan(TrainConfig(lr=0.01, lr_decay=0.2, num_stages=5, patience=2, max_epochs_per_stage=100))
    assert [s.lr for s in stages] == pytest.approx([0.01 * 0.2 ** k for k in range(5)])
    assert [s.reload_best for s in stages] == [False, True, True, True, True]
    assert all(s.fresh_optimizer and s.best_per_stage and s.patience == 2 and s.plateau is None for s in stages)


def test_the_plateau_rule_is_keras_2_1s_check_then_count():
    """Keras 2.1.1 ``ReduceLROnPlateau(factor=0.2, patience=1)``, by hand: ``if wait >= patience: cut, wait = 0``,
    then ``wait += 1``; an improvement is a drop of more than 1e-4 and resets ``wait``."""
    rule = schedule.Plateau(factor=0.2, patience=1)
    losses = [1.0, 0.9, 0.95, 0.95, 0.95, 0.85, 0.89995, 0.9, 0.9]
    lr, best, wait, lrs = 0.1, None, 0, []
    for v in losses:
        lr, best, wait = rule.step(lr, best, wait, v)
        lrs.append(lr)
    # no cut at the first flat epoch, one at the second, then one at every further flat epoch; 0.89995 is no
    # improvement on 0.85, and 0.85 - 0.89995 would not be one on 0.9 either (less than 1e-4)
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.02, 0.004, 0.004, 0.004, 0.0008, 0.00016])
    # the floor: never below min_lr, and no further cut once there
    floor = schedule.Plateau(factor=0.2, patience=0, min_lr=0.01)
    lr, best, wait = floor.step(0.1, 1.0, 0, 2.0)
    assert lr == pytest.approx(0.02)
    lr, best, wait = floor.step(lr, best, wait, 2.0)
    assert lr == pytest.approx(0.01)


def test_eight_cuts_give_the_released_siamese_rate_only_without_the_scripts_floor():
    """Park 2018's released Siamese h5 stores SGD lr 2.56e-7 = 0.1 x 0.2^8: eight cuts of one optimizer. The
    public script's ``min_lr=1.6e-5`` would have stopped the cuts at 1.6e-5."""
    def after_flat_epochs(min_lr, n=12):
        rule, lr, best, wait = schedule.Plateau(0.2, 1, min_lr), 0.1, None, 0
        for v in [1.0] + [1.0] * n:
            lr, best, wait = rule.step(lr, best, wait, v)
            if lr <= 0.1 * 0.2 ** 8 * 1.0001:
                return lr
        return lr

    assert after_flat_epochs(0.0) == pytest.approx(2.56e-7)
    assert after_flat_epochs(0.000016) == pytest.approx(1.6e-5)


def test_the_adam_then_sgd_plan_is_wons_solver():
    """``training/solver.py``: Adam 1e-4 for 80 epochs; reload best, a new SGD 1e-3 for 20; reload best, the same
    SGD at 1e-4 for 20; reload best, 1e-5 to epoch 200; no early stopping; one best for the whole run."""
    cfg = TrainConfig(schedule="adam_then_sgd", lr=1e-4, sgd_lr=1e-3, lr_decay=0.1, num_stages=4, switch_epoch=80,
                      drop_every=20, max_epochs_per_stage=80)
    stages = schedule.plan(cfg)
    assert [(s.optimizer, s.epochs) for s in stages] == [("adam", 80), ("sgd", 20), ("sgd", 20), ("sgd", 80)]
    assert [s.lr for s in stages] == pytest.approx([1e-4, 1e-3, 1e-4, 1e-5])
    assert sum(s.epochs for s in stages) == 200
    assert [s.reload_best for s in stages] == [False, True, True, True]
    assert [s.fresh_optimizer for s in stages] == [True, True, False, False]  # the drops keep SGD's momentum
    assert all(s.patience is None and not s.best_per_stage for s in stages)


def test_coupled_weight_decay_is_pytorchs():
    """Two steps of ``torch.optim.SGD(lr, momentum=0.9, nesterov=True, weight_decay=wd)`` and one of
    ``torch.optim.Adam(lr, weight_decay=wd)``, by hand: the gradient becomes ``g + wd * w`` before the update."""
    lr, wd, mu = 0.1, 0.01, 0.9
    w0, g = np.array([1.0, -2.0], np.float32), np.array([0.5, 0.25], np.float32)
    var = keras.Variable(w0.copy())
    sgd = SGDWithL2(lr, momentum=mu, nesterov=True, l2=wd)
    w, buf = w0.astype(np.float64), np.zeros(2)
    for _ in range(2):
        sgd.apply_gradients([(keras.ops.convert_to_tensor(g), var)])
        d = g + wd * w
        buf = mu * buf + d
        w = w - lr * (d + mu * buf)
    np.testing.assert_allclose(var.numpy(), w, rtol=1e-6)
    var = keras.Variable(w0.copy())
    AdamWithL2(1e-3, l2=wd).apply_gradients([(keras.ops.convert_to_tensor(g), var)])
    d = g + wd * w0
    m, v = 0.1 * d / (1 - 0.9), 0.001 * d ** 2 / (1 - 0.999)
    np.testing.assert_allclose(var.numpy(), w0 - 1e-3 * m / (np.sqrt(v) + 1e-8), rtol=1e-6)
    # without weight decay the optimizers are Keras' own
    assert type(schedule.optimizer(TrainConfig(), 0, 10)) is keras.optimizers.SGD
    assert isinstance(schedule.optimizer(TrainConfig(weight_decay=1e-4), 0, 10), SGDWithL2)


class _Probe(keras.callbacks.Callback):
    """What each epoch starts with: the optimizer's class, its step count and its current rate."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        self.rows.append((type(opt).__name__, int(opt.iterations.numpy()), float(opt.learning_rate.numpy())))


def test_the_plateau_run_cuts_one_optimizers_rate_in_place(store, tmp_path):
    """A rate too small to learn keeps the validation loss flat: the plateau rule cuts at the 2nd flat epoch and
    at every further one, and the step count runs on across the cuts (no fresh optimizer, no reload)."""
    cfg = tiny(store, schedule="plateau", lr=1e-9, lr_decay=0.5, plateau_patience=1, max_epochs_per_stage=5,
               patience=9, time_decay=0.0)
    cfg.model.bn_momentum = 0.9999999  # nor do the batch norms' moving statistics move the validation loss
    probe = _Probe()
    train(cfg, str(tmp_path), verbose=0, callbacks=(probe,))
    hist = pd.read_csv(tmp_path / "history.csv")
    assert list(hist.lr) == pytest.approx([1e-9, 1e-9, 1e-9, 5e-10, 2.5e-10])
    assert [it for _, it, _ in probe.rows] == [0, 3, 6, 9, 12]
    assert [lr for _, _, lr in probe.rows] == pytest.approx([1e-9, 1e-9, 1e-9, 5e-10, 2.5e-10])
    assert set(hist.stage) == {0}


def test_the_switch_run_starts_sgd_fresh_and_keeps_it_across_its_drop(store, tmp_path):
    cfg = tiny(store, schedule="adam_then_sgd", lr=1e-3, sgd_lr=0.01, lr_decay=0.1, num_stages=3, switch_epoch=2,
               drop_every=1, max_epochs_per_stage=1, time_decay=0.0, weight_decay=1e-4)
    probe = _Probe()
    train(cfg, str(tmp_path), verbose=0, callbacks=(probe,))
    hist = pd.read_csv(tmp_path / "history.csv")
    assert list(hist.stage) == [0, 0, 1, 2]
    assert [name for name, _, _ in probe.rows] == ["AdamWithL2", "AdamWithL2", "SGDWithL2", "SGDWithL2"]
    assert [it for _, it, _ in probe.rows] == [0, 3, 0, 3]  # SGD starts fresh, then its state runs on
    assert [lr for _, _, lr in probe.rows] == pytest.approx([1e-3, 1e-3, 0.01, 0.001])


class _Killed(Exception):
    pass


class _KillAtEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Killed()


@pytest.mark.slow  # four short trainings: ~1.5 min on the shared machine
@pytest.mark.parametrize("kill_at", [2, 3])
def test_a_killed_switch_or_plateau_run_resumes_to_the_same_weights(store, tmp_path, kill_at):
    """Killed before the epoch that starts a stage continuing the previous optimizer (the switch's 2nd SGD
    stage, epoch 3) or right after a plateau cut, a run started again ends with the uninterrupted run's weights:
    the carried optimizer state and the cut rate travel with the committed epoch."""
    from sampleaudio.runs import load_run

    configs = {"switch": tiny(store, schedule="adam_then_sgd", lr=1e-3, sgd_lr=0.01, lr_decay=0.1, num_stages=3,
                              switch_epoch=2, drop_every=1, max_epochs_per_stage=1, time_decay=0.0,
                              weight_decay=1e-4),
               "plateau": tiny(store, schedule="plateau", lr=1e-9, lr_decay=0.5, plateau_patience=0,
                               max_epochs_per_stage=4, patience=9)}
    for name, cfg in configs.items():
        whole = train(cfg, str(tmp_path / f"{name}-whole"), verbose=0)
        run = str(tmp_path / f"{name}-{kill_at}")
        with pytest.raises(_Killed):
            train(cfg, run, verbose=0, callbacks=(_KillAtEpoch(kill_at),))
        assert train(cfg, run, verbose=0) == whole, name
        for a, b in zip(load_run(run)[0].get_weights(), load_run(str(tmp_path / f"{name}-whole"))[0].get_weights()):
            np.testing.assert_array_equal(a, b, err_msg=name)
        history = pd.read_csv(tmp_path / f"{name}-whole" / "history.csv").drop(columns="seconds")
        pd.testing.assert_frame_equal(pd.read_csv(f"{run}/history.csv").drop(columns="seconds"), history)


def test_a_schedule_that_refuses_the_settings_writes_no_run_folder(tone_store, tmp_path):
    from sampleaudio.cli import main

    run = tmp_path / "run"
    code = main(["train", str(run), "--data", tone_store, "--init-features", "4", "--schedule", "plateau",
                 "--lr-schedule", "cosine"])
    assert code == 1 and not run.exists()
