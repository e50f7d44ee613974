"""Park 2018's embedding metrics on cases computed by hand."""

import numpy as np
import pytest

from sampleaudio.metrics import cosine_similarity_matrix, knn_accuracy, linear_softmax_accuracy, retrieval_map


def test_retrieval_map_by_hand():
    # unit vectors at angles 0, 10, 90, 100 degrees; labels a, b, a, b
    angles = np.deg2rad([0, 10, 90, 100])
    x = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    labels = ["a", "b", "a", "b"]
    # query 0 ranks: 1 (b), 2 (a), 3 (b) -> relevant at rank 2 -> AP = 1/2
    # query 1 ranks: 0 (a), 2 (a, cos 80) vs 3 (b, cos 90): 2 before 3 -> relevant 3 at rank 3 -> AP = 1/3
    # query 2 ranks: 3 (b), 1 (b, 80deg), 0 (a, 90deg) -> relevant at rank 3 -> AP = 1/3
    # query 3 ranks: 2 (a), 1 (b, 90deg), 0 (a, 100deg) -> relevant at rank 2 -> AP = 1/2
    assert retrieval_map(x, labels) == pytest.approx((1 / 2 + 1 / 3 + 1 / 3 + 1 / 2) / 4)
    # a separate database: query [1, 0] (a) against two a's and a b ranked a, b, a -> AP = (1 + 2/3) / 2
    db = np.array([[1.0, 0.05], [1.0, 0.5], [0.0, 1.0]])
    assert retrieval_map([[1.0, 0.0]], ["a"], db, ["a", "b", "a"]) == pytest.approx((1 + 2 / 3) / 2)
    # scale does not matter (cosine)
    assert retrieval_map(3 * x, labels) == pytest.approx(retrieval_map(x, labels))


def test_cosine_matrix():
    np.testing.assert_allclose(cosine_similarity_matrix([[1, 0], [0, 2]], [[3, 0], [1, 1]]),
                               [[1, np.sqrt(0.5)], [0, np.sqrt(0.5)]])


def test_knn_accuracy_by_hand():
    train = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1], [1, 1.05]])
    y = [0, 0, 1, 1, 1]
    test = np.array([[1, 0.02], [0.02, 1], [1, 0.9]])
    # k=1: nearest of [1,.02] is [1,0] (0) ok; of [.02,1] is [0,1] (1) ok; of [1,.9] is [1,1.05] (1) but truth 0
    assert knn_accuracy(train, y, test, [0, 1, 0], k=1) == pytest.approx(2 / 3)
    # k=3 for [1,.9]: cosines [1,1.05] .997 (1), [1,.1] .806 (0), [1,0] .743 (0), [.1,1] .740 (1)
    #   -> votes 1, 0, 0 -> 0 (right); the other two keep their right majority
    assert knn_accuracy(train, y, test, [0, 1, 0], k=3) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="exceeds"):
        knn_accuracy(train, y, test, [0, 1, 0], k=20)


def test_linear_softmax_accuracy_learns_and_is_seeded():
    rng = np.random.default_rng(0)
    centres = np.eye(3, 8) * 4
    y = np.repeat(np.arange(3), 40)
    x = centres[y] + rng.standard_normal((120, 8))
    yt = np.repeat(np.arange(3), 10)
    xt = centres[yt] + rng.standard_normal((30, 8))
    acc = linear_softmax_accuracy(x, y, xt, yt, trials=3, seed=1)
    assert acc > 0.9  # separable by construction
    assert acc == linear_softmax_accuracy(x, y, xt, yt, trials=3, seed=1)
    # chance on labels that carry no information
    shuffled = rng.permutation(y)
    assert linear_softmax_accuracy(x, shuffled, xt, yt, trials=2) < 0.7
