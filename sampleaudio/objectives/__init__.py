"""Training objectives: what the trainer asks of one, written down (:class:`Objective`), and how a run's objective is
made (:func:`make`).

An objective owns everything between the store and the loss: its training and validation data, how it wraps the
architecture's network (a Siamese model around an encoder, a co-embedding model around an audio branch), its loss,
and what a finished run keeps (the model saved as ``best.keras``, the card's fields, the final metrics).
Classification (:mod:`sampleaudio.objectives.classification`) is an ordinary objective; the families bring their
own (Park 2018's Siamese objective, Choi 2019's co-embedding), declared in their folder
(:class:`sampleaudio.families.Objective`) and found by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from sampleaudio.families import _resolve, objective

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

    from sampleaudio.config import ExperimentConfig
    from sampleaudio.stores import Store

__all__ = ["Objective", "make"]


class Objective(Protocol):
    """The protocol between the trainer and a training objective.

    An objective is made before anything of the run is written (so a bad setting fails first) as
    ``Class(config, store, segment=..., mean=..., std=...)``: the run's :class:`~sampleaudio.config.ExperimentConfig`,
    its opened :class:`~sampleaudio.stores.Store`, the input length in samples and the standardisation of the
    waveform. The trainer then asks it for:
    """

    def wrap(self, model: keras.Model) -> keras.Model:
        """The model the loss trains, around the architecture's network (the network itself for classification)."""

    def loss(self) -> keras.losses.Loss:
        """The loss of :meth:`wrap`'s model."""

    def steps_per_epoch(self) -> int:
        """Steps of one epoch (one pass over the training examples)."""

    def train_dataset(self, seed: int, *, drop_remainder: bool = False) -> tf.data.Dataset:
        """One epoch's batches ``(inputs, targets)``, a function of ``seed`` (the trainer passes one per epoch)."""

    def valid_dataset(self) -> tuple[tf.data.Dataset, int]:
        """The validation batches (the same every epoch) and their number of steps."""

    def finish(self, model: keras.Model, run_dir: str) -> tuple[keras.Model, dict, dict]:
        """Scores the trained (best) model and says what the run keeps: ``(model, card fields, metrics)``: the model
        saved as ``best.keras`` (what tag / embed / export use), the objective's fields of the model card (labels,
        embedding, ...) and the final metrics; it may write its own files into ``run_dir``."""


def make(config: ExperimentConfig, store: Store, *, segment: int, mean: float, std: float) -> Objective:
    """The objective ``config.objective`` names, for this run."""
    return _resolve(objective(config.objective.name).impl)(config, store, segment=segment, mean=mean, std=std)
