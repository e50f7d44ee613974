"""The families' registrations: each family's own parameters, input sizes and evaluation chunking, declared in its
folder and kept out of the dataset table, with finished runs' names and configurations unchanged."""

from __future__ import annotations

import dataclasses
import json

import pytest

from sampleaudio import families
from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig, differences, model_params
from sampleaudio.data_prep import task_for
from sampleaudio.errors import ParameterError
from sampleaudio.families.samplecnn.params import samplecnn_blocks
from sampleaudio.stores import Task
from sampleaudio.train import build_model


def config_from_file_dict(raw) -> ExperimentConfig:
    from sampleaudio.migrate import config_dict

    return ExperimentConfig.from_dict(config_dict(raw))


def run_config_dict(config: ExperimentConfig) -> dict:
    return config.to_dict()

#: what the dataset table said before it lost its SampleCNN sizes: dataset -> (num_blocks, segment)
OLD_SIZES = {"mtat": (9, 59049), "speech-commands": (8, 22050), "dcase2017": (8, 22050), "msd-artist": (0, 65536),
             "gtzan": (0, 65536), "fma-small": (0, 65536), "msd-tags": (0, 65536)}
SAMPLECNN_FAMILY = ("samplecnn", "lee2017", "samplecnn_rnn", "mel", "strided", "frame")

#: a demo run's config.json as it was written before model configurations named only their own parameters
OLD_FRAME_DEMO = {
    "data": {"batch_size": 46, "data_dir": "/data", "max_eval_segments": None, "max_valid_segments": 1,
             "segment": None, "shuffle_buffer": 2048, "standardize": "manifest", "train_examples": "random_crop"},
    "eval": {"batch_size": 64, "split": "test", "threshold": None},
    "model": {"amplifying_ratio": 0.125, "architecture": "frame", "block": "basic", "bn_momentum": 0.9,
              "dropout": 0.5, "hop": 3, "init_features": 16, "initializer": "jstsp", "multi": False,
              "num_blocks": None, "window": 243},
    "name": "mtat-frame_w243-demo", "notes": "(prose)",
    "train": {"distribute": "none", "jit_compile": "auto", "loss": "keras", "lr": 0.003, "lr_decay": 0.2,
              "lr_schedule": "cosine", "margin": 0.4, "max_epochs_per_stage": 1, "mixed_precision": "off",
              "momentum": 0.9, "num_negatives": 4, "num_stages": 1, "objective": "classification",
              "oov_tags": "error", "optimizer": "adam", "patience": 100, "seed": 0, "split_seed": 0,
              "steps_per_epoch": 240, "time_decay": 0.0, "unseen_fraction": 0.2, "warmup_steps": 20,
              "word_vectors": "glove-6b-50d"}}
OLD_SE_MULTI_MODEL = {"amplifying_ratio": 0.125, "architecture": "samplecnn", "block": "rese2", "bn_momentum": 0.9,
                      "dropout": 0.5, "hop": 3, "init_features": 16, "initializer": "jstsp", "multi": True,
                      "num_blocks": None, "window": 3}


def test_the_kim2019_sizes_are_the_samplecnn_familys():
    """The SampleCNN family's segments and depths on Kim 2019's datasets are the paper's; the "with RNN" split
    too. Every other family runs at its own paper input, on any dataset (before, FCN on MTAT got Kim's 59,049)."""
    for arch in SAMPLECNN_FAMILY:
        for name in ("mtat", "speech-commands", "dcase2017"):
            assert families.default_segment(model_params(arch), name) == OLD_SIZES[name][1], (arch, name)
    for name in ("mtat", "speech-commands", "dcase2017"):
        blocks, segment = OLD_SIZES[name]
        assert samplecnn_blocks(model_params(), name, segment) == blocks
        assert samplecnn_blocks(model_params(), name, 729) == blocks  # the task's, as before
        assert samplecnn_blocks(model_params(num_blocks=3), name, segment) == 3
    own = {"artist_cnn": 65536, "choi2019_audio": 66048, "fcn": 464000, "crnn": 464000, "won_musicnn": 48000,
           "short_chunk_cnn": 59049, "short_chunk_resnet": 59049, "harmonic_cnn": 80000}
    for arch, segment in own.items():
        for name in ("mtat", "speech-commands", "msd-artist", "gtzan"):
            assert families.default_segment(model_params(arch), name) == segment, (arch, name)
    from sampleaudio.families.samplecnn.presets import PRESETS, RNN_BLOCKS

    assert RNN_BLOCKS == {"mtat": 4, "speech-commands": 4, "dcase2017": 5}
    assert {k: v["num_blocks"] for k, v in PRESETS.items()} == {"mtat": 9, "speech-commands": 8, "dcase2017": 8,
                                                                "lee2017": 9}
    assert not {"num_blocks", "segment"} & {f for f in Task.__dataclass_fields__}


def test_a_new_dataset_gets_no_invented_samplecnn_size():
    """The depth comes from the model's parameters or the segment."""
    assert families.default_segment(model_params("artist_cnn"), "birds") == 65536
    assert families.default_segment(model_params(num_blocks=3), "birds") == 81
    with pytest.raises(ParameterError, match="give data.segment .--segment."):
        families.default_segment(model_params(), "birds")
    assert [samplecnn_blocks(model_params(), "birds", s) for s in (9, 80, 81, 22050, 59049)] == [1, 2, 3, 8, 9]
    task = Task("birds", 5, True, 0.5, "roc_auc", 10.0)
    with pytest.raises(ParameterError, match="too short"):
        build_model(model_params(), task, 8)


def test_a_new_dataset_trains_a_samplecnn_sized_by_its_segment(tone_store, tmp_path):
    """The tone store's dataset (tests/tones.py) has no size anywhere: 81-sample segments give 3 blocks."""
    config = ExperimentConfig(name="tones", data=DataConfig(data_dir=tone_store, segment=81, batch_size=8),
                              model=model_params(block="basic", init_features=4),
                              train=TrainConfig(optimizer="adam", lr=0.01, num_stages=1, max_epochs_per_stage=1,
                                                steps_per_epoch=2))
    from sampleaudio.experiments import run_experiments

    runs = run_experiments([({}, config)], str(tmp_path))
    card = json.loads((tmp_path / "tones" / "model_card.json").read_text())
    assert card["segment"] == 81 and card["task"]["name"] == "tones" and 0 <= runs["accuracy"][0] <= 1
    assert json.loads((tmp_path / "tones" / "config.json").read_text())["model"] == {
        "architecture": "samplecnn", "block": "basic", "multi": False, "num_blocks": None, "amplifying_ratio": 0.125,
        "dropout": 0.5, "init_features": 4, "initializer": "jstsp", "bn_momentum": None}
    # the same folder as a run finished before this change wrote it: a flat model section (with a knob the model
    # never had) and a card whose task holds SampleCNN sizes. It still loads, evaluates and is the same run.
    run_dir = tmp_path / "tones"
    new = config.to_dict()
    old = {k: v for k, v in new.items() if k != "objective"}
    old["model"] = {**new["model"], "window": 27}
    old["train"] = {**new["train"], "objective": "classification", "num_negatives": 4, "margin": 0.4,
                    "word_vectors": "glove-6b-50d", "unseen_fraction": 0.2, "split_seed": 0, "oov_tags": "error"}
    (run_dir / "config.json").write_text(json.dumps(old))
    card = json.loads((run_dir / "model_card.json").read_text())
    card["task"] = {k: v for k, v in card["task"].items() if k not in ("proxy", "aliases")}
    (run_dir / "model_card.json").write_text(json.dumps({**card, "task": {**card["task"], "num_blocks": 3,
                                                                           "segment": 81}}))
    from sampleaudio.evaluate import evaluate_run
    from sampleaudio.runs import load_run

    model, loaded, task = load_run(str(run_dir))
    assert loaded.model == config.model and task.name == "tones" and model.input.shape[1] in (None, 81)
    assert evaluate_run(str(run_dir), "valid")["clips"] == 12
    assert run_experiments([({}, config)], str(tmp_path))["accuracy"][0] == runs["accuracy"][0]  # reused


def test_kim2019_demo_runs_keep_their_names_and_identities():
    """Demo runs keep their names, and their configurations compare equal to the flat config.json files they were
    written with except for the demo's own later changes."""
    from sampleaudio.experiments import experiment

    blocks = ["basic", "se", "res1", "res2", "rese1", "rese2"]
    names = {experiment(t, "demo", "/data", block=b, multi=m).name
             for t in ("mtat", "speech-commands", "dcase2017") for b in blocks for m in (False, True)}
    assert names == {f"{t}-{b}{'_multi' if m else ''}-demo"
                     for t in ("mtat", "speech-commands", "dcase2017") for b in blocks for m in (False, True)}
    pinned = [("mtat-rnn_basic-demo", "mtat", {"architecture": "samplecnn_rnn", "block": "basic"}),
              ("speech-commands-frame_w243-demo", "speech-commands", {"architecture": "frame", "window": 243}),
              ("dcase2017-mel_w729_h243_basic-demo", "dcase2017",
               {"architecture": "mel", "window": 729, "hop": 243, "block": "basic"}),
              ("mtat-strided_w243_h81_basic-demo", "mtat",
               {"architecture": "strided", "window": 243, "hop": 81, "block": "basic"})]
    for name, task, fields in pinned:
        assert experiment(task, "demo", "/data", **fields).name == name
    assert experiment("mtat", "demo", "/data", protocol="smc2017").name == "mtat-lee2017-smc2017-demo"
    assert experiment("mtat", "demo", "/data", protocol="icassp2018", block="se").name == "mtat-se-icassp2018-demo"
    # the old flat config.json of a finished run and today's configuration differ only in the settings the demo
    # changed on purpose (one thread per run, bfloat16 where the CPU has it, MTAT's steps), so such a run is
    # trained again
    new = experiment("mtat", "demo", "/data", architecture="frame", window=243)
    assert differences(run_config_dict(config_from_file_dict(OLD_FRAME_DEMO)), run_config_dict(new)) == [
        "notes ('(prose)' -> " + repr(new.notes) + ")", "train.mixed_precision ('off' -> 'auto')",
        "train.steps_per_epoch (240 -> 264)", "train.threads (0 -> 1)"]
    old = config_from_file_dict({**OLD_FRAME_DEMO, "model": OLD_SE_MULTI_MODEL})
    new = experiment("speech-commands", "demo", "/data", block="rese2", multi=True)
    assert run_config_dict(old)["model"] == run_config_dict(new)["model"]


def test_old_flat_model_sections_read_back_and_new_ones_name_only_their_parameters():
    config = config_from_file_dict(OLD_FRAME_DEMO)
    assert config.model == model_params("frame", window=243, init_features=16, bn_momentum=0.9)
    config.check()  # the old file's block="basic" (which the frame model never had) is not held against it
    assert run_config_dict(config)["model"] == {"architecture": "frame", "bn_momentum": 0.9, "window": 243,
                                                "dropout": 0.5, "init_features": 16, "initializer": "jstsp"}
    assert run_config_dict(config)["objective"] == {"name": "classification"}  # its objective's own section
    assert "num_negatives" not in run_config_dict(config)["train"]
    assert config_from_file_dict(run_config_dict(config)).model == config.model  # and the new form reads back
    assert model_params("artist_cnn").to_dict() == {"architecture": "artist_cnn", "bn_momentum": None}


@pytest.mark.parametrize("model, field", [({"architecture": "frame", "block": "rese2"}, "block"),
                                          ({"architecture": "lee2017", "multi": True}, "multi"),
                                          ({"architecture": "artist_cnn", "init_features": 16}, "init_features"),
                                          ({"architecture": "fcn", "init_features": 16}, "init_features"),
                                          ({"architecture": "samplecnn", "window": 9}, "window")])
def test_a_knob_the_architecture_does_not_take_is_refused(model, field):
    with pytest.raises(ParameterError, match=f"^model.{field} is not a parameter of architecture "
                                             f"'{model['architecture']}' \\(it takes .*\\). Received: "):
        model_params(**model)


def test_the_won_widths_match_the_models():
    from sampleaudio.families.won2020.model import WON2020

    for name, model in WON2020.items():
        assert ("init_features" in families.parameter_names(name)) == model.scalable, name


def test_old_model_cards_still_give_their_task():
    card_task = {"name": "mtat", "num_blocks": 9, "segment": 59049, "num_classes": 50, "multi_label": True,
                 "threshold": 0.5, "paper_mean": -1.650025e-4, "paper_std": 0.1551194, "metric": "roc_auc",
                 "clip_seconds": 29.0}
    task = Task.from_dict(card_task)
    assert (task.name, task.num_classes, task.paper_std, task.metric) == ("mtat", 50, 0.1551194, "roc_auc")
    new = json.loads(json.dumps(task_for("mtat").__dict__))  # a card written today (aliases as a JSON list)
    assert Task.from_dict(new) == task_for("mtat")


def test_the_chunk_policy_is_each_familys_and_won2020_models_take_16_evenly_spaced_chunks():
    """A Won 2020 run's card records Won's evaluation (16 evenly spaced chunks per clip, ``training/eval.py`` of
    minzwon/sota-music-tagging-models); every other family, and so every Kim 2019 run, keeps consecutive segments."""
    from sampleaudio.families.won2020.model import WON2020
    from sampleaudio.segments import WON2020_CHUNKS, InputSpec

    assert families.WON2020_CHUNKS == WON2020_CHUNKS
    for name, arch in families.architectures().items():
        won = name in WON2020 or name == "harmonic_cnn"
        spec = arch.input
        assert (spec.chunking, spec.chunks) == (("evenly-spaced", 16) if won else ("consecutive", 16)), name
        InputSpec(segment=1, chunking=spec.chunking, chunks=spec.chunks)  # a valid card


def test_the_builders_build_for_the_stores_sample_rate():
    for name, layer in (("short_chunk_cnn", "spec"), ("mel", "melspec")):
        cfg = model_params(name, init_features=4, **({"num_blocks": 3} if name == "mel" else {}))
        assert build_model(cfg, task_for("mtat"), 59049, sample_rate=16000).get_layer(layer).sample_rate == 16000
        assert build_model(cfg, task_for("mtat"), 59049).get_layer(layer).sample_rate == 22050  # the project's


#: every architecture's run-name signature for a few configurations, as an if-chain in config.py gave them before
#: each family declared its own: finished runs are found by these names
SIGNATURE_VARIANTS = [{}, {"block": "basic"},
                      {"block": "res", "multi": True, "window": 729, "hop": 729, "init_features": 16},
                      {"block": "rese", "multi": False, "window": 9, "hop": 3, "init_features": 32}]
OLD_SIGNATURES = {
    "samplecnn": ["se", "basic", "res_multi", "rese"],
    "lee2017": ["lee2017", "lee2017", "lee2017", "lee2017"],
    "samplecnn_rnn": ["rnn_se", "rnn_basic", "rnn_res", "rnn_rese"],
    "mel": ["mel_w3_h3_se", "mel_w3_h3_basic", "mel_w729_h729_res", "mel_w9_h3_rese"],
    "strided": ["strided_w3_h3_se", "strided_w3_h3_basic", "strided_w729_h729_res", "strided_w9_h3_rese"],
    "frame": ["frame_w3", "frame_w3", "frame_w729", "frame_w9"],
    "artist_cnn": ["artist_cnn_w128", "artist_cnn_w128", "artist_cnn_w16", "artist_cnn_w32"],
    "choi2019_audio": ["choi2019_audio_w128", "choi2019_audio_w128", "choi2019_audio_w16", "choi2019_audio_w32"],
    "fcn": ["fcn_w128", "fcn_w128", "fcn_w16", "fcn_w32"],
    "crnn": ["crnn_w128", "crnn_w128", "crnn_w16", "crnn_w32"],
    "won_musicnn": ["won_musicnn_w128", "won_musicnn_w128", "won_musicnn_w16", "won_musicnn_w32"],
    "short_chunk_cnn": ["short_chunk_cnn_w128", "short_chunk_cnn_w128", "short_chunk_cnn_w16", "short_chunk_cnn_w32"],
    "short_chunk_resnet": ["short_chunk_resnet_w128", "short_chunk_resnet_w128", "short_chunk_resnet_w16",
                           "short_chunk_resnet_w32"],
    "harmonic_cnn": ["harmonic_cnn_w128", "harmonic_cnn_w128", "harmonic_cnn_w16", "harmonic_cnn_w32"],
    "choi2017_convnet": ["choi2017_convnet"] * 4,  # no width parameter: 32 channels, as the paper
    # Oramas 2018's towers: named by their own parameters, none of which the variants above set
    "oramas2018": ["oramas2018_mumu_resnet50_d128"] * 4,
    "oramas2018_audio": ["oramas2018_audio_mumu_w1"] * 4,
    "oramas2018_image": ["oramas2018_image_resnet50_224"] * 4,
}


def test_every_architectures_run_name_signature_is_unchanged():
    """With only the fields the architecture takes (the others never reached its name but for the fixed-width
    models, whose width stays at its default: 128)."""
    assert set(OLD_SIGNATURES) == set(families.architectures())
    for name, expected in OLD_SIGNATURES.items():
        taken = families.parameter_names(name)
        got = [families.signature(model_params(name, **{k: x for k, x in v.items() if k in taken}))
               for v in SIGNATURE_VARIANTS]
        fixed = name in ("artist_cnn", "choi2019_audio", "fcn", "crnn", "won_musicnn")
        assert got == ([f"{name}_w128"] * 4 if fixed else expected), name


def _toy_family(monkeypatch):
    """A family declared the way a new one is: its own package and one more name in FAMILY_MODULES."""
    import sys
    import types

    from sampleaudio.families import Architecture, AudioInput, Family, ModelParams, Objective, ObjectiveParams
    from sampleaudio.params import param

    @dataclasses.dataclass
    class ToyParams(ModelParams):
        architecture: str = "toy_cnn"
        toy_width: int = param(3, "filters of the toy conv", low=1)

    @dataclasses.dataclass
    class ToyObjectiveParams(ObjectiveParams):
        name: str = "toy_objective"
        toy_weight: float = param(1.0, "weight of the toy loss", low=0)

    def build(params, task, segment, sample_rate):
        import keras

        x = inp = keras.Input((segment, 1))
        x = keras.layers.Conv1D(params.toy_width, 9, strides=9, name="toy_conv")(x)
        x = keras.layers.GlobalAveragePooling1D(name="toy_pool")(x)
        return keras.Model(inp, keras.layers.Dense(task.num_classes, activation=task.activation)(x))

    module = types.ModuleType("sampleaudio.families.toy")
    module.build = build
    module.FAMILY = Family(
        name="toy", paper="A toy, 2026", docs="papers/toy.md",
        architectures=(Architecture("toy_cnn", ToyParams, "sampleaudio.families.toy:build", "a toy CNN",
                                    AudioInput(sample_rate=22050, segment=729), {"penultimate": "toy_pool"},
                                    objectives=("classification", "toy_objective")),),
        objectives=(Objective("toy_objective", ToyObjectiveParams, "sampleaudio.objectives.classification:"
                              "Classification", "a toy objective"),))
    monkeypatch.setitem(sys.modules, "sampleaudio.families.toy", module)
    monkeypatch.setattr(families, "FAMILY_MODULES", (*families.FAMILY_MODULES, "toy"))


def test_a_new_family_is_its_own_package_and_one_registration(monkeypatch, capsys):
    """Registered by one name, a family's architecture, parameters, objective and input reach the configuration,
    `sampleaudio train` (flags and help), `sampleaudio models` and the defaults, with no other edit."""
    from sampleaudio.cli import main

    _toy_family(monkeypatch)
    params = model_params("toy_cnn", toy_width=5)
    assert families.default_segment(params, "mtat") == 729 and families.signature(params) == "toy_cnn_w128"
    assert families.objective_params("toy_objective").toy_weight == 1.0
    assert main(["models"]) == 0
    assert "toy_cnn" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "--architecture", "toy_cnn", "--help"])
    shown = capsys.readouterr().out
    assert "--toy-width" in shown and "--block" not in shown
    with pytest.raises(ParameterError, match="--block is not a parameter of architecture 'toy_cnn'"):
        from sampleaudio.train_cli import _params

        _params("architecture", "toy_cnn", {"block": "se"}, families.model_params)


def test_a_new_family_trains_end_to_end(monkeypatch, tone_store, tmp_path):
    from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig
    from sampleaudio.train import train

    _toy_family(monkeypatch)
    config = ExperimentConfig(
        name="toy", data=DataConfig(data_dir=tone_store, batch_size=4), model=model_params("toy_cnn"),
        objective=families.objective_params("toy_objective"),
        train=TrainConfig(optimizer="adam", num_stages=1, max_epochs_per_stage=1, steps_per_epoch=2,
                          mixed_precision="off"))
    result = train(config, str(tmp_path), verbose=0)
    card = json.loads((tmp_path / "model_card.json").read_text())
    assert card["segment"] == 729 and card["embedding_layer"] == "toy_pool" and card["objective"] == "toy_objective"
    assert 0 <= result["accuracy"] <= 1


def test_no_shared_module_names_a_family():
    """Only a family's own folder (and its experiments) may name its architectures: the shared modules reach every
    family through the registry."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "sampleaudio"
    own = ("families", "models", "experiments", "data")  # the families' folders, the model code they call, papers
    names = [a for a in families.architectures() if a not in ("mel", "frame", "strided")]  # also plain words
    alternatives = "|".join(map(re.escape, names))
    pattern = re.compile(rf"""["']({alternatives})["']""")
    found = []
    for path in root.rglob("*.py"):
        if path.relative_to(root).parts[0] in own:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)


def test_the_cpu_precision_rule_is_declared_by_the_architectures_it_was_measured_on():
    measured = {a.name for a in families.architectures().values() if a.cpu_bfloat16}
    assert measured == {"samplecnn", "lee2017"}  # the waveform SampleCNNs (docs/performance.md)


def test_train_refuses_a_flag_the_architecture_does_not_take_in_one_line(tone_store, tmp_path, capsys):
    from sampleaudio.cli import main

    run = tmp_path / "run"
    assert main(["train", str(run), "--data", tone_store, "--architecture", "frame", "--block", "se"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--block is not a parameter of architecture 'frame'" in err[0] and "--window" in err[0]
    assert not run.exists()  # refused before anything was written
    assert main(["train", str(run), "--data", tone_store, "--objective", "coembedding", "--margin", "0.2"]) == 1
    assert "does not train architecture 'samplecnn'" in capsys.readouterr().err


def test_every_command_names_a_model_the_same_way_and_lists_the_same_way():
    """A model is the positional MODEL; how many results is --top-k (the older --top still works)."""
    from sampleaudio.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for name in ("evaluate", "tag", "embed", "index", "export", "neighbours"):
        positionals = [a.dest for a in commands[name]._actions if not a.option_strings]
        assert positionals[0] == "model", (name, positionals)
    for name in ("similar", "search", "neighbours"):
        flags = {f for a in commands[name]._actions for f in a.option_strings}
        assert "--top-k" in flags, name
    args = parser.parse_args(["similar", "q.wav", "--index", "i", "--top", "3"])
    assert args.top == 3 and parser.parse_args(["similar", "q.wav", "--index", "i", "--top-k", "4"]).top == 4


def test_a_mistyped_pretrained_name_gets_the_closest_one(capsys):
    from sampleaudio.cli import main

    assert main(["tag", "musicnn-mt", "x.wav"]) == 1
    err = capsys.readouterr().err
    assert "did you mean 'musicnn-mtt'" in err and err.count("\n") == 1


def test_a_siamese_run_written_before_anchors_existed_keeps_drawing_them_uniformly():
    """Resuming an older Siamese run must not switch it to one anchor per song (another run's sampling): a
    configuration of either older form (the objective's fields in ``train``, or its own section without
    ``anchors``) reads back as uniform draws; one written since says what it used."""
    old = {**OLD_FRAME_DEMO, "model": {"architecture": "artist_cnn", "bn_momentum": 0.9},
           "train": {**OLD_FRAME_DEMO["train"], "objective": "siamese"}}
    config = config_from_file_dict(old)
    assert config.objective.anchors == "uniform"
    current = run_config_dict(config)
    assert current["objective"]["anchors"] == "uniform"
    current["objective"]["anchors"] = "each"
    assert config_from_file_dict(current).objective.anchors == "each"
    del current["objective"]["anchors"]
    assert config_from_file_dict(current).objective.anchors == "uniform"
