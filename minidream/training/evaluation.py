"""The classification loss and how a classifier is measured: top-k accuracy and the confusion matrix.

The loss is softmax cross-entropy over the classifier's scores z (N, K):

    L = mean_n [ log sum_k exp(z[n, k]) - z[n, y_n] ],   dL/dz = (softmax(z) - onehot(y)) / N
"""
from typing import NamedTuple, Optional

import numpy as np

from minidream.engine.backend import as_numpy, get_array_module, to_device
from minidream.engine.layer_types import type_of


def softmax_cross_entropy(scores, labels):
    """(mean loss, dL/dscores) for scores (N, K) and integer labels (N,)."""
    xp = get_array_module(scores)
    shifted = scores - scores.max(axis=1, keepdims=True)  # exp never overflows
    log_prob = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    rows = xp.arange(len(labels))
    loss = -float(log_prob[rows, labels].mean())
    dscores = xp.exp(log_prob)
    dscores[rows, labels] -= 1
    return loss, dscores / len(labels)


def softmax(scores):
    """Row-wise softmax of float scores (N, K), as float64 NumPy."""
    scores = np.asarray(scores, np.float64)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def classifier_name(specs):
    """The last fully connected layer: the one whose outputs are the class scores."""
    names = [s["name"] for s in specs if type_of(s).role == "fully_connected"]
    if not names:
        raise ValueError("the model has no fully connected (InnerProduct) layer to train as a classifier")
    return names[-1]


def class_scores(net, end, make_input, n, batch_size=64):
    """Outputs of layer ``end`` for make_input(indices) over indices 0..n-1, as float32 NumPy (n, K)."""
    out = [as_numpy(net.forward(to_device(make_input(np.arange(start, min(start + batch_size, n))), net.device),
                                end=end)).reshape(min(batch_size, n - start), -1)
           for start in range(0, n, batch_size)]
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def top_k_accuracy(scores, labels, k):
    """Share of rows whose label is among the k highest scores (k is capped at the class count)."""
    k = min(k, scores.shape[1])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return float((top == np.asarray(labels)[:, None]).any(axis=1).mean())


def confusion_matrix(labels, predicted, num_classes):
    """counts (K, K): row = true class, column = predicted class."""
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (np.asarray(labels), np.asarray(predicted)), 1)
    return counts


class Evaluation(NamedTuple):
    """loss and accuracies on a labelled set; confusion (K, K) rows true, columns predicted."""

    loss: float
    accuracy: float
    top5: float
    confusion: np.ndarray


def evaluate(net, end, make_input, labels, num_classes, batch_size=64) -> Optional[Evaluation]:
    """Loss, top-1 and top-5 accuracy and the confusion matrix of the scores at layer ``end``
    (the classifier, before softmax) on make_input(indices); None when there are no labels."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return None
    scores = class_scores(net, end, make_input, len(labels), batch_size)
    loss, _ = softmax_cross_entropy(scores.astype(np.float64), labels)
    predicted = scores.argmax(axis=1)
    return Evaluation(loss, float((predicted == labels).mean()), top_k_accuracy(scores, labels, 5),
                      confusion_matrix(labels, predicted, num_classes))
