"""Count how a tiny ``train(config)`` walks through the package's modules (a measure of the architecture).

Every Python function call made in the main thread while ``train`` runs is attributed to the ``sampleaudio``
module whose code it is (calls into other libraries are skipped); consecutive calls in one module are one
*stay*. Printed: stays, distinct modules (*rooms*), and *returns*: stays in a module that the walk had already
left once (stays - rooms). ``--trainer-calls`` counts only the calls made directly by the trainer module's own
functions (the walk of ``train`` itself, not of the code it calls). Run it from the repository root on two commits
to compare them::

    python tools/trace_train.py [--trainer-calls]   # builds a tiny tone store in a temporary folder, trains 1 step

Only the counts are meant to be compared, on the same tiny configuration, between versions of the package.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading

import numpy as np


def _store(root: str) -> str:
    try:
        from sampleaudio.stores import Clip, write_dataset
    except ImportError:  # versions before the stores package
        from sampleaudio.records import Clip, write_dataset  # noqa: F401

    class Tones:
        def __call__(self, clip):
            k = int(clip.source)
            t = np.arange(2000) / 22050
            return (0.3 * np.sin(2 * np.pi * (200 + 300 * (k % 3)) * t)).astype(np.float32)

    clips = [Clip(f"c{i}", ("train", "valid", "test")[i % 3], (i % 3,), str(i)) for i in range(18)]
    out = os.path.join(root, "store")
    labels = ["w0", "w1", "w2"]
    common = dict(labels=labels, converter="trace", converter_version="0", loader=Tones(), clips_per_shard=8,
                  progress=False)
    try:
        from sampleaudio.data_prep import get_info

        write_dataset(clips, out, info=get_info("mini-speech-commands"), **common)
    except (ImportError, TypeError):  # versions before datasets declared themselves
        write_dataset(clips, out, dataset="mini-speech-commands", multi_label=False, **common)
    return out


def main() -> int:
    from sampleaudio.config import DataConfig, ExperimentConfig, TrainConfig

    try:
        from sampleaudio.config import model_params
        model = model_params(block="basic", num_blocks=3, init_features=4)
    except ImportError:
        from sampleaudio.config import ModelConfig
        model = ModelConfig(block="basic", num_blocks=3, init_features=4)
    from sampleaudio.train import train

    with tempfile.TemporaryDirectory() as root:
        config = ExperimentConfig(
            name="trace", data=DataConfig(data_dir=_store(root), segment=81, batch_size=4), model=model,
            train=TrainConfig(optimizer="adam", num_stages=1, max_epochs_per_stage=1, steps_per_epoch=1,
                              mixed_precision="off"))
        package = os.path.dirname(os.path.abspath(sys.modules["sampleaudio"].__file__))
        walk: list[str] = []
        main_thread = threading.get_ident()

        trainer = os.path.join(package, "train.py")
        only_trainer = "--trainer-calls" in sys.argv

        def profile(frame, event, arg):
            if event != "call" or threading.get_ident() != main_thread:
                return
            if only_trainer and (frame.f_back is None or frame.f_back.f_code.co_filename != trainer) \
                    and frame.f_code.co_filename != trainer:
                return
            path = frame.f_code.co_filename
            if path.startswith(package):
                module = "sampleaudio." + os.path.relpath(path, package)[:-3].replace(os.sep, ".")
                module = module.removesuffix(".__init__")
                if not walk or walk[-1] != module:
                    walk.append(module)

        sys.setprofile(profile)
        try:
            train(config, os.path.join(root, "run"), verbose=0)
        finally:
            sys.setprofile(None)
    rooms = len(set(walk))
    elsewhere = sum(1 for i, m in enumerate(walk) if m != "sampleaudio.train" and m in walk[:i])
    print(f"stays {len(walk)}, rooms {rooms}, returns {len(walk) - rooms} "
          f"({elsewhere} to modules other than the trainer)")
    print(" -> ".join(m.removeprefix("sampleaudio.") for m in walk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
