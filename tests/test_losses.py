"""Metric-learning losses against values computed by hand."""

import math

import keras
import numpy as np
import pytest

from sampleaudio.losses import (
    SiameseLoss,
    contrastive,
    multi_negative_max_margin,
    softmax_cosine,
    triplet_hinge,
)

# two anchors: scores [s_pos, s_neg1, s_neg2]
SCORES = np.array([[0.9, 0.1, 0.6], [0.2, 0.5, -0.3]], np.float32)
Y = np.zeros_like(SCORES)


def test_max_margin_by_hand():
    # anchor 1: max(0, .4-.9+.1)=0, max(0, .4-.9+.6)=.1 -> .1 ; anchor 2: .4-.2+.5=.7, .4-.2-.3=-.1->0 -> .7
    np.testing.assert_allclose(np.asarray(multi_negative_max_margin(Y, SCORES)), [0.1, 0.7], atol=1e-6)
    # the paper's reduction: summed over the batch too
    assert float(SiameseLoss("max_margin")(Y, SCORES)) == pytest.approx(0.8, abs=1e-6)
    assert float(SiameseLoss("max_margin", reduction="sum_over_batch_size")(Y, SCORES)) == pytest.approx(0.4, abs=1e-6)


def test_contrastive_by_hand():
    # d = sqrt(2 - 2 s); anchor 1: d_pos^2 = 0.2 -> 0.1; d_n1 = sqrt(1.8) = 1.3416 > 1 -> 0; d_n2 = sqrt(.8) = .8944
    #   -> 0.5 (1 - .8944)^2 = .005573 ; total .105573
    # anchor 2: d_pos^2 = 1.6 -> .8; d_n1 = 1 -> 0; d_n2 = sqrt(2.6) > 1 -> 0 ; total .8
    expected = [0.1 + 0.5 * (1 - math.sqrt(0.8)) ** 2, 0.8]
    np.testing.assert_allclose(np.asarray(contrastive(Y, SCORES)), expected, atol=1e-5)


def test_triplet_hinge_by_hand():
    d = lambda s: math.sqrt(2 - 2 * s)  # noqa: E731
    a1 = np.mean([max(0, 0.2 + d(0.9) - d(0.1)), max(0, 0.2 + d(0.9) - d(0.6))])
    a2 = np.mean([max(0, 0.2 + d(0.2) - d(0.5)), max(0, 0.2 + d(0.2) - d(-0.3))])
    # a1 = mean(0, 0.2 + .4472 - .8944 -> 0) = 0 ; a2 = mean(.2+1.2649-1 = .4649, .2+1.2649-1.6125 -> 0) = .2325
    np.testing.assert_allclose(np.asarray(triplet_hinge(Y, SCORES)), [a1, a2], atol=1e-5)
    assert a1 == 0 and a2 == pytest.approx(0.23246, abs=1e-4)


def test_softmax_cosine_by_hand():
    # temperature 1: -log(e^.9 / (e^.9 + e^.1 + e^.6)) = 0.7840 ; -log(e^.2 / (e^.2 + e^.5 + e^-.3)) = 1.0840
    expected = [-math.log(math.exp(0.9) / (math.exp(0.9) + math.exp(0.1) + math.exp(0.6))),
                -math.log(math.exp(0.2) / (math.exp(0.2) + math.exp(0.5) + math.exp(-0.3)))]
    np.testing.assert_allclose(np.asarray(softmax_cosine(Y, SCORES, temperature=1.0)), expected, atol=1e-5)
    assert expected == pytest.approx([0.7840, 1.0840], abs=1e-4)


def test_loss_config_round_trip_and_bad_kind():
    loss = SiameseLoss("triplet", 0.3)
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert clone.kind == "triplet" and clone.param == pytest.approx(0.3)
    with pytest.raises(ValueError, match="kind"):
        SiameseLoss("arcface")
