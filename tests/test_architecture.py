"""The import layers of the package (issue #10; ``../shared/reference/architecture.md``): data flows one way,
store -> pipeline -> models -> train -> evaluate / export -> experiments -> CLI, and imports point upstream.

Every import counts, including those inside functions. A new module must be given its layer here.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: layer of each module (a module may import only modules of a lower or equal layer, and never in a cycle);
#: a key ending in ``.*`` covers a whole subpackage
LAYERS = {
    # foundations: no sampleaudio imports but each other
    "sampleaudio._version": 0, "sampleaudio.errors": 0, "sampleaudio.config": 0, "sampleaudio.fileio": 0,
    "sampleaudio.tasks": 0, "sampleaudio.losses": 0, "sampleaudio.clipped_losses": 0,
    "sampleaudio.metrics": 0, "sampleaudio.cpu": 0, "sampleaudio.audio": 0, "sampleaudio.wordvectors": 0,
    "sampleaudio.zeroshot_metrics": 0, "sampleaudio.zeroshot_split": 0, "sampleaudio.cli_types": 0,
    # streaming outputs and taggram plots: files and numbers only
    "sampleaudio.outputs": 0, "sampleaudio.taggram": 0, "sampleaudio.logs": 0,
    # the store
    "sampleaudio.records": 1, "sampleaudio.store": 1,
    # tf.data pipelines
    "sampleaudio.pipeline": 2, "sampleaudio.sampler": 2, "sampleaudio.segments": 2,
    # reference baselines of a store (chance, MFCC + logistic regression): read clips through the pipeline
    "sampleaudio.baselines": 3,
    # converters and proxies (write stores), models
    "sampleaudio.data_prep": 3, "sampleaudio.data_prep.*": 3, "sampleaudio.models": 3, "sampleaudio.models.*": 3,
    "sampleaudio.model_registry": 3, "sampleaudio.checks": 3,  # checks: a model's parameters are its spec's
    "sampleaudio.inspect_store": 3,  # its "< segment" column is Kim 2019's SampleCNN segment of the dataset
    # run folders, training objectives, pretrained-model registry, multi-worker loop
    "sampleaudio.runs": 4, "sampleaudio.objectives": 4, "sampleaudio.coembedding": 4, "sampleaudio.pretrained": 4, "sampleaudio.distributed": 4,
    "sampleaudio.evaluate": 5,
    "sampleaudio.train": 6,
    # what uses a trained model
    "sampleaudio.export": 7, "sampleaudio.chunk_eval": 7, "sampleaudio.analysis": 7,
    "sampleaudio.inference": 8,
    "sampleaudio.retrieval": 9, "sampleaudio.transfer": 9,
    # experiment runner, reports, command line, the package facade
    "sampleaudio.inference_cli": 10, "sampleaudio.retrieval_cli": 10, "sampleaudio.zeroshot_cli": 10, "sampleaudio.experiments": 10,
    "sampleaudio.experiments.*": 10,
    "sampleaudio.reporting": 11,
    "sampleaudio.cli": 12, "sampleaudio": 12,
}

#: the only modules that may import the trainer
TRAINER_IMPORTERS = {"sampleaudio.experiments.runner", "sampleaudio.cli"}


#: folder -> the import name it is installed under (pyproject.toml's package-dir)
PACKAGE_DIRS = {"sampleaudio": "sampleaudio", "data_prep": "sampleaudio.data_prep"}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for top, name in PACKAGE_DIRS.items():
        for path in (ROOT / top).rglob("*.py"):
            parts = list(path.relative_to(ROOT / top).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([name, *parts])] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """module -> the package modules it imports (anywhere in its body)."""
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        deps = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                subs = {f"{base}.{a.name}" for a in node.names} & set(mods)  # `from pkg import submodule`
                deps.update(subs)
                if len(subs) < len(node.names):
                    deps.add(base)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def layer_of(module: str) -> int | None:
    if module in LAYERS:
        return LAYERS[module]
    parts = module.split(".")
    for i in range(len(parts) - 1, 0, -1):
        key = ".".join(parts[:i]) + ".*"
        if key in LAYERS:
            return LAYERS[key]
    return None


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    missing = sorted(m for m in import_graph() if layer_of(m) is None)
    assert not missing, f"give these modules a layer in tests/test_architecture.py LAYERS: {missing}"


def test_imports_point_upstream():
    graph = import_graph()
    upward = [f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
              for m, deps in sorted(graph.items()) for d in sorted(deps)
              if layer_of(m) is not None and layer_of(d) is not None and layer_of(d) > layer_of(m)]
    assert not upward, "\n".join(upward)


def test_nothing_imports_the_folder_name_data_prep():
    """The converters are installed as ``sampleaudio.data_prep`` (no generic top-level name in site-packages); a
    bare ``import data_prep`` works only from a source checkout and would load a second copy of every module."""
    bare = []
    for top in ("sampleaudio", "data_prep", "tests", "reproductions", "benchmarks"):
        for path in (ROOT / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
                bare += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "data_prep"]
    assert not bare, "import sampleaudio.data_prep instead: " + ", ".join(bare)


def test_no_import_cycles():
    assert _cycles(import_graph()) == []


def test_only_the_runner_and_the_cli_import_the_trainer():
    graph = import_graph()
    importers = {m for m, deps in graph.items() if "sampleaudio.train" in deps}
    assert importers <= TRAINER_IMPORTERS, sorted(importers - TRAINER_IMPORTERS)


def test_the_checks_can_fail():
    """The graph sees imports inside functions, ``from pkg import submodule`` and cycles."""
    assert "sampleaudio.models" in import_graph()["sampleaudio.train"]  # `from sampleaudio import models`, in a function
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    assert layer_of("sampleaudio.models.samplecnn") == 3 and layer_of("sampleaudio.nonexistent") is None


def test_run_names_of_different_architectures_differ():
    from sampleaudio.config import ModelConfig
    from sampleaudio.model_registry import ARCHITECTURES, signature

    names = {signature(ModelConfig(architecture=a, block="basic")) for a in ARCHITECTURES}
    assert len(names) == len(ARCHITECTURES)
    assert signature(ModelConfig(block="se", multi=True)) == "se_multi"  # finished SampleCNN runs keep their names


def test_every_registered_architecture_names_its_embedding_layer():
    import keras

    from sampleaudio import model_registry
    from sampleaudio.config import ModelConfig
    from sampleaudio.errors import ParameterError
    from sampleaudio.tasks import TASKS

    for name in ("samplecnn", "lee2017", "frame", "artist_cnn", "short_chunk_cnn"):
        cfg = ModelConfig(architecture=name, init_features=4, num_blocks=3 if name != "frame" else None)
        model = model_registry.build(cfg, TASKS["mtat"])
        layer = model_registry.embedding_layer(name, model)
        assert len(model.get_layer(layer).output.shape) in (2, 3), (name, layer)
        keras.backend.clear_session()
    try:
        model_registry.spec("nope")
    except ParameterError as exc:
        assert "samplecnn" in str(exc)
    else:
        raise AssertionError("an unknown architecture was accepted")


def test_every_configuration_field_has_a_train_flag_and_back():
    """The `train` command's flags are the configuration's fields: neither can gain one the other lacks."""
    import dataclasses

    from sampleaudio import cli
    from sampleaudio.config import DataConfig, EvalConfig, ModelConfig, TrainConfig

    parser = cli.build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    # --onednn is a process setting applied before TensorFlow is imported (sampleaudio.cpu), not a run field
    dests = {a.dest for a in train._actions} - {"help", "run_dir", "quiet", "func", "onednn"}
    fields = set()
    for cls in (DataConfig, ModelConfig, TrainConfig, EvalConfig):
        section = cls.__name__.removesuffix("Config").lower()
        fields |= {cli._FLAG_DEST.get((section, f.name), f.name) for f in dataclasses.fields(cls)}
    assert fields - dests == set(), "configuration fields without a `sampleaudio train` flag"
    assert dests - fields == set(), "`sampleaudio train` flags that reach no configuration field"
    args = parser.parse_args(["train", "--data", "store", "--run-dir", "run", "--shuffle-buffer", "77",
                              "--jit-compile", "off", "--eval-split", "valid"])
    cfg = cli._config_section(DataConfig, args), cli._config_section(TrainConfig, args), cli._config_section(
        EvalConfig, args)
    assert (cfg[0].shuffle_buffer, cfg[1].jit_compile, cfg[2].split) == (77, "off", "valid")
    assert cfg[0].data_dir.endswith("store") and cfg[0].data_dir.startswith("/")


def test_failures_raise_the_packages_own_errors():
    """Bad input raises sampleaudio.errors classes (the CLI prints them as one line), never a bare built-in."""
    bare = []
    for path in _modules().values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
                if node.exc.func.id in ("ValueError", "KeyError", "TypeError", "RuntimeError", "Exception"):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno} raises {node.exc.func.id}")
    assert not bare, "\n".join(bare)


def test_unknown_names_stay_key_errors_with_a_plain_message():
    from sampleaudio.errors import UnknownNameError
    from sampleaudio.tasks import task_for

    try:
        task_for("no-such-dataset", 3)
    except KeyError as exc:
        assert isinstance(exc, UnknownNameError) and str(exc).startswith("no task for dataset 'no-such-dataset'")
    else:
        raise AssertionError("an unknown dataset was accepted")


def test_model_builders_and_audio_load_take_keyword_only_arguments():
    """After its first argument (its first two where they are a pair: a front end's window and hop, a model's
    outputs and input length) a model builder, and ``audio.load`` after the path, takes keywords only."""
    import importlib
    import inspect

    from sampleaudio import audio
    from sampleaudio.models.won2020 import WON2020

    pairs = {"MelCNN", "StridedSampleCNN", "ArtistBasicModel", "musicnn", *(m.builder.__name__ for m in WON2020.values())}
    builders = {audio.load, *(m.builder for m in WON2020.values())}
    registry = ast.parse((ROOT / "sampleaudio" / "model_registry.py").read_text(encoding="utf-8"))
    used = [(n.module, a.name) for n in ast.walk(registry) if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("sampleaudio.models.") for a in n.names]
    assert len(used) >= 7, used  # SampleCNN and its baselines, Park's, Choi's, Won's
    named = [("samplecnn", "SampleCNN"), ("artist_cnn", "ArtistEncoder"), ("artist_cnn", "ArtistSiameseModel"),
             ("artist_cnn", "ArtistSongEmbedder"), ("zeroshot", "WordBranch"), ("zeroshot", "CoEmbeddingModel"),
             ("musicnn", "musicnn"), ("musicnn", "musicnn_vgg")]
    for module, name in used + [(f"sampleaudio.models.{m}", n) for m, n in named]:
        obj = getattr(importlib.import_module(module), name)
        if inspect.isfunction(obj):  # not the WON2020 table
            builders.add(obj)
    assert len(builders) >= 20
    loose = []
    for fn in builders:
        params = list(inspect.signature(fn).parameters.values())
        k = 2 if fn.__name__ in pairs else 1
        if any(p.kind != p.POSITIONAL_OR_KEYWORD for p in params[:k]) or any(
                p.kind not in (p.KEYWORD_ONLY, p.VAR_KEYWORD) for p in params[k:]):
            loose.append(f"{fn.__module__}.{fn.__name__}{inspect.signature(fn)}")
    assert not loose, "\n".join(loose)
