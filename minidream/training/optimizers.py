"""Optimizers and learning-rate schedules: the update rules of Caffe's solvers, one small class each.

Every rule sees, for each parameter array W of a layer, the gradient of the mean mini-batch loss plus
Caffe's L2 weight decay on weights only (blob 0; biases get none, Caffe's usual decay_mult: 0 for
biases, since shrinking a bias toward zero does not make a network simpler):

    g = dL/dW + weight_decay * W          (biases: g = dL/db)

and the layer's learning rate lr * lr_mult[layer] (Caffe's lr_mult). Updates happen in place, so a
Net's ``params`` arrays are the ones trained. ``state_dict()``/``load_state_dict()`` carry the
per-parameter state (velocities, running averages, step count) into a checkpoint, so a resumed run
continues exactly where it stopped.

    solver = make_optimizer("adam", net.params, weight_decay=5e-4)
    solver.step(net.grads, learning_rate(0.001, "cosine", done / total))
"""
import math

import numpy as np

from minidream.engine.backend import as_numpy, get_array_module, is_gpu, to_device

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


class Optimizer:
    """Weight decay, lr_mult and per-parameter state; subclasses name their ``slots`` and ``update``."""

    slots = ()

    def __init__(self, params, weight_decay=5e-4, lr_mult=None):
        self.params = params
        self.weight_decay = weight_decay
        self.lr_mult = dict(lr_mult or {})
        self.t = 0  # steps taken
        self.state = {name: [{slot: p * 0 for slot in self.slots} for p in blobs] for name, blobs in params.items()}

    def step(self, grads, lr):
        """One update from grads {layer: [dW, db]} (layers missing from grads are skipped)."""
        self.t += 1
        for name, blobs in self.params.items():
            if name not in grads:
                continue
            rate = lr * self.lr_mult.get(name, 1.0)
            for i, (p, g, state) in enumerate(zip(blobs, grads[name], self.state[name])):
                if i == 0 and self.weight_decay:
                    g = g + self.weight_decay * p
                self.update(p, g, rate, state)

    def update(self, p, g, rate, state):
        raise NotImplementedError

    def state_dict(self):
        """{"t": step count, "names": layer of each array, "0", "1", ...: the state arrays} as NumPy."""
        arrays = [(name, as_numpy(a)) for name, blobs in self.state.items() for slots in blobs
                  for a in (slots[s] for s in self.slots)]
        out = {str(k): a for k, (_, a) in enumerate(arrays)}
        out.update(t=np.array(self.t), names=np.array([name for name, _ in arrays]))
        return out

    def load_state_dict(self, saved):
        """Restore what ``state_dict`` returned, for the same network and optimizer kind."""
        targets = [(name, a) for name, blobs in self.state.items() for slots in blobs
                   for a in (slots[s] for s in self.slots)]
        if len(saved) - 2 != len(targets) or any(saved[str(k)].shape != a.shape for k, (_, a) in enumerate(targets)):
            raise ValueError(f"the saved optimizer state does not fit this network and the {type(self).__name__} "
                             "optimizer; resume with the options the checkpoint was trained with")
        for k, (_, a) in enumerate(targets):
            a[...] = to_device(np.asarray(saved[str(k)], a.dtype), "gpu" if is_gpu(a) else "cpu")
        self.t = int(saved["t"])


class SGD(Optimizer):
    """Momentum SGD (Caffe's SGDSolver):

        v <- momentum * v - lr * g
        W <- W + v
    """

    slots = ("velocity",)

    def __init__(self, params, momentum=0.9, weight_decay=5e-4, lr_mult=None):
        super().__init__(params, weight_decay, lr_mult)
        self.momentum = momentum

    def update(self, p, g, rate, state):
        v = state["velocity"]
        v *= self.momentum
        v -= rate * g
        p += v


class Nesterov(SGD):
    """Nesterov's accelerated gradient (Sutskever et al. 2013; Caffe's NesterovSolver):

        v' <- momentum * v - lr * g
        W  <- W + (1 + momentum) * v' - momentum * v
    """

    def update(self, p, g, rate, state):
        v = state["velocity"]
        p -= self.momentum * v
        v *= self.momentum
        v -= rate * g
        p += (1 + self.momentum) * v


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011; Caffe's AdaGradSolver): a per-weight rate that shrinks where
    gradients have been large, so one base rate suits every layer:

        h <- h + g^2
        W <- W - lr * g / (sqrt(h) + eps)
    """

    slots = ("sum_squares",)

    def __init__(self, params, weight_decay=5e-4, lr_mult=None, eps=1e-8):
        super().__init__(params, weight_decay, lr_mult)
        self.eps = eps

    def update(self, p, g, rate, state):
        xp = get_array_module(p)
        h = state["sum_squares"]
        h += g * g
        p -= rate * g / (xp.sqrt(h) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), at step t = 1, 2, ...:

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        W <- W - lr * m_hat / (sqrt(v_hat) + eps),   m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)
    """

    slots = ("m", "v")

    def __init__(self, params, weight_decay=5e-4, lr_mult=None, beta1=0.9, beta2=0.999, eps=1e-8):
        super().__init__(params, weight_decay, lr_mult)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, p, g, rate, state):
        xp = get_array_module(p)
        m, v = state["m"], state["v"]
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p -= rate * m_hat / (xp.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "nesterov": Nesterov, "adagrad": Adagrad, "adam": Adam}


def make_optimizer(name, params, momentum=0.9, weight_decay=5e-4, lr_mult=None):
    """The optimizer called ``name`` (a key of OPTIMIZERS) over params {layer: [W, b]}; momentum is
    used by sgd and nesterov only."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {', '.join(OPTIMIZERS)}")
    if name in ("sgd", "nesterov"):
        return OPTIMIZERS[name](params, momentum, weight_decay, lr_mult)
    return OPTIMIZERS[name](params, weight_decay, lr_mult)
