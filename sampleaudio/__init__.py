"""sampleaudio: sample-level CNNs for music and audio classification from raw waveforms.

Reproduces SampleCNN (Lee et al., SMC 2017) and its SE / Res / ReSE block study (Kim, Lee, Nam, IEEE JSTSP
2019) in TensorFlow 2 / Keras 3, with the baselines they are compared against.
"""

from __future__ import annotations

from sampleaudio._version import __version__
from sampleaudio.errors import AudioDecodeError, DatasetLayoutError, ParameterError, SampleAudioError


def _prefer_cpu_defaults() -> None:
    """Apply the measured CPU winner for the paper's model (width 128) before TensorFlow is imported.

    ``TF_ENABLE_ONEDNN_OPTS`` is read when TensorFlow is imported; :mod:`sampleaudio.cpu` holds the measured
    rule (per CPU class and width) and leaves alone what the user set. ``sampleaudio train`` re-decides for
    the width it trains.
    """
    import warnings

    from sampleaudio import cpu

    try:
        cpu.apply(cpu.choose(init_features=128))
    except ParameterError as exc:  # a bad SAMPLEAUDIO_ONEDNN must not make the package unimportable
        warnings.warn(f"SAMPLEAUDIO_ONEDNN ignored: {exc}", stacklevel=2)


_prefer_cpu_defaults()

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
