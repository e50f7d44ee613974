"""sampleaudio: sample-level CNNs for music and audio classification from raw waveforms.

Reproduces SampleCNN (Lee et al., SMC 2017) and its SE / Res / ReSE block study (Kim, Lee, Nam, IEEE JSTSP
2019) in TensorFlow 2 / Keras 3, with the baselines they are compared against.
"""

from __future__ import annotations

import os as _os
import sys as _sys

from sampleaudio._version import __version__
from sampleaudio.errors import AudioDecodeError, DatasetLayoutError, ParameterError, SampleAudioError


def _prefer_onednn() -> None:
    """Ask TensorFlow for its oneDNN CPU kernels unless the user decided otherwise.

    TensorFlow turns oneDNN on by default only on CPUs with AVX-512 VNNI/BF16 or AMX; on the AVX2 machines this
    project trains on, a SampleCNN training step runs 1.4-1.8x faster with it (``benchmarks/throughput.py``).
    It must be set before TensorFlow is imported; an explicit ``TF_ENABLE_ONEDNN_OPTS`` (0 or 1), or
    TensorFlow imported before sampleaudio, is left as it is.
    """
    if "tensorflow" not in _sys.modules:
        _os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")


_prefer_onednn()

__all__ = ["__version__", "SampleAudioError", "AudioDecodeError", "DatasetLayoutError", "ParameterError", "tag",
           "embed"]


def tag(inputs, model, top_k=None, **kwargs):
    """Tag audio files, folders, globs or arrays with a trained run; see :func:`sampleaudio.inference.tag`."""
    from sampleaudio.inference import tag as _tag

    return _tag(inputs, model, top_k=top_k, **kwargs)


def embed(inputs, model, layer="penultimate", **kwargs):
    """Embed audio with a trained run; see :func:`sampleaudio.inference.embed`."""
    from sampleaudio.inference import embed as _embed

    return _embed(inputs, model, layer=layer, **kwargs)
