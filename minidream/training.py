"""Training and fine-tuning with minidream's own backprop.

The loss is softmax cross-entropy over the last classifier's scores z (N, K):

    L = mean_n [ log sum_k exp(z[n, k]) - z[n, y_n] ],   dL/dz = (softmax(z) - onehot(y)) / N

``Net.backward(dL/dz, param_grads=True)`` carries that back through every layer (dropout
in training mode) and the SGD solver (minidream.sgd) updates the weights. After each
epoch the validation accuracy is measured on centre crops and the model is written to
the output file, in the format ``load_model`` reads, with the class names inside.

    minidream.train("DATA_DIR", arch="mini", epochs=10, output="model.h5")
    minidream.finetune("alexnet", "DATA_DIR", output="mine.h5")      (minidream/finetuning.py)
    python -m minidream train DATA_DIR --arch mini --epochs 10 -o model.h5
    python -m minidream finetune --model alexnet DATA_DIR -o mine.h5
"""
from typing import List, NamedTuple

import numpy as np

from minidream import image_folder, models
from minidream.backend import as_numpy, get_array_module, to_device
from minidream.image_folder import ImageSet
from minidream.net import Net
from minidream.sgd import SCHEDULES, SGD, learning_rate

class Result(NamedTuple):
    """The trained net and one dict per epoch: epoch, lr, loss, train_accuracy, val_accuracy."""

    net: Net
    history: List[dict]


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


def classifier_name(specs):
    """The last InnerProduct layer: the one whose outputs are the class scores."""
    names = [s["name"] for s in specs if s["type"] == "InnerProduct"]
    if not names:
        raise ValueError("the model has no InnerProduct layer to train as a classifier")
    return names[-1]


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
    Train it with ``first_layer_lr_mult``.
    """
    models.he_init(net, seed)
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


def evaluate(net, end, make_input, labels, batch_size=64):
    """Accuracy of argmax(net.forward(make_input(indices), end)) against labels."""
    if len(labels) == 0:
        return None
    correct = 0
    for start in range(0, len(labels), batch_size):
        index = np.arange(start, min(start + batch_size, len(labels)))
        scores = as_numpy(net.forward(to_device(make_input(index), net.device), end=end))
        correct += int((scores.argmax(axis=1) == labels[index]).sum())
    return correct / len(labels)


def fit(net, train_input, train_labels, val_input, val_labels, *, epochs=10, batch_size=64, lr=0.01,
        schedule="cosine", momentum=0.9, weight_decay=5e-4, lr_mult=None, seed=0, on_epoch=None, progress=True):
    """Mini-batch SGD on net's classifier scores; returns the per-epoch history.

    train_input(indices, rng) -> (B, C, H, W) network input (augmented);
    val_input(indices) -> the same without augmentation; lr_mult {layer: factor} scales the
    learning rate per layer (minidream.sgd). on_epoch(history) runs after
    every epoch (checkpoints). Shuffling, augmentation and dropout draw from ``seed``.
    """
    from tqdm import tqdm

    if schedule not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; choose from {', '.join(SCHEDULES)}")
    end = classifier_name(net.specs)
    n = len(train_labels)
    shuffle_rng, augment_rng, dropout_rng = (np.random.default_rng(s)
                                             for s in np.random.SeedSequence(seed).spawn(3))
    solver = SGD(net.params, momentum, weight_decay, lr_mult)
    steps_per_epoch = -(-n // batch_size)
    history = []
    for epoch in range(epochs):
        order = shuffle_rng.permutation(n)
        loss_sum = correct = 0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{epochs}", unit="batch",
                   disable=not progress, leave=False)
        for step in bar:
            index = order[step * batch_size:(step + 1) * batch_size]
            x = to_device(train_input(index, augment_rng), net.device)
            labels = to_device(train_labels[index], net.device)
            scores = net.forward(x, end=end, train=True, rng=dropout_rng)
            loss, dscores = softmax_cross_entropy(scores, labels)
            net.backward(dscores, param_grads=True)
            rate = learning_rate(lr, schedule, (epoch * steps_per_epoch + step) / (epochs * steps_per_epoch))
            solver.step(net.grads, rate)
            loss_sum += loss * len(index)
            correct += int((as_numpy(scores).argmax(axis=1) == train_labels[index]).sum())
            bar.set_postfix(loss=f"{loss:.3f}", lr=f"{rate:.2g}")
        record = {"epoch": epoch + 1, "lr": rate, "loss": loss_sum / n, "train_accuracy": correct / n,
                  "val_accuracy": evaluate(net, end, val_input, val_labels, batch_size)}
        history.append(record)
        if progress:
            val = "n/a" if record["val_accuracy"] is None else f"{record['val_accuracy']:.3f}"
            tqdm.write(f"epoch {epoch + 1}/{epochs}: loss {record['loss']:.4f}  "
                       f"train accuracy {record['train_accuracy']:.3f}  val accuracy {val}")
        if on_epoch is not None:
            on_epoch(history)
    return history


def _image_inputs(images, crop, mean_bgr):
    """(train_input, val_input) closures over uint8 images: random crops + flips, or centre crops."""
    def train_input(index, rng):
        return image_folder.to_input(image_folder.random_crops(images[index], crop, rng), mean_bgr)

    def val_input(index):
        return image_folder.to_input(image_folder.center_crops(images[index], crop), mean_bgr)

    return train_input, val_input


def _datasets(data, val, crop, val_fraction, seed, progress):
    if isinstance(data, ImageSet):
        if val is None:
            keep, held = image_folder.holdout(data.labels, val_fraction, seed)
            data, val = (ImageSet(data.images[i], data.labels[i], data.class_names) for i in (keep, held))
        return data, val
    return image_folder.load_folder(data, image_folder.load_size(crop), val_fraction, seed, progress)


def _checkpoint(net, output, extra):
    def save(history):
        net.meta["extra"] = dict(net.meta.get("extra", {}), **extra, history=history)
        if output:
            net.save(output)
    return save


def train(data, arch="mini", output=None, *, val=None, epochs=10, batch_size=64, lr=0.01, schedule="cosine",
          momentum=0.9, weight_decay=5e-4, val_fraction=0.1, seed=0, device="cpu", progress=True):
    """Train architecture ``arch`` from He-initialized weights on an image classification set.

    data: DATA_DIR (one sub-folder per class, optional val/) or an ImageSet whose images
    are at least the network's input size (random crops of that size are taken).
    val: an ImageSet to validate on; else DATA_DIR/val/ or a held-out val_fraction.
    output: the .h5 file written after every epoch (the last epoch's weights).
    Returns Result(net, history).
    """
    specs, meta = models.architecture(arch)
    crop = int(meta["input_size"][0])
    train_set, val_set = _datasets(data, val, crop, val_fraction, seed, progress)
    meta = dict(meta, class_names=list(train_set.class_names), name=f"{meta.get('name', arch)}-trained")
    net = init_weights(Net(with_classes(specs, len(train_set.class_names)), meta=meta), seed)
    net.to(device)
    train_input, _ = _image_inputs(train_set.images, crop, meta["mean_bgr"])
    _, val_input = _image_inputs(val_set.images, crop, meta["mean_bgr"])
    history = fit(net, train_input, train_set.labels, val_input, val_set.labels, epochs=epochs,
                  batch_size=batch_size, lr=lr, schedule=schedule, momentum=momentum,
                  weight_decay=weight_decay, lr_mult=first_layer_lr_mult(net), seed=seed, progress=progress,
                  on_epoch=_checkpoint(net, output, {"trained_by": "minidream.train", "arch": arch,
                                                     "seed": seed}))
    return Result(net, history)


def _add_solver_options(parser, output):
    parser.add_argument("data_dir", metavar="DATA_DIR",
                        help="one sub-folder of images per class; optional DATA_DIR/val/ for validation")
    parser.add_argument("-o", "--output", default=output, help=f"model file to write (default {output})")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training set (default 10)")
    parser.add_argument("--batch-size", type=int, default=64, help="images per SGD step (default 64)")
    parser.add_argument("--lr", type=float, default=0.01, help="base learning rate (default 0.01)")
    parser.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="learning-rate schedule (default cosine)")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (default 0.9)")
    parser.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay (default 5e-4)")
    parser.add_argument("--val-fraction", type=float, default=0.1,
                        help="held out for validation when DATA_DIR has no val/ (default 0.1)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds initialization, shuffling, augmentation and dropout (default 0)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where to compute (default cpu)")


def _solver_kwargs(args):
    return dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, schedule=args.schedule,
                momentum=args.momentum, weight_decay=args.weight_decay, val_fraction=args.val_fraction,
                seed=args.seed, device=args.device)


def _report(result, output):
    last = result.history[-1] if result.history else {}
    val = last.get("val_accuracy")
    accuracy = "no validation images" if val is None else f"val accuracy {val:.3f}"
    print(f"wrote {output} ({accuracy}; classes: {', '.join(result.net.meta['class_names'])})")
    return 0


def _run_train(args):
    return _report(train(args.data_dir, args.arch, args.output, **_solver_kwargs(args)), args.output)


def _run_finetune(args):
    from minidream.finetuning import finetune

    result = finetune(args.model, args.data_dir, args.output, train_from=args.train_from, **_solver_kwargs(args))
    return _report(result, args.output)


def register_cli(subparsers):
    """Add the ``train`` and ``finetune`` subcommands; each sets ``func(args) -> exit code``."""
    p = subparsers.add_parser("train", help="train a network from scratch on an image folder",
                              description="Train a network from scratch on DATA_DIR/<class>/<images>.")
    p.add_argument("--arch", default="mini", choices=sorted(models.ARCHITECTURES),
                   help="architecture (default mini)")
    _add_solver_options(p, "model.h5")
    p.set_defaults(func=_run_train)
    p = subparsers.add_parser("finetune", help="retrain the top layers of a model for new classes",
                              description="Replace the classifier of a model for the classes of DATA_DIR "
                                          "and train its top layers, the others frozen.")
    p.add_argument("--model", default="alexnet", help="built-in model name or .h5 file (default alexnet)")
    p.add_argument("--train-from", metavar="LAYER",
                   help="first layer to train (default: the fully connected layers at the top)")
    _add_solver_options(p, "finetuned.h5")
    p.set_defaults(func=_run_finetune)
