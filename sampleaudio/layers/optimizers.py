"""Optimizers with PyTorch's coupled weight decay, for the schedules of PyTorch code bases (Won et al., SMC 2020,
``training/solver.py``: ``Adam(weight_decay=1e-4)`` then ``SGD(momentum=0.9, nesterov=True, weight_decay=1e-4)``).

PyTorch's ``weight_decay`` adds ``weight_decay * w`` to each parameter's gradient before the update (an L2 penalty
on every parameter, biases, batch-norm scales and learnable filter parameters included), so for SGD it enters
the momentum and for Adam the moment estimates. Keras' own ``weight_decay`` is decoupled (AdamW: ``w -= lr * wd *
w`` beside the update), which is another optimizer. An L2 term in the loss would give the same gradient but also
change the validation loss that selects the best weights, which Won's code computes without it.

``epsilon`` of :class:`AdamWithL2` defaults to PyTorch's 1e-8 (Keras: 1e-7); Keras adds it to ``sqrt(v)`` before
the bias correction, PyTorch after, which differs only while ``sqrt(v)`` is near ``epsilon``.
"""

from __future__ import annotations

import keras

__all__ = ["SGDWithL2", "AdamWithL2"]


class _CoupledL2:
    def __init__(self, *args, l2: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l2 = float(l2)

    def apply(self, grads, trainable_variables=None):
        if self.l2:
            variables = list(trainable_variables) if trainable_variables is not None else self._trainable_variables
            grads = [g if g is None else g + self.l2 * keras.ops.cast(v, g.dtype) for g, v in zip(grads, variables)]
        return super().apply(grads, trainable_variables)

    def get_config(self) -> dict:
        return {**super().get_config(), "l2": self.l2}


@keras.saving.register_keras_serializable(package="sampleaudio")
class SGDWithL2(_CoupledL2, keras.optimizers.SGD):
    """``keras.optimizers.SGD`` with ``l2 * w`` added to each gradient (``torch.optim.SGD(weight_decay=l2)``)."""


@keras.saving.register_keras_serializable(package="sampleaudio")
class AdamWithL2(_CoupledL2, keras.optimizers.Adam):
    """``keras.optimizers.Adam`` with ``l2 * w`` added to each gradient (``torch.optim.Adam(weight_decay=l2)``)."""

    def __init__(self, *args, epsilon: float = 1e-8, **kwargs):
        super().__init__(*args, epsilon=epsilon, **kwargs)
