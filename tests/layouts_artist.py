"""Tiny fixtures in the exact on-disk layouts of GTZAN, FMA (metadata + fma_small) and an MSD artist list."""

from __future__ import annotations

import os

import pandas as pd
import soundfile as sf
from layouts import tone

from sampleaudio.data_prep import fma, gtzan


def make_gtzan(root: str, per_genre: int = 3, ext: str = "au", lists: bool = False, seconds: float = 0.5) -> dict:
    """``genres/<genre>/<genre>.000NN.<ext>`` (the tarball's .au, or .wav); with ``lists`` the fault-filtered
    ``train/valid/test_filtered.txt`` naming clips as ``genre/genre.000NN.au``, leaving one clip out."""
    expected = {}
    for g, genre in enumerate(gtzan.GENRES):
        os.makedirs(os.path.join(root, "genres", genre), exist_ok=True)
        for k in range(per_genre):
            name = f"{genre}.{k:05d}.{ext}"
            fmt = {"au": "AU", "wav": "WAV"}[ext]
            sf.write(os.path.join(root, "genres", genre, name), tone(seconds, 22050, 200 + 30 * g, k), 22050,
                     format=fmt, subtype="PCM_16")
            expected[f"{genre}.{k:05d}"] = g
    if lists:
        stems = sorted(expected)
        split = {s: ("train", "valid", "test")[i % 3] for i, s in enumerate(stems[1:])}  # stems[0] left out
        for name, file in gtzan.LISTS.items():
            with open(os.path.join(root, file), "w") as f:
                f.writelines(f"{s.split('.')[0]}/{s}.au\n" for s in stems[1:] if split[s] == name)
        return {"split": split, "left_out": stems[0]}
    return {"genres": expected}


def make_fma(root: str, seconds: float = 0.5) -> dict:
    """``fma_metadata/tracks.csv`` with the release's two header rows and ``track_id`` index row, and
    ``fma_small/NNN/NNNNNN.mp3``. One track of subset ``medium`` (excluded), one listed but missing on disk."""
    rows, expected = [], {}
    splits = ["training", "training", "validation", "test"]
    tid = 2
    for g, genre in enumerate(fma.GENRES):
        for k in range(4):
            rows.append({("album", "title"): f"album {g}", ("artist", "id"): 100 + g, ("artist", "name"): f"a{g}",
                         ("set", "split"): splits[k], ("set", "subset"): "small", ("track", "genre_top"): genre,
                         ("track", "title"): f"song {tid}", "track_id": tid})
            path = fma.audio_path(root, tid)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            sf.write(path, tone(seconds, 22050, 200 + 25 * g, tid), 22050, format="MP3")
            expected[tid] = (genre, {"training": "train", "validation": "valid", "test": "test"}[splits[k]])
            tid += 137
    rows.append({("album", "title"): "x", ("artist", "id"): 7, ("artist", "name"): "m", ("set", "split"): "training",
                 ("set", "subset"): "medium", ("track", "genre_top"): "Rock", ("track", "title"): "medium only",
                 "track_id": 999001})
    rows.append({("album", "title"): "x", ("artist", "id"): 8, ("artist", "name"): "n", ("set", "split"): "test",
                 ("set", "subset"): "small", ("track", "genre_top"): "Pop", ("track", "title"): "missing",
                 "track_id": 155066})
    table = pd.DataFrame(rows).set_index("track_id")
    table.columns = pd.MultiIndex.from_tuples(table.columns)
    os.makedirs(os.path.join(root, "fma_metadata"), exist_ok=True)
    table.to_csv(os.path.join(root, "fma_metadata", "tracks.csv"))
    return expected


def make_msd_artist_list(root: str, artists: int = 3, seconds: float = 0.3) -> dict:
    """``artist_list.csv`` (song_id, artist, path) with 20 songs for each artist but one, which has 21 (the 21st
    is dropped), and an artist with 5 songs (left out)."""
    rows = []
    for a in range(artists):
        for s in range(21 if a == 0 else 20):
            rel = f"audio/A{a}/TR{a:02d}{s:03d}.wav"
            os.makedirs(os.path.join(root, os.path.dirname(rel)), exist_ok=True)
            sf.write(os.path.join(root, rel), tone(seconds, 22050, 300 + 50 * a, s), 22050)
            rows.append({"song_id": f"TR{a:02d}{s:03d}", "artist": f"Artist {a}", "path": rel})
    for s in range(5):
        rows.append({"song_id": f"TRfew{s}", "artist": "Few Songs", "path": "audio/none.wav"})
    pd.DataFrame(rows).sample(frac=1.0, random_state=0).sort_values("artist", kind="stable").to_csv(
        os.path.join(root, "artist_list.csv"), index=False)
    return {"artists": [f"Artist {a}" for a in range(artists)]}


