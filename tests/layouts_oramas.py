"""Tiny fixtures in the exact on-disk layouts of MuMu and MSD-I (the releases' file names, columns and splits; the
user-fetched covers under ``images/`` and previews under ``audio/``), with every kind of bad cover and album the
converters must skip and list, and covers they must convert; and a Keras-2 HDF5 weight file writer (the layout of
``keras.applications``' ImageNet files).
"""

from __future__ import annotations

import csv
import os
import struct
import zlib

import numpy as np
import soundfile as sf

SR = 22050
MUMU_GENRES = ["Christmas", "Jazz", "Pop", "Rock"]
#: album -> genres of the clean MuMu fixture's albums (a colour per first genre)
COLOURS = {"Christmas": (200, 30, 30), "Jazz": (20, 20, 120), "Pop": (240, 200, 40), "Rock": (30, 30, 30)}


def tone(seconds: float, freq: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return (0.4 * np.sin(2 * np.pi * freq * t) + 0.03 * rng.standard_normal(t.shape)).astype(np.float32)


def write_cover(path: str, colour, mode: str = "RGB", side: int = 24) -> None:
    from PIL import Image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    if mode == "CMYK":
        Image.new("CMYK", (side, side), (0, 128, 200, 10)).save(path, "JPEG")
    elif mode == "L":
        Image.new("L", (side, side), 90).save(path, "PNG")
    elif mode == "RGBA":
        image = Image.new("RGBA", (side, side), (*colour, 255))
        image.paste((0, 0, 0, 0), (0, 0, side // 2, side))  # the left half transparent
        image.save(path, "PNG")
    else:
        pixels = np.zeros((side, side, 3), np.uint8)
        pixels[:] = colour
        pixels[: side // 3] = 255 - np.asarray(colour)
        Image.fromarray(pixels).save(path, "JPEG" if path.endswith(".jpg") else "PNG", quality=95)


def write_huge_png(path: str, side: int = 20000) -> None:
    """A PNG whose header declares ``side`` x ``side`` pixels (its pixel data cut short): refused from the header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def _audio(root: str, track: str, seed: int, seconds: float, nested: bool = False) -> None:
    folder = os.path.join(root, "audio", *(track[2:5] if nested else ()))
    os.makedirs(folder, exist_ok=True)
    if nested:
        sf.write(os.path.join(folder, track + ".mp3"), tone(seconds, 200 + 15 * seed, seed), SR, format="MP3")
    else:
        sf.write(os.path.join(folder, track + ".wav"), tone(seconds, 200 + 15 * seed, seed), SR, subtype="PCM_16")


def make_mumu(root: str, albums: int = 8, *, bad: bool = True, seconds: float = 1.0) -> dict:
    """A MuMu folder: ``MuMu_dataset_multi-label.csv``, ``genre_labels_MuMu.tsv``,
    ``splits/items_index_{train,val,test}_MuMu-albums.tsv``, ``images/<amazon_id>.jpg``,
    ``audio/<MSD_track_id>.wav`` (some MP3 in the MSD's nested folders). ``albums`` clean albums of 2 tracks
    (split 2:1:1), and with ``bad`` the albums and covers to skip or convert. Returns the expected outcome."""
    os.makedirs(os.path.join(root, "splits"))
    rows, splits, expect = [], {"train": [], "val": [], "test": []}, {"kept": set(), "skipped": {}, "notes": {}}
    clean = []
    for k in range(albums):
        album = f"B{k:08d}"
        genres = [MUMU_GENRES[k % 4]] + (["Pop"] if k % 3 == 0 and MUMU_GENRES[k % 4] != "Pop" else [])
        split = ("train", "train", "val", "test")[k % 4]
        clean.append((album, genres, split, "RGB"))
    special = [("BCMYK0001", ["Jazz"], "train", "CMYK"), ("BGREY0001", ["Rock"], "train", "L"),
               ("BALPHA001", ["Pop"], "train", "RGBA"), ("BHUGE0001", ["Rock"], "test", "huge"),
               ("BTEXT0001", ["Jazz"], "train", "text"), ("BDIR00001", ["Pop"], "val", "folder"),
               ("BNOCOVER1", ["Rock"], "train", "none"), ("BHALFAUD1", ["Jazz"], "train", "RGB"),
               ("BNOAUDIO1", ["Pop"], "test", "RGB")] if bad else []
    seed = 0
    for album, genres, split, mode in clean + special:
        splits[split].append(album)
        path = os.path.join(root, "images", album + ".jpg")
        if mode in ("RGB", "CMYK"):
            write_cover(path, COLOURS[genres[0]], mode)
        elif mode in ("L", "RGBA"):
            path = os.path.join(root, "images", album + ".png")
            write_cover(path, COLOURS[genres[0]], mode)
        elif mode == "huge":
            path = os.path.join(root, "images", album + ".png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_huge_png(path)
        elif mode == "text":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("not an image\n")
        elif mode == "folder":
            os.makedirs(path)
        for t in range(2):
            seed += 1
            track = f"TR{album[1:4]}{seed:04d}{t}X"
            clip = f"{album}/{track}"
            rows.append({"amazon_id": album, "album_mbid": f"mb-{album}", "MSD_track_id": track,
                         "artist_mbid": f"artist-{seed % 3}", "release_mbid": "", "genres": ",".join(genres)})
            has_audio = not (album == "BNOAUDIO1" or (album == "BHALFAUD1" and t == 1))
            if has_audio:
                _audio(root, track, seed, seconds, nested=(seed % 5 == 0))
            if mode == "huge":
                expect["skipped"][clip] = "megapixel limit"
            elif mode == "text":
                expect["skipped"][clip] = "not an image"
            elif mode == "folder":
                expect["skipped"][clip] = "cannot be read"
            elif mode == "none":
                expect["skipped"][clip] = "has no cover"
            elif not has_audio:
                expect["skipped"][clip] = "has no audio file"
            else:
                expect["kept"].add(clip)
        if mode in ("CMYK", "L", "RGBA"):
            expect["notes"][album] = {"CMYK": "CMYK converted", "L": "greyscale", "RGBA": "transparency"}[mode]
    if bad:  # a song listed again under a later album, and an album in no split file
        rows.append({**rows[0], "amazon_id": "BLATER001"})
        splits["train"].append("BLATER001")
        write_cover(os.path.join(root, "images", "BLATER001.jpg"), COLOURS["Rock"])
        expect["skipped"][f"BLATER001/{rows[0]['MSD_track_id']}"] = "already listed under album"
        rows.append({**rows[0], "amazon_id": "BNOSPLIT1", "MSD_track_id": "TRNOSPLIT00001"})
        expect["skipped"]["BNOSPLIT1/TRNOSPLIT00001"] = "in no split file"
    with open(os.path.join(root, "MuMu_dataset_multi-label.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(root, "genre_labels_MuMu.tsv"), "w") as f:
        f.write("\n".join(MUMU_GENRES) + "\n")
    for split, ids in splits.items():
        with open(os.path.join(root, "splits", f"items_index_{split}_MuMu-albums.tsv"), "w") as f:
            f.write("\n".join(ids))
    return expect


MSDI_GENRES = ["Blues", "Country", "Electronic", "Folk", "Jazz", "Latin", "Metal", "New Age", "Pop", "Punk", "Rap",
               "Reggae", "RnB", "Rock", "World"]


def make_msdi(root: str, tracks: int = 12, *, bad: bool = True, nested_release: bool = True,
              seconds: float = 1.0) -> dict:
    """An MSD-I folder: ``splits/MSD-I_dataset.tsv`` (tartarus' ``msdi-data`` layout; the release's columns),
    ``images/<msd_track_id>.jpg``, ``audio/<msd_track_id>.wav``; with ``bad`` a CMYK cover (converted), an RGBA
    cover (converted), a text file named .jpg, a track without a cover, one without audio and one with an unknown
    ``set``. Returns the expected outcome."""
    rows, expect = [], {"kept": set(), "skipped": {}, "notes": {}}
    cases = [("RGB", "train")] * tracks
    if bad:
        cases += [("CMYK", "train"), ("RGBA", "val"), ("text", "train"), ("none", "test"), ("noaudio", "train"),
                  ("RGB", "holdout")]
    for k, (mode, split) in enumerate(cases):
        track = f"TRMSDI{k:06d}AB"
        genre = MSDI_GENRES[k % 3 * 5]
        split = ("train", "train", "val", "test")[k % 4] if k < tracks else split
        rows.append({"msd_track_id": track, "genre": genre, "album_index": str(1000 + k), "set": split,
                     "msd_artist_id": f"AR{k % 4:04d}", "image_url": f"http://example.invalid/{k}.jpg"})
        path = os.path.join(root, "images", track + ".jpg")
        if mode in ("RGB", "CMYK", "noaudio"):
            write_cover(path, (40 * (k % 6), 100, 200 - 30 * (k % 5)), "CMYK" if mode == "CMYK" else "RGB")
        elif mode == "RGBA":
            path = os.path.join(root, "images", track + ".png")
            write_cover(path, (10, 200, 10), "RGBA")
        elif mode == "text":
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write("<html>404</html>")
        if mode != "noaudio":
            _audio(root, track, k, seconds)
        reason = {"text": "not an image", "none": "has no cover", "noaudio": "has no audio file"}.get(mode)
        if split == "holdout":
            reason = "set of train/val/test"
        if reason:
            expect["skipped"][track] = reason
        else:
            expect["kept"].add(track)
        if mode in ("CMYK", "RGBA"):
            expect["notes"][track] = "CMYK converted" if mode == "CMYK" else "transparency"
    folder = os.path.join(root, "splits") if nested_release else root
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "MSD-I_dataset.tsv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    return expect


def write_keras2_weights(model, path: str, *, skip: tuple[str, ...] = ()) -> None:
    """``model``'s weights in the Keras 2 HDF5 layout of ``keras.applications``' ImageNet files (``save_weights``
    to ``.h5``): root attributes ``layer_names`` (every layer), ``backend``, ``keras_version``; one group per layer
    with ``weight_names`` (``<layer>/<weight>:0``) and the arrays at those paths. ``skip``: layers left out."""
    import h5py

    with h5py.File(path, "w") as f:
        names = [layer.name for layer in model.layers if layer.name not in skip]
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            if layer.name in skip:
                continue
            group = f.create_group(layer.name)
            weight_names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = np.array([n.encode() for n in weight_names])
            for name, value in zip(weight_names, layer.get_weights()):
                group.create_dataset(name, data=value)
