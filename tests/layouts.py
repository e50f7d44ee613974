"""Tiny fixtures in each real dataset's exact on-disk layout (file names, CSV formats, MP3/WAV files).

They reuse the converters' own label lists (as tensorflow-datasets' dummy data generators do), so a fixture
always speaks the converter's vocabulary.
"""

from __future__ import annotations

import os

import numpy as np
import soundfile as sf

from sampleaudio.data_prep import dcase2017, mtat, speech_commands


def tone(seconds: float, sr: int, freq: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    return (0.4 * np.sin(2 * np.pi * freq * t) + 0.05 * rng.standard_normal(t.shape)).astype(np.float32)


def make_mtat(root: str, clips_per_folder: int = 2, seconds: float = 1.5, sr: int = 16000) -> dict:
    """MagnaTagATune: ``annotations_final.csv`` (tab-separated) + ``mp3/<hex>/<artist>-<album>-<n>-<title>-<a>-<b>.mp3``.

    52 tag columns: the 50 real top tags plus two rare ones that must not be selected. Every folder 0-f gets
    clips; one clip has no top tag (dropped), one file is a known-broken path (empty), one is garbage bytes.
    """
    tags = list(mtat.TOP50) + ["rare tag a", "rare tag b"]
    rng = np.random.default_rng(0)
    rows, expected = [], {}
    clip_id = 0
    for h, folder in enumerate("0123456789abcdef"):
        os.makedirs(os.path.join(root, "mp3", folder), exist_ok=True)
        for k in range(clips_per_folder):
            clip_id += 1
            name = f"artist{h % 5}-album_{h}-{k + 1:02d}-song_{k}-{30 * k}-{30 * k + 29}.mp3"
            rel = f"{folder}/{name}"
            on = np.zeros(len(tags), dtype=int)
            n_on = 1 + (clip_id % 3)
            # bias toward later (more frequent) tags so frequencies are skewed like MTAT's
            on[rng.choice(50, size=n_on, replace=False, p=np.linspace(1, 3, 50) / np.linspace(1, 3, 50).sum())] = 1
            rows.append((str(clip_id), on, rel))
            sf.write(os.path.join(root, "mp3", rel), tone(seconds, sr, 220 + 20 * clip_id, clip_id), sr,
                     format="MP3")
            expected[str(clip_id)] = (rel, on[:50])
    # a clip that has only the rare tags: dropped
    clip_id += 1
    on = np.zeros(len(tags), dtype=int)
    on[50] = 1
    rows.append((str(clip_id), on, "3/rare-only-01-x-0-29.mp3"))
    sf.write(os.path.join(root, "mp3", "3/rare-only-01-x-0-29.mp3"), tone(seconds, sr, 300, 99), sr, format="MP3")
    # the other rare tag once more, so both rare tags have count >= 1 but < every top tag
    rows[0][1][51] = 1
    # a known-broken file of the release (empty on disk): skipped without decoding
    broken_known = sorted(mtat.KNOWN_BROKEN)[0]
    os.makedirs(os.path.join(root, "mp3", broken_known.split("/")[0]), exist_ok=True)
    open(os.path.join(root, "mp3", broken_known), "wb").close()
    clip_id += 1
    on = np.zeros(len(tags), dtype=int)
    on[49] = 1
    rows.append((str(clip_id), on, broken_known))
    # a corrupt file: fails to decode, is skipped and reported
    clip_id += 1
    corrupt = "e/corrupt-file-01-x-0-29.mp3"
    with open(os.path.join(root, "mp3", corrupt), "wb") as f:
        f.write(b"\x00not an mp3" * 64)
    on = np.zeros(len(tags), dtype=int)
    on[48] = 1
    rows.append((str(clip_id), on, corrupt))
    # make every top tag strictly more frequent than the rare ones
    n_normal = len(expected)
    for t in range(50):
        if sum(r[1][t] for r in rows) < 2:
            rows[t % n_normal][1][t] = 1
            rows[(t + 7) % n_normal][1][t] = 1
    for cid, on, rel in rows:
        if cid in expected:
            expected[cid] = (rel, on[:50].copy())
    with open(os.path.join(root, "annotations_final.csv"), "w") as f:
        f.write("\t".join(['"clip_id"'] + [f'"{t}"' for t in tags] + ['"mp3_path"']) + "\n")
        for cid, on, rel in rows:
            f.write("\t".join([f'"{cid}"'] + [f'"{v}"' for v in on] + [f'"{rel}"']) + "\n")
    return {"expected": expected, "dropped": str(len(expected) + 1), "known_broken": broken_known,
            "corrupt": corrupt, "sr": sr}


def make_speech_commands(root: str, words: list[str] | None = None, speakers: int = 4, sr: int = 16000) -> dict:
    """Speech Commands v0.02: ``<word>/<speaker>_nohash_<n>.wav`` + validation/testing lists + background noise."""
    words = words or speech_commands.WORDS
    val, test, train = [], [], []
    for w_i, word in enumerate(words):
        os.makedirs(os.path.join(root, word), exist_ok=True)
        for s in range(speakers):
            speaker = f"{(w_i * 31 + s * 17) % 0xFFFFFFFF:08x}"
            rel = f"{word}/{speaker}_nohash_0.wav"
            seconds = 1.0 if s != 1 else 0.6  # some clips are shorter than 1 s, as in the release
            sf.write(os.path.join(root, rel), tone(seconds, sr, 200 + 15 * w_i + s, w_i * 10 + s), sr,
                     subtype="PCM_16")
            (val if s == 2 else test if s == 3 else train).append(rel)
    os.makedirs(os.path.join(root, "_background_noise_"), exist_ok=True)
    sf.write(os.path.join(root, "_background_noise_", "white_noise.wav"), tone(3.0, sr, 50, 7), sr)
    with open(os.path.join(root, "README.md"), "w") as f:
        f.write("fixture\n")
    with open(os.path.join(root, "validation_list.txt"), "w") as f:
        f.write("\n".join(val) + "\n")
    with open(os.path.join(root, "testing_list.txt"), "w") as f:
        f.write("\n".join(test) + "\n")
    return {"train": train, "valid": val, "test": test}


def make_dcase2017(root: str, per_class: int = 3, seconds: float = 2.0, sr: int = 44100) -> dict:
    """DCASE 2017 Task 4: three tab-separated weak-label CSVs and the three ``Y<file>`` audio folders."""
    rows = {k: [] for k in dcase2017.SETS}
    n = 0
    for which in dcase2017.SETS:
        for c_i, c in enumerate(dcase2017.CLASSES):
            for k in range(per_class if which != "evaluation" else 1):
                n += 1
                yt = f"vid{n:07d}"
                start = 10.0 * k
                file = f"{yt}_{start:.3f}_{start + 10:.3f}.wav"
                labels = [c] if n % 4 else [c, dcase2017.CLASSES[(c_i + 1) % 17]]
                for lab in labels:
                    rows[which].append((file, start, start + 10, lab))
    for which, (csv, folder) in dcase2017.SETS.items():
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        with open(os.path.join(root, csv), "w") as f:
            for file, a, b, lab in rows[which]:
                f.write(f"{file}\t{a:.3f}\t{b:.3f}\t{lab}\n")
        for file in sorted({r[0] for r in rows[which]}):
            seed = int(file[3:10])
            sf.write(os.path.join(root, folder, "Y" + file), tone(seconds, sr, 100 + seed % 700, seed), sr,
                     subtype="PCM_16")
    return rows
