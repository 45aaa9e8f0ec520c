"""Reproduce the bundled "mini" model: ``python -m minidream.train_mini``.

Generates RECIPE["per_class"] pattern images per class (minidream.training.patterns, seed 0) and
a validation set (seed 1), trains the mini architecture on them with ``minidream.train``
(random 64x64 crops of 72x72 images, mirrored half the time), then measures accuracy on
a third, freshly generated held-out set (seed 2) and writes minidream/models/data/mini.h5.
The same recipe and seeds give the same weights on the same machine and NumPy build.
"""
import argparse
import time

import numpy as np

from minidream.models.loading import MINI_PATH, save_model
from minidream.training import image_folder, patterns
from minidream.training.image_folder import ImageSet
from minidream.training.loop import train

BUNDLED = str(MINI_PATH)
RECIPE = {"per_class": 600, "size": 72, "epochs": 16, "batch_size": 32, "lr": 0.02, "schedule": "cosine",
          "momentum": 0.9, "weight_decay": 5e-4, "seed": 0}
VAL_SEED, TEST_SEED = 1, 2


def held_out_accuracy(net, n=550, seed=TEST_SEED, batch_size=64):
    """Accuracy of ``net`` on n freshly generated patterns (centre 64x64 crops of 72x72)."""
    images, labels = patterns.generate(n, size=72, seed=seed)
    crop = int(net.meta["input_size"][0])
    correct = 0
    for start in range(0, n, batch_size):
        x = image_folder.to_input(image_folder.center_crops(images[start:start + batch_size], crop),
                                  net.meta["mean_bgr"])
        scores = np.asarray(net.forward(x, end="prob"))
        correct += int((scores.argmax(axis=1) == labels[start:start + batch_size]).sum())
    return correct / n


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minidream.train_mini",
                                     description="Train the built-in mini model on generated patterns.")
    parser.add_argument("-o", "--output", default=BUNDLED, help=f"model file (default {BUNDLED})")
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    parser.add_argument("--per-class", type=int, default=RECIPE["per_class"])
    args = parser.parse_args(argv)
    names = list(patterns.CLASS_NAMES)
    size = RECIPE["size"]
    started = time.time()
    train_set = ImageSet(*patterns.generate(args.per_class * len(names), size, RECIPE["seed"]), names)
    val_set = ImageSet(*patterns.generate(50 * len(names), size, VAL_SEED), names)
    options = {k: v for k, v in RECIPE.items() if k not in ("per_class", "size", "epochs")}
    net = train(train_set, "mini", args.output, val=val_set, epochs=args.epochs, **options).net
    accuracy = held_out_accuracy(net)
    net.meta["name"] = "mini"
    net.meta["extra"].update(recipe=dict(RECIPE, epochs=args.epochs, per_class=args.per_class),
                             held_out_accuracy=accuracy, train_seconds=round(time.time() - started))
    save_model(net, args.output)
    print(f"wrote {args.output}: held-out accuracy {accuracy:.3f} on 550 fresh patterns, "
          f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
