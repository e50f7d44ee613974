"""Reference outputs from the original musicnn (its TF1 graph), for tests/test_musicnn.py.

Run in its own process with ``TF_USE_LEGACY_KERAS=1`` and ``tf_keras`` importable (musicnn builds its graph
with ``tf.compat.v1.layers``, which needs the legacy Keras, and ``musicnn.extractor`` turns eager mode off):

    python tests/musicnn_reference.py graph MTT_musicnn input.npy out.npz   # input: [B, 187, 96] log-mel
    python tests/musicnn_reference.py extract MTT_musicnn song.wav out.npz  # the extractor's taggram
"""

import os
import sys

import numpy as np


def graph(model: str, inputs: np.ndarray) -> dict:
    import tensorflow as tf
    from musicnn import configuration, models

    tf.compat.v1.disable_eager_execution()
    labels = configuration.MTT_LABELS if "MTT" in model else configuration.MSD_LABELS
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, inputs.shape[1], inputs.shape[2]])
        training = tf.compat.v1.placeholder(tf.bool)
        outputs = models.define_model(x, training, model, len(labels))
    if "vgg" in model:
        names = ["logits", "pool1", "pool2", "pool3", "pool4", "pool5"]
    else:
        names = ["logits", "timbral", "temporal", "cnn1", "cnn2", "cnn3", "mean_pool", "max_pool", "penultimate"]
    fetch = dict(zip(names, outputs))
    fetch["sigmoid"] = tf.nn.sigmoid(fetch["logits"])
    session = tf.compat.v1.Session()
    tf.compat.v1.train.Saver().restore(session, os.path.join(os.path.dirname(models.__file__), model, ""))
    return session.run(fetch, feed_dict={x: inputs, training: False})


def extract(model: str, path: str) -> dict:
    from musicnn import extractor

    taggram, labels = extractor.extractor(path, model=model, input_length=3, extract_features=False)
    return {"taggram": np.asarray(taggram), "labels": np.asarray(labels)}


if __name__ == "__main__":
    mode, model, source, out = sys.argv[1:5]
    result = graph(model, np.load(source)) if mode == "graph" else extract(model, source)
    np.savez(out, **{k: np.asarray(v) for k, v in result.items()})
