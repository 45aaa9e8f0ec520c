"""Stochastic gradient descent with momentum and weight decay, as Caffe's SGD solver does it.

For every weight W with gradient g of the mean loss over a mini-batch:

    v <- momentum * v - lr * (g + weight_decay * W)
    W <- W + v

Each layer may have a learning-rate multiplier (Caffe's lr_mult). Biases get no weight decay (Caffe's usual decay_mult: 0 for biases): shrinking a bias
toward zero does not make a network simpler. Updates happen in place, so a Net's
``params`` arrays are the ones trained.
"""
import math

SCHEDULES = ("cosine", "step", "constant")


def learning_rate(base_lr, schedule, progress):
    """The learning rate at ``progress`` = iterations done / total, in [0, 1].

    cosine:   base_lr * (1 + cos(pi * progress)) / 2   (SGDR, Loshchilov & Hutter 2017)
    step:     base_lr * 0.1 ** k, k = number of the marks 0.5, 0.75 passed
    constant: base_lr
    """
    if schedule == "cosine":
        return base_lr * 0.5 * (1 + math.cos(math.pi * progress))
    if schedule == "step":
        return base_lr * 0.1 ** sum(progress >= mark for mark in (0.5, 0.75))
    if schedule == "constant":
        return base_lr
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")


class SGD:
    """Momentum SGD over params {layer: [W, b]} (arrays updated in place); lr_mult {layer: factor}."""

    def __init__(self, params, momentum=0.9, weight_decay=5e-4, lr_mult=None):
        self.params = params
        self.lr_mult = dict(lr_mult or {})
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = {name: [p * 0 for p in blobs] for name, blobs in params.items()}

    def step(self, grads, lr):
        """One update from grads {layer: [dW, db]} (layers missing from grads are skipped)."""
        for name, blobs in self.params.items():
            if name not in grads:
                continue
            rate = lr * self.lr_mult.get(name, 1.0)
            for i, (p, g, v) in enumerate(zip(blobs, grads[name], self.velocity[name])):
                decay = self.weight_decay if i == 0 else 0.0
                v *= self.momentum
                v -= rate * (g + decay * p) if decay else rate * g
                p += v
