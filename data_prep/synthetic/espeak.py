"""A thin ctypes binding to eSpeak NG as the ``espeakng-loader`` wheel ships it (library + voices).

Only what the speech proxy needs: initialise in synchronous mode, pick a voice (``en-US+f3``), set rate and
pitch, and synthesise a word to 22,050 Hz int16 samples through the synth callback.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading

import numpy as np

from sampleaudio.errors import ParameterError, SampleAudioError

__all__ = ["Speaker", "ENGLISH_VOICES", "VARIANTS", "synthesize"]

#: English accents that ship with the wheel.
ENGLISH_VOICES = ["en-US", "en-GB-x-rp", "en", "en-GB-scotland", "en-GB-x-gbclan", "en-GB-x-gbcwmd", "en-029",
                  "en-US-nyc"]
#: Voice variants (formant/pitch settings of eSpeak's ``voices/!v``), excluding the klatt synthesiser ones.
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "croak", "whisper",
            "Alex", "Andy", "Annie", "Denis", "Gene", "Jacky", "Lee", "Mike", "Storm", "aunty", "belinda", "david",
            "edward", "grandpa", "ian", "john", "linda", "max", "michel", "norbert", "robert", "steph", "travis"]

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE, _ESPEAK_VOLUME, _ESPEAK_PITCH, _ESPEAK_RANGE = 1, 2, 3, 4
_CHARS_UTF8 = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_LOCK = threading.Lock()


class Speaker:
    """Voice settings: an accent, a variant, and the pitch/range/rate eSpeak applies."""

    def __init__(self, voice: str, variant: str, pitch: int, pitch_range: int, rate: int):
        self.voice, self.variant = voice, variant
        self.pitch, self.pitch_range, self.rate = int(pitch), int(pitch_range), int(rate)

    @property
    def name(self) -> str:
        return f"{self.voice}+{self.variant}"


@functools.lru_cache(maxsize=1)
def _private_copy() -> tuple[str, str]:
    """A per-process copy of libespeak-ng, so each utterance can load it afresh (see :func:`synthesize`)."""
    import atexit
    import shutil
    import tempfile

    import espeakng_loader

    folder = tempfile.mkdtemp(prefix="sampleaudio-espeak-")
    path = os.path.join(folder, "libespeak-ng.so")
    shutil.copy(espeakng_loader.get_library_path(), path)
    atexit.register(shutil.rmtree, folder, True)
    return path, espeakng_loader.get_data_path()


@functools.lru_cache(maxsize=1)
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None)


def synthesize(text: str, speaker: Speaker, seed: int = 0) -> tuple[np.ndarray, int]:
    """Speak ``text`` with ``speaker``; return float32 samples in [-1, 1] and the sample rate (22,050 Hz).

    eSpeak NG keeps static state between utterances (the output of a word depends on what was spoken before,
    even across ``espeak_Terminate``/``espeak_Initialize``). To make every clip depend on its recipe alone, the
    library is loaded afresh for each utterance (about 5 ms) and unloaded after it. The breathy and whispered
    variants (``f2``, ``f3``, ``f5``, ``whisper``, ...) draw noise from the C library's ``rand()``, whose state
    is the process's, not eSpeak's: ``seed`` seeds both eSpeak's generator and ``srand`` before synthesis.
    """
    import _ctypes

    lib_path, data = _private_copy()
    with _LOCK:
        lib = ctypes.CDLL(lib_path, mode=os.RTLD_LOCAL)
        try:
            lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
            lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                         ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            sr = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, os.path.dirname(data).encode(), 0)
            if sr <= 0:
                raise SampleAudioError(f"eSpeak NG failed to initialise with data at {data}")
            chunks: list[np.ndarray] = []

            def collect(wav, n, events):
                if n > 0 and wav:
                    chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
                return 0

            callback = _CALLBACK(collect)
            lib.espeak_SetSynthCallback(callback)
            if lib.espeak_SetVoiceByName(speaker.name.encode()) != 0:
                raise ParameterError(f"eSpeak NG has no voice '{speaker.name}'")
            lib.espeak_SetParameter(_ESPEAK_RATE, speaker.rate, 0)
            lib.espeak_SetParameter(_ESPEAK_PITCH, speaker.pitch, 0)
            lib.espeak_SetParameter(_ESPEAK_RANGE, speaker.pitch_range, 0)
            lib.espeak_SetParameter(_ESPEAK_VOLUME, 100, 0)
            lib.espeak_ng_SetRandSeed(seed)
            _libc().srand(ctypes.c_uint(seed % 2 ** 32))
            data_bytes = text.encode("utf8") + b"\0"
            buf = ctypes.create_string_buffer(data_bytes)
            err = lib.espeak_Synth(buf, len(data_bytes), 0, 0, 0, _CHARS_UTF8, None, None)
            if err != 0:
                raise SampleAudioError(f"eSpeak NG failed to synthesise {text!r} (error {err})")
            lib.espeak_Terminate()
        finally:
            _ctypes.dlclose(lib._handle)
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    return audio.astype(np.float32) / 32768.0, sr
