"""The checks every model family's test runs (keras-hub's ``test_case`` idea), in one place.

``run_model_checks(build, x, y, tmp_path)``: config round trip, eager call (shape and float32 output), one fit
step, ``.keras`` save/load with the same outputs, and the same model built and trained one step under a mixed
precision policy with float32 outputs. Keep ``x`` tiny: tracing dominates the time.
"""

from __future__ import annotations

import keras
import numpy as np


def _batch(x) -> int:
    return (x[0] if isinstance(x, (list, tuple)) else x).shape[0]


def _optimizer(policy: str = "float32"):
    opt = keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True)
    return keras.optimizers.LossScaleOptimizer(opt) if policy == "mixed_float16" else opt


def run_model_checks(build, x, y, tmp_path, *, loss="binary_crossentropy", policies=("mixed_bfloat16",),
                     atol: float = 0.0) -> keras.Model:
    """Run the standard checks on the model ``build()`` returns (``build`` may also be a model: then the mixed
    precision check, which must build afresh under the policy, is skipped). Returns the float32 model.

    ``loss``: what one fit step minimises (a name or a loss object, e.g. ``SiameseLoss``); ``policies``: the
    mixed precision policies to build and train under; ``atol``: tolerance of the ``.keras`` round trip.
    """
    model = build if isinstance(build, keras.Model) else build()
    clone = model.__class__.from_config(model.get_config())
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    out = model(x, training=False)
    assert tuple(out.shape) == (_batch(x), *model.output.shape[1:])
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    model.compile(optimizer=_optimizer(), loss=loss)
    history = model.fit(x, y, batch_size=_batch(x), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=0, atol=atol)
    if isinstance(build, keras.Model):
        return model
    for policy in policies:
        keras.mixed_precision.set_global_policy(policy)
        try:
            mixed = build()
            assert any(layer.compute_dtype in ("float16", "bfloat16") for layer in mixed.layers), policy
            mixed.compile(optimizer=_optimizer(policy), loss=loss)
            assert np.isfinite(mixed.train_on_batch(x, y)), policy
            assert keras.backend.standardize_dtype(mixed(x).dtype) == "float32", policy
        finally:
            keras.mixed_precision.set_global_policy("float32")
    return model
