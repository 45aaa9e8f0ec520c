"""Training reports written beside a checkpoint MODEL.h5, after every epoch:

    MODEL.history.csv     one row per epoch: epoch, lr, loss, train_accuracy, val_loss, val_accuracy, val_top5
    MODEL.history.png     loss (left) and accuracy (right) per epoch, train and validation
    MODEL.confusion.csv   validation confusion matrix, rows true class, columns predicted class
    MODEL.confusion.png   the same as a heat map, each row scaled by its class's count

Drawn with Pillow alone (no matplotlib).
"""
import csv
import os

import numpy as np
from PIL import Image, ImageDraw

from minidream.io.contact_sheets import default_font
from minidream.io.files import atomic_path

COLUMNS = ("epoch", "lr", "loss", "train_accuracy", "val_loss", "val_accuracy", "val_top5")
TRAIN_COLOUR, VAL_COLOUR, AXIS_COLOUR = (31, 119, 180), (255, 127, 14), (90, 90, 90)


def report_paths(output):
    """{"history_csv", "history_png", "confusion_csv", "confusion_png"}: the report files of checkpoint ``output``."""
    stem = os.path.splitext(os.fspath(output))[0]
    return {"history_csv": stem + ".history.csv", "history_png": stem + ".history.png",
            "confusion_csv": stem + ".confusion.csv", "confusion_png": stem + ".confusion.png"}


def write_history_csv(path, history):
    """history (a list of per-epoch dicts) as CSV with the COLUMNS; missing values are left empty."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows([{k: ("" if r.get(k) is None else r[k]) for k in COLUMNS} for r in history])


def write_confusion_csv(path, confusion, class_names):
    """The confusion matrix with a header row of predicted classes and a first column of true classes."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["true \\ predicted"] + list(class_names))
        writer.writerows([name] + [int(v) for v in row] for name, row in zip(class_names, confusion))


def _panel(draw, box, series, title, y_range=None):
    """Line plot of series [(label, colour, [(x, y)])] inside box (x0, y0, x1, y1), with axes and a legend."""
    font = default_font()
    x0, y0, x1, y1 = box
    points = [p for _, _, pts in series for p in pts if p[1] is not None]
    xs = [p[0] for p in points] or [1]
    lo, hi = y_range or (min([p[1] for p in points] or [0]), max([p[1] for p in points] or [1]))
    hi = hi if hi > lo else lo + 1
    x_lo, x_hi = min(xs), max(max(xs), min(xs) + 1)

    def at(x, y):
        return (x0 + (x - x_lo) / (x_hi - x_lo) * (x1 - x0), y1 - (y - lo) / (hi - lo) * (y1 - y0))

    draw.rectangle(box, outline=AXIS_COLOUR)
    draw.text((x0, y0 - 16), title, fill=AXIS_COLOUR, font=font)
    for value in (lo, hi):
        draw.text((x0 - 44, at(x_lo, value)[1] - 6), f"{value:.3g}", fill=AXIS_COLOUR, font=font)
    draw.text((x0, y1 + 4), f"epoch {x_lo:g}", fill=AXIS_COLOUR, font=font)
    draw.text((x1 - 50, y1 + 4), f"epoch {x_hi:g}", fill=AXIS_COLOUR, font=font)
    for k, (label, colour, pts) in enumerate(series):
        xy = [at(x, y) for x, y in pts if y is not None]
        if len(xy) > 1:
            draw.line(xy, fill=colour, width=2)
        for px, py in xy:
            draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=colour)
        draw.text((x1 - 90, y0 + 6 + 14 * k), label, fill=colour, font=font)


def plot_history(history, size=(760, 300)):
    """Loss and accuracy per epoch (train and validation) as a PIL image."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    w, h = size
    epochs = [r["epoch"] for r in history]

    def series(key):
        return list(zip(epochs, [r.get(key) for r in history]))

    _panel(draw, (56, 30, w // 2 - 20, h - 30),
           [("train loss", TRAIN_COLOUR, series("loss")), ("val loss", VAL_COLOUR, series("val_loss"))], "loss")
    _panel(draw, (w // 2 + 56, 30, w - 20, h - 30),
           [("train top-1", TRAIN_COLOUR, series("train_accuracy")), ("val top-1", VAL_COLOUR, series("val_accuracy")),
            ("val top-5", (44, 160, 44), series("val_top5"))], "accuracy", y_range=(0.0, 1.0))
    return image


def plot_confusion(confusion, class_names, cell=24):
    """The confusion matrix as a heat map (white = none, dark blue = the whole row), counts in the cells."""
    font = default_font()
    k = len(class_names)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = 8 + max([60] + [int(measure.textlength(n, font=font)) for n in class_names])
    image = Image.new("RGB", (label_w + k * cell + 8, label_w + k * cell + 8), "white")
    draw = ImageDraw.Draw(image)
    share = confusion / np.maximum(confusion.sum(axis=1, keepdims=True), 1)
    draw.text((4, 4), "rows: true", fill=AXIS_COLOUR, font=font)
    draw.text((4, 18), "columns:", fill=AXIS_COLOUR, font=font)
    draw.text((4, 30), "predicted", fill=AXIS_COLOUR, font=font)
    for i, name in enumerate(class_names):
        draw.text((4, label_w + i * cell + 6), name, fill=AXIS_COLOUR, font=font)
        column = Image.new("RGB", (label_w, cell), "white")
        ImageDraw.Draw(column).text((4, 6), name, fill=AXIS_COLOUR, font=font)
        image.paste(column.rotate(90, expand=True), (label_w + i * cell, 0))
        for j in range(k):
            level = share[i, j]
            fill = tuple(int(255 - level * (255 - c)) for c in (8, 48, 107))
            x, y = label_w + j * cell, label_w + i * cell
            draw.rectangle((x, y, x + cell - 1, y + cell - 1), fill=fill, outline=(220, 220, 220))
            if confusion[i, j]:
                draw.text((x + 3, y + 6), str(int(confusion[i, j])), font=font,
                          fill="white" if level > 0.5 else AXIS_COLOUR)
    return image


def write_reports(output, history, confusion=None, class_names=None):
    """Write the report files of checkpoint ``output`` (the confusion files only when confusion is given)."""
    paths = report_paths(output)
    write_history_csv(paths["history_csv"], history)
    with atomic_path(paths["history_png"]) as tmp:
        plot_history(history).save(tmp, format="PNG")
    if confusion is not None:
        write_confusion_csv(paths["confusion_csv"], confusion, class_names)
        with atomic_path(paths["confusion_png"]) as tmp:
            plot_confusion(confusion, class_names).save(tmp, format="PNG")
    return paths
