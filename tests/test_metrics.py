import numpy as np
import pytest

from sampleaudio import metrics

Y = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 1], [0, 0, 1]])
S = np.array([[0.9, 0.2, 0.5], [0.3, 0.8, 0.6], [0.6, 0.4, 0.7], [0.1, 0.5, 0.2]])


def test_roc_auc_macro_by_hand():
    # class 0: positives {0.9, 0.6} vs negatives {0.3, 0.1}: all 4 pairs ordered -> 1.0
    # class 1: positives {0.8, 0.4} vs negatives {0.2, 0.5}: pairs (0.8>0.2, 0.8>0.5, 0.4>0.2, 0.4<0.5) -> 0.75
    # class 2: every clip positive -> no ROC-AUC, left out and counted
    assert metrics.roc_auc_macro(Y, S) == pytest.approx((1.0 + 0.75) / 2)
    assert metrics.clip_metrics(Y, S, threshold=0.5)["classes_without_both"] == 1


def test_pr_auc_macro_by_hand():
    # class 0: ranking 0.9(+) 0.6(+) -> AP 1.0; class 1: 0.8(+) 0.5(-) 0.4(+) -> (1 + 2/3) / 2
    assert metrics.pr_auc_macro(Y, S) == pytest.approx((1.0 + (1 + 2 / 3) / 2) / 2)


def test_accuracies_by_hand():
    onehot = np.eye(3)[[0, 1, 2, 2]]
    scores = np.array([[0.6, 0.3, 0.1], [0.2, 0.45, 0.35], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    assert metrics.argmax_accuracy(onehot, scores) == pytest.approx(3 / 4)
    # exact match at 0.5: clip 1 has no output above 0.5 -> mismatch; clip 3 predicts class 0 -> mismatch
    assert metrics.exact_match_accuracy(onehot, scores, 0.5) == pytest.approx(2 / 4)


def test_instance_f1_by_hand():
    # threshold 0.5 -> predictions: {0,2}? clip0: 0.9>, 0.2, 0.5 not > -> {0}; truth {0,2}: P=1 R=1/2 F1=2/3
    # clip1: {1,2} vs {1,2}: 1; clip2: {0,2} vs {0,1,2}: P=1 R=2/3 F1=0.8; clip3: {} vs {2}: 0
    assert metrics.instance_f1(Y, S, 0.5) == pytest.approx((2 / 3 + 1 + 0.8 + 0) / 4)


def test_per_class_table():
    df = metrics.per_class_scores(Y, S, 0.5, ["a", "b", "c"])
    assert list(df.label) == ["a", "b", "c"]
    assert df.roc_auc[0] == pytest.approx(1.0) and df.roc_auc[1] == pytest.approx(0.75) and np.isnan(df.roc_auc[2])
    assert list(df.positives) == [2, 2, 4]
