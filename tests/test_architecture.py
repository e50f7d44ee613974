"""The import layers of the package: data flows one way, core -> stores -> pipeline -> families (and the layers
they share) -> objectives -> train -> evaluate / inference / export -> experiments -> CLI, and imports point
upstream; a family never imports another family.

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
    "sampleaudio._version": 0, "sampleaudio.errors": 0, "sampleaudio.fileio": 0, "sampleaudio.params": 0,
    "sampleaudio.logs": 0, "sampleaudio.losses": 0, "sampleaudio.clipped_losses": 0,
    "sampleaudio.metrics": 0, "sampleaudio.cpu": 0, "sampleaudio.audio": 0, "sampleaudio.wordvectors": 0,
    "sampleaudio.cli_types": 0,
    # streaming outputs and taggram plots: files and numbers only
    "sampleaudio.outputs": 0, "sampleaudio.taggram": 0, "sampleaudio.images": 0,
    # what the families declare (TensorFlow-free: the CLI reads it at start-up), the run configuration made of
    # their parameters, the run folder's files, the reading of older formats, the dataset table
    "sampleaudio.families": 1, "sampleaudio.families.samplecnn": 1, "sampleaudio.families.samplecnn.params": 1,
    "sampleaudio.families.artist_cnn": 1, "sampleaudio.families.zeroshot": 1, "sampleaudio.families.won2020": 1,
    "sampleaudio.families.harmonic_cnn": 1, "sampleaudio.families.musicnn": 1, "sampleaudio.families.choi2017": 1,
    "sampleaudio.config": 1, "sampleaudio.migrate": 1, "sampleaudio.cards": 1,
    # the store: its schema (features a dataset declares, its task), writer and reader
    "sampleaudio.stores": 1, "sampleaudio.stores.*": 1,
    # tf.data pipelines
    "sampleaudio.pipeline": 3, "sampleaudio.metric_learning": 3, "sampleaudio.segments": 3,
    # reference baselines of a store (chance, MFCC + logistic regression): read clips through the pipeline
    "sampleaudio.baselines": 4,
    # converters and proxies (write stores), models, the families' builders and objectives
    "sampleaudio.data_prep": 4, "sampleaudio.data_prep.*": 4, "sampleaudio.models": 4, "sampleaudio.layers": 4,
    "sampleaudio.layers.*": 4, "sampleaudio.weights": 4,
    "sampleaudio.families.*": 4,
    "sampleaudio.inspect_store": 4,  # its "< segment" column is Kim 2019's SampleCNN segment of the dataset
    # a finished run's model, pretrained-model loading, the multi-worker loop, the schedule's pieces
    "sampleaudio.runs": 5, "sampleaudio.pretrained": 5, "sampleaudio.distributed": 5, "sampleaudio.schedule": 5,
    "sampleaudio.evaluate": 6,
    "sampleaudio.objectives": 7, "sampleaudio.objectives.*": 7,
    "sampleaudio.train": 8,
    # what uses a trained model
    "sampleaudio.export": 9, "sampleaudio.chunk_eval": 9, "sampleaudio.analysis": 9,
    "sampleaudio.inference": 10, "sampleaudio.sources": 1,
    "sampleaudio.retrieval": 11, "sampleaudio.transfer": 11,
    # experiment runner, reports, command line, the package facade
    "sampleaudio.retrieval_cli": 12, "sampleaudio.zeroshot_cli": 12, "sampleaudio.train_cli": 12,
    "sampleaudio.inference_cli": 12,
    "sampleaudio.experiments": 12, "sampleaudio.experiments.*": 12,
    "sampleaudio.reporting": 13,
    "sampleaudio.cli": 14, "sampleaudio": 14,
}

#: the only modules that may import the trainer
TRAINER_IMPORTERS = {"sampleaudio.experiments.runner", "sampleaudio.train_cli"}


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
    assert layer_of("sampleaudio.families.samplecnn.model") == 4 and layer_of("sampleaudio.nonexistent") is None


def test_run_names_of_different_architectures_differ():
    from sampleaudio import families

    archs = families.architectures()
    names = {families.signature(families.model_params(a, **({"block": "basic"} if "block" in
                                                            families.parameter_names(a) else {})))
             for a in archs}
    assert len(names) == len(archs)
    assert families.signature(families.model_params(block="se", multi=True)) == "se_multi"  # finished runs keep names


def test_every_registered_architecture_names_its_embedding_layer():
    import keras

    from sampleaudio import families
    from sampleaudio.data_prep import task_for
    from sampleaudio.errors import ParameterError
    from sampleaudio.train import build_model

    for name in ("samplecnn", "lee2017", "frame", "artist_cnn", "short_chunk_cnn"):
        taken = families.parameter_names(name)
        cfg = families.model_params(name, **{k: v for k, v in (("init_features", 4), ("num_blocks", 3))
                                             if k in taken})
        model = build_model(cfg, task_for("mtat"), 729 if name != "artist_cnn" else 65024)
        layer = families.embedding_layer(name, model)
        assert len(model.get_layer(layer).output.shape) in (2, 3), (name, layer)
        keras.backend.clear_session()
    try:
        families.architecture("nope")
    except ParameterError as exc:
        assert "samplecnn" in str(exc)
    else:
        raise AssertionError("an unknown architecture was accepted")


def test_every_declared_parameter_has_a_train_flag_and_back():
    """`train`'s flags are generated from the declarations: every field of every section, architecture and
    objective has its flag, and every flag reaches a field (a typed copy could not drift)."""
    import dataclasses

    from sampleaudio import cli, families
    from sampleaudio.config import DataConfig, EvalConfig, TrainConfig

    parser = cli.build_parser()
    train = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    # --onednn is a process setting applied before TensorFlow is imported (sampleaudio.cpu), not a run field
    dests = {a.dest for a in train._actions} - {"help", "run", "run_dir", "quiet", "verbose", "func", "onednn",
                                                "architecture", "objective"}
    fields = {f"{section}__{f.name}" for section, cls in (("data", DataConfig), ("train", TrainConfig),
                                                          ("eval", EvalConfig)) for f in dataclasses.fields(cls)}
    for a in families.architectures().values():
        fields |= {f"model__{f}" for f in families.parameter_names(a.name)}
    for o in families.objectives().values():
        fields |= {f"objective__{f}" for f in families.objective_parameter_names(o.name)}
    assert fields - dests == set(), "declared parameters without a `sampleaudio train` flag"
    assert dests - fields == set(), "`sampleaudio train` flags that reach no parameter"


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
    from sampleaudio.data_prep import task_for
    from sampleaudio.errors import UnknownNameError

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
    from sampleaudio.families.harmonic_cnn.model import harmonic_cnn
    from sampleaudio.families.won2020.model import WON2020

    pairs = {"MelCNN", "StridedSampleCNN", "ArtistBasicModel", "musicnn", "harmonic_cnn", "choi2017_convnet",
             *(m.builder.__name__ for m in WON2020.values())}
    builders = {audio.load, harmonic_cnn, *(m.builder for m in WON2020.values())}
    used = [(n.module, a.name) for path in (ROOT / "sampleaudio" / "families").glob("*/build.py")
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ImportFrom)
            and (n.module or "").startswith("sampleaudio.families.") and n.module.endswith(".model") for a in n.names]
    assert len(used) >= 7, used  # SampleCNN and its baselines, Park's, Choi's, Won's
    named = [("samplecnn", "SampleCNN"), ("artist_cnn", "ArtistEncoder"), ("artist_cnn", "ArtistSiameseModel"),
             ("artist_cnn", "ArtistSongEmbedder"), ("zeroshot", "WordBranch"), ("zeroshot", "CoEmbeddingModel"),
             ("musicnn", "musicnn"), ("musicnn", "musicnn_vgg")]
    for module, name in used + [(f"sampleaudio.families.{m}.model", n) for m, n in named]:
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


def test_a_family_never_imports_another_family():
    """What two families share lives in sampleaudio.layers (architecture rule 2)."""
    graph = import_graph()
    crossing = []
    for module, deps in sorted(graph.items()):
        parts = module.split(".")
        if parts[:2] != ["sampleaudio", "families"] or len(parts) < 3:
            continue
        for dep in sorted(deps):
            other = dep.split(".")
            if other[:2] == ["sampleaudio", "families"] and len(other) > 2 and other[2] != parts[2]:
                crossing.append(f"{module} imports {dep}")
    assert not crossing, "\n".join(crossing)


def test_the_package_points_to_nothing_outside_itself():
    """No reference to the developers' shared folder (not installed) or to this project's issue tracker in the
    installed code; the original authors' repositories are named as ``owner/repo`` (``owner/repo#N`` for one of
    their issues)."""
    import re

    found = []
    for path in _modules().values():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "../shared" in line or "papers.md" in line or re.search(r"\b[Ii]ssues? #\d", line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not found, "\n".join(found)
