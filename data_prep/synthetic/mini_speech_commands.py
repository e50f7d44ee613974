"""``mini-speech-commands``: a synthesised single-label keyword-spotting proxy of Speech Commands v0.02.

The 35 words of the real dataset, spoken by eSpeak NG (the ``espeakng-loader`` wheel: library and voices) at
22,050 Hz. A "speaker" is one combination of English accent (8), voice variant (37, the klatt synthesisers
excluded), base pitch, pitch range and speaking rate; each utterance jitters rate and pitch a little, sits at
a random place in a 1 s clip and is mixed with white, pink or brown noise at a random SNR (5-30 dB).

Like the real dataset, a speaker appears in one split only (speakers are split 70/10/20, seeded), and clip
ids follow its layout: ``<word>/<speaker>_nohash_<n>.wav``. Validation and test speakers are combinations drawn
from the same distribution as the training ones (holding out a whole synthesiser variant instead made the task
unlearnable in a short schedule).

This is a proxy: formant-synthesised speech is far more regular than the crowd-sourced recordings of the
real dataset, and its numbers are never comparable to Speech Commands'.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

from sampleaudio.audio import SAMPLE_RATE, resample
from sampleaudio.data_prep import speech_commands
from sampleaudio.data_prep.speech_commands import WORDS
from sampleaudio.data_prep.synthetic.espeak import ENGLISH_VOICES, VARIANTS, Speaker, synthesize
from sampleaudio.data_prep.synthetic.signals import colored_noise
from sampleaudio.errors import AudioDecodeError, ParameterError
from sampleaudio.stores import Clip, DatasetInfo, Manifest, write_dataset

__all__ = ["NAME", "VERSION", "SIZES", "plan", "MiniSpeechLoader", "colored_noise", "convert", "INFO"]

NAME = "mini-speech-commands"
VERSION = "1.1"  # 1.1: breathy/whispered voices seeded per utterance (1.0 was order-dependent)
INFO = DatasetInfo.proxy(
    speech_commands.INFO, name=NAME, requires=("espeakng_loader",),
    description="mini-speech-commands: the 35 words spoken by eSpeak NG voices over noise; speaker-disjoint (proxy)")
#: speakers per size; every speaker says every word once
SIZES = {"small": 6, "default": 64}
SPLIT_FRACTIONS = (0.7, 0.1, 0.2)


def _speakers(count: int, rng: np.random.Generator) -> list[dict]:
    speakers, seen = [], set()
    while len(speakers) < count:
        s = {"voice": str(rng.choice(ENGLISH_VOICES)), "variant": str(rng.choice(VARIANTS)),
             "pitch": int(rng.integers(25, 80)), "range": int(rng.integers(20, 90)),
             "rate": int(rng.integers(140, 220))}
        key = json.dumps(s, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        s["id"] = hashlib.sha1(key.encode()).hexdigest()[:8]
        speakers.append(s)
    return speakers


def plan(size: str = "default", seed: int = 0) -> list[Clip]:
    """Every clip with its recipe, word label and speaker-disjoint split."""
    if size not in SIZES:
        raise ParameterError(f"size must be one of {sorted(SIZES)}. Received: size={size!r}")
    rng = np.random.default_rng(seed)
    speakers = _speakers(SIZES[size], rng)
    n_train = max(1, int(round(SPLIT_FRACTIONS[0] * len(speakers))))
    n_valid = max(1, int(round(SPLIT_FRACTIONS[1] * len(speakers))))
    clips = []
    for k, s in enumerate(speakers):
        split = "train" if k < n_train else "valid" if k < n_train + n_valid else "test"
        for w, word in enumerate(WORDS):
            recipe = {"word": word, "speaker": s, "rate": int(s["rate"] + rng.integers(-12, 13)),
                      "pitch": int(np.clip(s["pitch"] + rng.integers(-6, 7), 0, 99)),
                      "position": round(float(rng.random()), 4), "snr_db": round(float(rng.uniform(5, 30)), 2),
                      "noise": str(rng.choice(["white", "pink", "brown"])), "seed": int(rng.integers(2 ** 31))}
            clips.append(Clip(clip_id=f"{word}/{s['id']}_nohash_0.wav", split=split, labels=(w,),
                              source=json.dumps(recipe, sort_keys=True), artist_id=s["id"]))
    return clips


@dataclasses.dataclass(frozen=True)
class MiniSpeechLoader:
    """Synthesise one ``mini-speech-commands`` clip from its recipe (picklable for worker processes)."""

    seconds: float = 1.0

    def __call__(self, clip: Clip) -> np.ndarray:
        r = json.loads(clip.source)
        s = r["speaker"]
        speech, sr = synthesize(r["word"], Speaker(s["voice"], s["variant"], r["pitch"], s["range"], r["rate"]),
                                 seed=r["seed"])
        speech = resample(speech, sr, SAMPLE_RATE)
        # trim eSpeak's leading/trailing silence
        loud = np.flatnonzero(np.abs(speech) > 0.01)
        if loud.size == 0:
            raise AudioDecodeError(clip.clip_id, f"eSpeak NG produced silence for {r['word']!r}")
        speech = speech[loud[0]:loud[-1] + 1]
        n = int(round(self.seconds * SAMPLE_RATE))
        speech = speech[:n]
        out = np.zeros(n, dtype=np.float32)
        start = int(r["position"] * (n - speech.shape[0]))
        out[start:start + speech.shape[0]] = speech
        rng = np.random.default_rng(r["seed"])
        rms = float(np.sqrt(np.mean(speech ** 2)))
        out += colored_noise(n, r["noise"], rng) * rms * 10 ** (-r["snr_db"] / 20)
        return np.clip(out * rng.uniform(0.4, 1.0) / max(1e-6, float(np.abs(out).max())), -1, 1).astype(np.float32)


def convert(out: str, *, size: str = "default", seed: int = 0, workers: int = 1, progress: bool = True) -> Manifest:
    """Generate ``mini-speech-commands`` into a TFRecord store at ``out``."""
    return write_dataset(plan(size, seed), out, info=INFO, labels=WORDS, converter=__name__,
                         converter_version=VERSION, loader=MiniSpeechLoader(), workers=workers,
                         clips_per_shard=500, seed=seed, progress=progress,
                         extra={"synthetic": "35 words spoken by eSpeak NG (espeakng-loader) over noise",
                                "size": size, "seed": seed,
                                "split_rule": "speakers (voice settings) split 70/10/20, seeded; no speaker in "
                                              "two splits"})
