"""Does the Siamese sampler keep the model fed? Batches/s of the input pipeline alone vs training steps/s.

    python benchmarks/siamese_feed.py --artists 40 --steps 30

In one run: (1) ``sampleaudio.sampler.siamese_dataset`` alone (anchor, positive, 4 negatives; random 65,536-sample
crops; batch 15) iterated for ``--steps`` batches; (2) the Park 2018 Siamese model (waveform input, in-graph mel
front end) trained on batches already in memory for the same number of steps (the model alone); (3) the two
together, as the trainer runs them. Prints the ratio (1) / (2): above 1 the input pipeline is not the bottleneck.
The songs are noise (20 per artist, 6 s): the pipeline's cost does not depend on their content.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artists", type=int, default=40)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import keras
    import tensorflow as tf

    from sampleaudio.families.artist_cnn.model import ArtistEncoder, ArtistSiameseModel, crop_samples
    from sampleaudio.families.artist_cnn.siamese import ArtistSongs, siamese_dataset
    from sampleaudio.losses import SiameseLoss

    rng = np.random.default_rng(args.seed)
    audio = [0.1 * rng.standard_normal(int(6 * 22050)).astype(np.float32) for _ in range(args.artists * 20)]
    songs = ArtistSongs(audio, [f"a{k // 20}" for k in range(len(audio))])
    seg = crop_samples()
    ds = siamese_dataset(songs, segment=seg, batch_size=args.batch_size, seed=args.seed)
    it = iter(ds)
    next(it)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        next(it)
    input_rate = args.steps / (time.perf_counter() - t0)

    keras.utils.set_random_seed(args.seed)
    model = ArtistSiameseModel(ArtistEncoder(frames=None, waveform_input=True))
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True), loss=SiameseLoss())
    batch = next(iter(ds))
    cached = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(cached, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)  # trace
    t0 = time.perf_counter()
    model.fit(cached, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    model_rate = args.steps / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    model.fit(ds, steps_per_epoch=args.steps, epochs=1, verbose=0, shuffle=False)
    together = args.steps / (time.perf_counter() - t0)
    print(f"{os.cpu_count()} CPUs; batch {args.batch_size} x 6 crops of {seg} samples; {len(songs)} songs")
    print(f"input pipeline alone : {input_rate:8.2f} batches/s")
    print(f"training step alone  : {model_rate:8.2f} steps/s (batches already in memory)")
    print(f"training from sampler: {together:8.2f} steps/s")
    print(f"input / model ratio  : {input_rate / model_rate:8.1f}x "
          f"({'the model is fed' if input_rate > model_rate else 'INPUT-BOUND'}); "
          f"end-to-end reaches {together / model_rate:.0%} of the model-alone rate")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
