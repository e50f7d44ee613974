"""Tiny fixtures in the release layouts of Extended Ballroom and UrbanSound8K (Choi 2017's targets), speaking the
converters' own label lists."""

from __future__ import annotations

import csv
import os

import numpy as np
import soundfile as sf
from layouts import tone

from sampleaudio.data_prep import ballroom, urbansound8k


def make_ballroom(root: str, per_style: dict[str, int] | None = None, seconds: float = 0.4) -> dict:
    """``<Style>/<id>.mp3``: by default 3 excerpts per style, 12 for Chacha (ids not in listing order)."""
    per_style = per_style or {s: (12 if s == "Chacha" else 3) for s in ballroom.STYLES}
    expected = {}
    for label, style in enumerate(ballroom.STYLES):
        os.makedirs(os.path.join(root, style), exist_ok=True)
        for k in range(per_style.get(style, 0)):
            clip = str(100700 + 37 * ((k * 7) % 13) + label)  # ids whose order differs from the loop's
            sf.write(os.path.join(root, style, clip + ".mp3"), tone(seconds, 22050, 150 + 20 * label, k), 22050,
                     format="MP3")
            expected[f"{style}/{clip}"] = label
    return expected


def make_urbansound8k(root: str, per_fold: int = 2, seconds: float = 0.3) -> dict:
    """``metadata/UrbanSound8K.csv`` + ``audio/fold<k>/<fsID>-<classID>-<occurrence>-<slice>.wav``; WAVs at
    44.1 kHz stereo 24-bit and 8 kHz mono 16-bit, as the release mixes them; one metadata row has no file."""
    rows, expected = [], {}
    for fold in range(1, 11):
        os.makedirs(os.path.join(root, "audio", f"fold{fold}"), exist_ok=True)
        for k in range(per_fold):
            label = (fold + k) % len(urbansound8k.CLASSES)
            fs_id = 1000 * fold + k
            name = f"{fs_id}-{label}-0-{k}.wav"
            sr = 44100 if k % 2 else 8000
            audio = tone(seconds, sr, 300 + 50 * label, fold * 10 + k)
            if sr == 44100:
                sf.write(os.path.join(root, "audio", f"fold{fold}", name), np.stack([audio, audio], 1), sr,
                         subtype="PCM_24")
            else:
                sf.write(os.path.join(root, "audio", f"fold{fold}", name), audio, sr, subtype="PCM_16")
            rows.append([name, fs_id, 0.0, seconds, 1, fold, label, urbansound8k.CLASSES[label]])
            expected[name[:-4]] = (label, fold)
    rows.append(["99999-3-0-0.wav", 99999, 0.0, 1.0, 1, 4, 3, "dog_bark"])  # listed, not on disk
    os.makedirs(os.path.join(root, "metadata"), exist_ok=True)
    with open(os.path.join(root, "metadata", "UrbanSound8K.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"])
        writer.writerows(rows)
    return expected
