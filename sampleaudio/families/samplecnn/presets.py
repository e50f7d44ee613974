"""Per-task model presets of Kim, Lee, Nam (IEEE JSTSP 2019) and the SMC 2017 model (Lee 2017).

| preset            | blocks | segment | outputs        | "with RNN" blocks |
|-------------------|--------|---------|----------------|-------------------|
| ``mtat``          | 9      | 59,049  | 50, sigmoid    | 4                 |
| ``speech-commands``| 8     | 22,050  | 35, softmax    | 4                 |
| ``dcase2017``     | 8      | 22,050  | 17, sigmoid    | 5                 |
| ``lee2017``       | 9      | 59,049  | 50, sigmoid, basic blocks, SMC 2017 head | - |

``lee2017`` is the SMC 2017 model as ``jongpillee/sampleCNN`` built it: He uniform on every conv (stem, blocks
and the 1x1 conv of the head). Its training protocol (no input standardisation, Keras 1 early stopping) is
:func:`sampleaudio.experiments.experiment` with ``protocol="smc2017"``.
"""

from __future__ import annotations

import keras

from sampleaudio.data_prep import task_for
from sampleaudio.families.samplecnn.model import SampleCNN, SampleCNNWithRNN
from sampleaudio.families.samplecnn.params import KIM2019_SIZES

__all__ = ["PRESETS", "RNN_BLOCKS", "from_preset", "rnn_from_preset"]

#: Blocks before the recurrent layer in Kim 2019 Table I.
RNN_BLOCKS = {name: size[2] for name, size in KIM2019_SIZES.items()}

#: Kim 2019's SampleCNN of each task: its depth (:data:`sampleaudio.families.samplecnn.params.KIM2019_SIZES`) and the dataset's
#: outputs (its converter's declaration, :func:`sampleaudio.data_prep.task_for`)
PRESETS = {
    name: {"num_blocks": size[0], "num_classes": task_for(name).num_classes, "activation": task_for(name).activation}
    for name, size in KIM2019_SIZES.items()
}
PRESETS["lee2017"] = {"num_blocks": 9, "num_classes": 50, "activation": "sigmoid", "block": "basic",
                      "multi": False, "head": "smc2017", "initializer": "he_uniform"}


def _preset_key(preset: str) -> str:
    if preset in PRESETS:
        return preset
    return task_for(preset).name  # accepts dataset names and synthetic proxies


def from_preset(preset: str, **overrides) -> keras.Model:
    """SampleCNN configured for a task (``mtat``, ``speech-commands``, ``dcase2017``, ``lee2017``, or a dataset
    name such as ``mini-mtat``); keyword arguments override the preset (``block``, ``multi``, ...)."""
    return SampleCNN(**{**PRESETS[_preset_key(preset)], **overrides})


def rnn_from_preset(preset: str, **overrides) -> keras.Model:
    """The "with RNN" variant of a task's SampleCNN (Kim 2019 Table I)."""
    key = _preset_key(preset)
    base = {k: v for k, v in PRESETS[key].items() if k in ("num_blocks", "num_classes", "activation")}
    return SampleCNNWithRNN(**{"rnn_blocks": RNN_BLOCKS[key], **base, **overrides})
