"""Training with minidream's own backprop: the mini-batch loop, checkpoints and resuming.

Each step runs the net to its classifier, takes softmax cross-entropy (minidream.training.evaluation),
carries dL/dscores back with ``Net.backward(..., param_grads=True)`` (dropout in training mode)
and lets an optimizer (minidream.training.optimizers) update the weights. After each epoch the validation
loss, top-1/top-5 accuracy and confusion matrix are measured on centre crops and the model is
written to the output file, in the format ``load_model`` reads, with the class names inside,
plus the reports of minidream.training.reports and the optimizer state for ``resume``.

    minidream.train("DATA_DIR", arch="mini", epochs=10, output="model.h5")
    minidream.train("DATA_DIR", arch="mini", epochs=10, output="model.h5", resume="model.h5")
    minidream.finetune("alexnet", "DATA_DIR", output="mine.h5")      (minidream/training/finetuning.py)
"""
from typing import List, NamedTuple, Optional

import numpy as np

from minidream.engine.backend import as_numpy, to_device
from minidream.engine.layer_types import type_of
from minidream.engine.net import Net
from minidream.architectures.builtin import architecture
from minidream.models import random_weights as models
from minidream.training import augment as augmentations
from minidream.training import image_folder
from minidream.training.checkpoints import load_checkpoint, save_checkpoint
from minidream.training.evaluation import classifier_name, evaluate, softmax_cross_entropy
from minidream.training.optimizers import SCHEDULES, learning_rate, make_optimizer
from minidream.training.reports import write_reports


class Result(NamedTuple):
    """The trained net, one dict per epoch (epoch, lr, loss, train_accuracy, val_loss, val_accuracy,
    val_top5) and the last validation confusion matrix (K, K) (None without validation images)."""

    net: Net
    history: List[dict]
    confusion: Optional[np.ndarray] = None


class FitState:
    """What a run has done and needs to go on: epochs done, history, the optimizer, and the three
    generators (shuffling, augmentation, dropout) that ``seed`` starts."""

    def __init__(self, solver, seed):
        self.epoch, self.history, self.confusion, self.solver = 0, [], None, solver
        self.rngs = dict(zip(("shuffle", "augment", "dropout"),
                             (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))))


def with_classes(specs, num_classes):
    """A copy of specs whose classifier has num_classes outputs."""
    last = classifier_name(specs)
    return [dict(s, params=dict(s["params"], num_output=num_classes)) if s["name"] == last else dict(s)
            for s in specs]


# Pixels are Caffe-style 0..255 minus the mean, std about 64 (He init assumes unit-variance input).
PIXEL_STD = 64.0


def init_weights(net, seed=0):
    """He initialization, scaled so activations start near unit variance on 0..255 pixel input.

    The first layer's weights are divided by PIXEL_STD (its inputs are pixels, not unit-variance
    features), and the classifier starts small, N(0, 0.01^2), so the first losses are near log K.
    Train it with ``first_layer_lr_mult``. Layers whose weights start at constants (LayerType.initial_values:
    BatchNorm's statistics at zero, Scale's gamma at one and beta at zero) start there, as Caffe's fillers leave them.
    """
    models.he_init(net, seed)
    for spec in net.specs:
        for blob, value in zip(net.params.get(spec["name"], []), type_of(spec).initial_values):
            if value is not None:
                blob[...] = value
    weighted = [name for name in net.layer_names if name in net.params]
    net.params[weighted[0]][0] /= PIXEL_STD
    classifier = net.params[classifier_name(net.specs)][0]
    classifier[...] = np.random.default_rng(seed).normal(0, 0.01, classifier.shape)
    return net


def first_layer_lr_mult(net):
    """{first weighted layer: 1 / PIXEL_STD^2}.

    Training W on raw pixels x is training W' = W * s on x / s; SGD steps on W' of size lr
    are steps of lr / s^2 on W. So this multiplier makes the first layer learn as if its
    input were normalized, instead of taking steps s^2 times too large and diverging.
    """
    first = next(name for name in net.layer_names if name in net.params)
    return {first: 1.0 / PIXEL_STD**2}


def fit(net, train_input, train_labels, val_input, val_labels, *, epochs=10, batch_size=64, lr=0.01,
        schedule="cosine", optimizer="sgd", momentum=0.9, weight_decay=5e-4, lr_mult=None, seed=0, on_epoch=None,
        progress=True, state=None):
    """Mini-batch training of net's classifier scores; returns the FitState (history, confusion, ...).

    train_input(indices, rng) -> (B, C, H, W) network input (augmented);
    val_input(indices) -> the same without augmentation; lr_mult {layer: factor} scales the
    learning rate per layer. on_epoch(state) runs after every epoch (checkpoints). Shuffling,
    augmentation and dropout draw from ``seed``. state: a FitState to continue (resume).
    """
    from tqdm import tqdm

    if schedule not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    end = classifier_name(net.specs)
    num_classes = net.params[end][0].shape[0]
    state = state or FitState(make_optimizer(optimizer, net.params, momentum, weight_decay, lr_mult), seed)
    rngs = state.rngs
    n = len(train_labels)
    steps_per_epoch = -(-n // batch_size)
    for epoch in range(state.epoch, epochs):
        order = rngs["shuffle"].permutation(n)
        loss_sum = correct = 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
                   disable=not progress, leave=False)
        for step in bar:
            index = order[step * batch_size:(step + 1) * batch_size]
            x = to_device(train_input(index, rngs["augment"]), net.device)
            labels = to_device(train_labels[index], net.device)
            scores = net.forward(x, end=end, train=True, rng=rngs["dropout"])
            loss, dscores = softmax_cross_entropy(scores, labels)
            net.backward(dscores, param_grads=True)
            rate = learning_rate(lr, schedule, (epoch * steps_per_epoch + step) / (epochs * steps_per_epoch))
            state.solver.step(net.grads, rate)
            loss_sum += loss * len(index)
            correct += int((as_numpy(scores).argmax(axis=1) == train_labels[index]).sum())
            bar.set_postfix(loss=f"{loss:.3f}", lr=f"{rate:.2g}")
        val = evaluate(net, end, val_input, val_labels, num_classes, batch_size)
        state.history.append({"epoch": epoch + 1, "lr": rate, "loss": loss_sum / n, "train_accuracy": correct / n,
                              "val_loss": val and val.loss, "val_accuracy": val and val.accuracy,
                              "val_top5": val and val.top5})
        state.epoch, state.confusion = epoch + 1, val and val.confusion
        if progress:
            tqdm.write(f"epoch {epoch + 1}/{epochs}: loss {loss_sum / n:.4f}  train accuracy {correct / n:.3f}  " +
                       ("no validation images" if val is None else
                        f"val loss {val.loss:.4f}  val top-1 {val.accuracy:.3f}  top-5 {val.top5:.3f}"))
        if on_epoch is not None:
            on_epoch(state)
    return state


def image_inputs(images, crop, mean_bgr, names=()):
    """(train_input, val_input) closures over uint8 images (N, S, S, 3): the augmentations
    ``names`` (minidream.training.augment), then random crops and flips; or centre crops."""
    def train_input(index, rng):
        chosen = augmentations.apply(images[index], names, rng)
        return image_folder.to_input(image_folder.random_crops(chosen, crop, rng), mean_bgr)

    def val_input(index):
        return image_folder.to_input(image_folder.center_crops(images[index], crop), mean_bgr)

    return train_input, val_input


def train(data, arch="mini", output=None, *, val=None, epochs=10, batch_size=64, lr=0.01, schedule="cosine",
          optimizer="sgd", momentum=0.9, weight_decay=5e-4, augment=(), input_size=None, val_fraction=0.1, seed=0,
          resume=None, device="cpu", progress=True):
    """Train architecture ``arch`` from He-initialized weights on an image classification set.

    data: DATA_DIR (one sub-folder per class, optional val/) or an ImageSet whose images
    are at least the network's input size (random crops of that size are taken).
    val: an ImageSet to validate on; else DATA_DIR/val/ or a held-out val_fraction.
    output: the .h5 file written after every epoch (the last epoch's weights), with its
    reports and optimizer state beside it (minidream.training.reports, minidream.training.checkpoints).
    augment: names from minidream.training.augment.AUGMENTATIONS ("rotate,zoom,color,noise"), besides crop and flip.
    input_size: the square side the net takes (default: the architecture's).
    resume: a checkpoint this run wrote; training goes on from its last epoch and ends with
    the same weights as a run that was never stopped (the other options must be the same).
    Returns Result(net, history, confusion).
    """
    specs, meta = architecture(arch)
    if input_size is not None:
        meta = dict(meta, input_size=(int(input_size), int(input_size)))
    crop = int(meta["input_size"][0])
    train_set, val_set = image_folder.datasets(data, val, image_folder.load_size(crop), val_fraction, seed, progress)
    augment = augmentations.parse(augment)
    # What a resumed run must share with the run it continues (epochs may grow).
    options = {"arch": arch, "batch_size": batch_size, "lr": lr, "schedule": schedule, "optimizer": optimizer,
               "momentum": momentum, "weight_decay": weight_decay, "augment": list(augment), "input_size": crop,
               "seed": seed, "train_images": len(train_set.labels)}
    meta = dict(meta, class_names=list(train_set.class_names), name=f"{meta.get('name', arch)}-trained")
    meta["extra"] = dict(meta.get("extra", {}), trained_by="minidream.train", arch=arch, seed=seed, options=options)
    net = init_weights(Net(with_classes(specs, len(train_set.class_names)), meta=meta), seed)
    lr_mult = first_layer_lr_mult(net)
    net.to(device)
    state = None
    if resume is not None:
        state = FitState(make_optimizer(optimizer, net.params, momentum, weight_decay, lr_mult), seed)
        load_checkpoint(resume, net, state, options)
    train_input, _ = image_inputs(train_set.images, crop, meta["mean_bgr"], augment)
    _, val_input = image_inputs(val_set.images, crop, meta["mean_bgr"])
    state = fit(net, train_input, train_set.labels, val_input, val_set.labels, epochs=epochs,
                batch_size=batch_size, lr=lr, schedule=schedule, optimizer=optimizer, momentum=momentum,
                weight_decay=weight_decay, lr_mult=lr_mult, seed=seed, progress=progress, state=state,
                on_epoch=lambda s: _end_of_epoch(output, net, s))
    return Result(net, state.history, state.confusion)


def _end_of_epoch(output, net, state):
    """The checkpoint (what a resumed run needs), then, beside it, the reports a person reads."""
    save_checkpoint(output, net, state)
    if output:
        write_reports(output, state.history, state.confusion, net.meta.get("class_names"))

