"""Clip-level metrics of the papers, computed with scikit-learn.

- ROC-AUC and PR-AUC, macro-averaged over classes (Lee 2017; Kim 2019 for MTAT; Won 2020).
- Argmax accuracy for single-label tasks (the honest Speech Commands metric).
- The original code's "accuracy": exact match of the thresholded outputs with the targets (reported
  separately as ``exact_match_accuracy``; for one-hot targets it is not the same as argmax accuracy).
- Instance-based F-score at the task's threshold: F1 averaged over clips (Kim 2019 for DCASE).

A class with no positive or no negative clip has no ROC-AUC; it is left out of the macro average and counted
in ``classes_without_both``, rather than failing or being filled with a made-up value.

Embedding metrics of Park et al., ISMIR 2018, Sec. 4.2 (genre as the relevance of artist-trained features):
``retrieval_map`` (MAP of cosine retrieval), ``knn_accuracy`` (k = 20) and ``linear_softmax_accuracy`` (mean of
10 seeded trials of a linear softmax classifier, as the authors' ``run_gtzan_dnn.py``).
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

__all__ = ["roc_auc_macro", "pr_auc_macro", "argmax_accuracy", "exact_match_accuracy", "instance_f1",
           "per_class_scores", "clip_metrics", "cosine_similarity_matrix", "retrieval_map", "knn_accuracy",
           "linear_softmax_accuracy"]


def _scorable(y_true: np.ndarray) -> np.ndarray:
    pos = y_true.sum(axis=0)
    return (pos > 0) & (pos < y_true.shape[0])


def _macro(score, y_true, y_score) -> float:
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    keep = _scorable(y_true)
    if not keep.any():
        return float("nan")
    return float(score(y_true[:, keep], y_score[:, keep], average="macro"))


def roc_auc_macro(y_true, y_score) -> float:
    """Macro ROC-AUC over the classes that have both positive and negative clips."""
    return _macro(skm.roc_auc_score, y_true, y_score)


def pr_auc_macro(y_true, y_score) -> float:
    """Macro average precision (PR-AUC) over the classes that have both positive and negative clips."""
    return _macro(skm.average_precision_score, y_true, y_score)


def argmax_accuracy(y_true, y_score) -> float:
    """Share of clips whose highest-scoring class is a true class."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    top = y_score.argmax(axis=1)
    return float(np.mean(y_true[np.arange(y_true.shape[0]), top] > 0))


def exact_match_accuracy(y_true, y_score, threshold: float) -> float:
    """The original code's accuracy: every class's thresholded output equals the target (subset accuracy)."""
    return float(skm.accuracy_score(np.asarray(y_true) > 0, np.asarray(y_score) > threshold))


def instance_f1(y_true, y_score, threshold: float) -> float:
    """Instance-based F-score: F1 of each clip's thresholded outputs, averaged over clips."""
    return float(skm.f1_score(np.asarray(y_true) > 0, np.asarray(y_score) > threshold, average="samples",
                              zero_division=0))


def per_class_scores(y_true, y_score, threshold: float, labels: list[str]):
    """A pandas DataFrame: per class ROC-AUC, PR-AUC, F1 at the threshold and the number of positives."""
    import pandas as pd

    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    rows = []
    for i, name in enumerate(labels):
        t, s = y_true[:, i] > 0, y_score[:, i]
        both = 0 < t.sum() < t.shape[0]
        rows.append({"label": name, "positives": int(t.sum()),
                     "roc_auc": float(skm.roc_auc_score(t, s)) if both else float("nan"),
                     "pr_auc": float(skm.average_precision_score(t, s)) if both else float("nan"),
                     "f1": float(skm.f1_score(t, s > threshold, zero_division=0))})
    return pd.DataFrame(rows)


def clip_metrics(y_true, y_score, *, threshold: float) -> dict[str, float]:
    """Every headline metric for clip-level targets and scores."""
    y_true, y_score = np.asarray(y_true), np.asarray(y_score)
    return {
        "roc_auc": roc_auc_macro(y_true, y_score),
        "pr_auc": pr_auc_macro(y_true, y_score),
        "accuracy": argmax_accuracy(y_true, y_score),
        "exact_match_accuracy": exact_match_accuracy(y_true, y_score, threshold),
        "instance_f1": instance_f1(y_true, y_score, threshold),
        "classes_without_both": int((~_scorable(y_true)).sum()),
        "clips": int(y_true.shape[0]),
    }


# --- embedding metrics (Park et al., ISMIR 2018, Sec. 4.2) ----------------------------------------------------

def cosine_similarity_matrix(a, b) -> np.ndarray:
    """``[len(a), len(b)]`` cosine similarities (a zero vector has similarity 0 with everything)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def retrieval_map(embeddings, labels, database=None, database_labels=None) -> float:
    """Mean average precision of cosine retrieval, a label (genre) match being relevant.

    Each query ranks the database by cosine similarity; its AP is the mean of precision@k over the ranks ``k``
    of its relevant items (``sklearn.metrics.average_precision_score``). Without a database, every item queries
    all the others (leave-one-out). Queries with no relevant item are left out.
    """
    embeddings, labels = np.asarray(embeddings), np.asarray(labels)
    loo = database is None
    database = embeddings if loo else np.asarray(database)
    database_labels = labels if loo else np.asarray(database_labels)
    sims = cosine_similarity_matrix(embeddings, database)
    aps = []
    for q in range(len(embeddings)):
        keep = np.arange(len(database)) != q if loo else np.ones(len(database), bool)
        relevant = database_labels[keep] == labels[q]
        if relevant.any():
            aps.append(skm.average_precision_score(relevant, sims[q, keep]))
    return float(np.mean(aps)) if aps else float("nan")


def knn_accuracy(train, train_labels, test, test_labels, k: int = 20) -> float:
    """Accuracy of a majority vote of the ``k`` training items nearest in cosine (k = 20 in Park 2018).

    A tied vote goes to the smallest label among the tied (scikit-learn's rule)."""
    from sklearn.neighbors import KNeighborsClassifier

    if k > len(train):
        from sampleaudio.errors import ParameterError

        raise ParameterError(f"k={k} exceeds the {len(train)} training items")
    knn = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute")
    knn.fit(np.asarray(train), np.asarray(train_labels))
    return float(np.mean(knn.predict(np.asarray(test)) == np.asarray(test_labels)))


def linear_softmax_accuracy(train, train_labels, test, test_labels, *, trials: int = 10, seed: int = 0,
                            max_epochs: int = 500) -> float:
    """Mean test accuracy of ``trials`` linear softmax classifiers trained from seeds ``seed .. seed+trials-1``.

    A quick approximation with scikit-learn's ``MLPClassifier`` without hidden layers (features standardised by one
    scalar mean and std of the training set, SGD lr 0.01, Nesterov momentum 0.9, batch 16), which early-stops on
    the *accuracy* of a random 10 % held out of the training set: for stores without a validation split. Park
    2018's Table 3 as the authors' ``run_gtzan_dnn.py`` computes it (all training songs, stopped and reloaded on
    the valid split's loss) is :func:`sampleaudio.families.artist_cnn.linear.linear_softmax_accuracy`.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    train, test = np.asarray(train, np.float64), np.asarray(test, np.float64)
    mean, std = train.mean(), train.std() or 1.0
    train, test = (train - mean) / std, (test - mean) / std
    scores = []
    for trial in range(trials):
        clf = MLPClassifier(hidden_layer_sizes=(), solver="sgd", learning_rate_init=0.01, momentum=0.9,
                            nesterovs_momentum=True, batch_size=16, early_stopping=True, n_iter_no_change=8,
                            validation_fraction=0.1, max_iter=max_epochs, alpha=0.0, random_state=seed + trial)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(train, np.asarray(train_labels))
        scores.append(clf.score(test, np.asarray(test_labels)))
    return float(np.mean(scores))
