"""Fine-tuning: a new classifier for new classes on top of a trained model, the layers below it frozen.

The frozen body's outputs are computed once per image (and once for its mirror image, which stands in for flip
augmentation); only the head runs during the epochs, trained by minidream.training.loop.fit.

    minidream.finetune("alexnet", "DATA_DIR", output="mine.h5")
    python -m minidream finetune --model alexnet DATA_DIR -o mine.h5
"""
import numpy as np

from minidream.engine.backend import as_numpy, to_device
from minidream.engine.layer_types import type_of
from minidream.engine.net import Net
from minidream.models.loading import load_model, save_model
from minidream.training import image_folder
from minidream.training.evaluation import classifier_name
from minidream.training.loop import Result, fit, with_classes
from minidream.training.reports import write_reports

# What happens to the frozen body's BatchNorm statistics: kept as trained, or recomputed on the new images.
BN_STATS = ("frozen", "reestimate")


def head_start(specs, train_from=None):
    """Index of the first trained layer: ``train_from``, or the first of the trailing layers that may sit in a
    classifier head (LayerType.classifier_part: fully connected, ReLU, dropout, softmax; AlexNet: fc6; GoogLeNet:
    its classifier)."""
    names = [s["name"] for s in specs]
    if train_from is not None:
        if train_from not in names:
            fully_connected = [s["name"] for s in specs if type_of(s).role == "fully_connected"]
            raise ValueError(f"--train-from {train_from!r} is not a layer of this model; "
                             f"its fully connected layers are {fully_connected}")
        start = names.index(train_from)
    else:
        start = len(specs)
        while start > 0 and type_of(specs[start - 1]).classifier_part:
            start -= 1
    classifier = names.index(classifier_name(specs))
    if not 0 < start <= classifier:
        raise ValueError(f"the trained layers must start after the input and include the classifier "
                         f"{names[classifier]!r}; got {names[start] if start < len(names) else 'none'}")
    inside = {specs[start]["bottoms"][0]}
    for spec in specs[start:]:
        outside = [b for b in spec["bottoms"] if b not in inside]
        if outside:
            raise ValueError(f"layer {spec['name']!r} reads {outside} from the frozen layers; "
                             "choose a --train-from layer whose head has a single input")
        inside.update(spec["tops"])
    return start


def _features(net, end, images, crop, mean_bgr, batch_size, desc, progress):
    """Outputs of layer ``end`` for the centre crops of images, as float32 (N, C, H, W)."""
    from tqdm import tqdm

    out = []
    for start in tqdm(range(0, len(images), batch_size), desc=desc, unit="batch", disable=not progress):
        x = image_folder.to_input(image_folder.center_crops(images[start:start + batch_size], crop), mean_bgr)
        y = as_numpy(net.forward(to_device(x, net.device), end=end))
        out.append(y.reshape(y.shape + (1,) * (4 - y.ndim)))  # a Net input is always 4-D
    return np.concatenate(out)


def reestimate_batch_norm(net, end, images, crop, mean_bgr, batch_size, seed=0, progress=True):
    """Recompute the running statistics of every BatchNorm layer up to `end` on centre crops of `images`, in place.

    Caffe keeps them as sums with a moving-average factor s (minidream/engine/ops/batch_norm.py): they are zeroed, then
    forward passes in training mode accumulate every batch's mean and variance, so afterwards mean/s and var/s
    are the (moving-average weighted) statistics of these images. Dropout in the body is on during those passes,
    as it would be while training.
    """
    from tqdm import tqdm

    graph = net.graph
    layers = [graph.names[i] for i in graph.ancestors([graph.slot(end)]) if graph.types[i].role == "batch_norm"]
    for name in layers:
        for blob in net.params[name]:
            blob[...] = 0
    rng = np.random.default_rng(seed)
    for start in tqdm(range(0, len(images), batch_size), desc="BatchNorm statistics", unit="batch",
                      disable=not progress):
        x = image_folder.to_input(image_folder.center_crops(images[start:start + batch_size], crop), mean_bgr)
        net.forward(to_device(x, net.device), end=end, train=True, rng=rng)
    return layers


def finetune(model, data, output=None, *, train_from=None, bn_stats="frozen", val=None, epochs=10, batch_size=64,
             lr=0.01, schedule="cosine", optimizer="sgd", momentum=0.9, weight_decay=5e-4, val_fraction=0.1, seed=0,
             device="cpu", progress=True):
    """Replace the classifier of ``model`` for the classes of ``data`` and train the top layers.

    model: a Net, a file or a built-in name (``load_model``). The layers before
    ``head_start(specs, train_from)`` stay frozen, so their outputs are computed once per
    image (and once for its mirror image, which stands in for flip augmentation); only the
    head runs during the epochs. bn_stats: the frozen body's BatchNorm statistics stay as trained
    ("frozen"), or are recomputed on the new training images first ("reestimate", on a copy: the
    given model is left as it was). The saved file is the whole network with the new classes, with
    the reports of minidream.training.reports beside it. Returns Result(net, history, confusion) with the
    whole network.
    """
    if bn_stats not in BN_STATS:
        raise ValueError(f"bn_stats must be one of {', '.join(BN_STATS)}, got {bn_stats!r}")
    if not isinstance(model, Net):
        model = load_model(model, device=device)
    elif bn_stats == "reestimate":
        model = Net(model.specs, {k: [np.array(as_numpy(a)) for a in v] for k, v in model.params.items()},
                    model.meta, device=model.device)  # copies: re-estimating writes the statistics in place
    specs = model.specs
    start = head_start(specs, train_from)
    body_end = model.bottom_layers(specs[start]["name"])[0]
    crop = int(model.meta["input_size"][0])
    train_set, val_set = image_folder.datasets(data, val, image_folder.load_size(crop), val_fraction, seed, progress)
    mean = model.meta["mean_bgr"]
    if bn_stats == "reestimate":
        reestimate_batch_norm(model, body_end, train_set.images, crop, mean, batch_size, seed, progress)
    plain = _features(model, body_end, train_set.images, crop, mean, batch_size, "features", progress)
    mirrored = _features(model, body_end, train_set.images[:, :, ::-1], crop, mean, batch_size,
                         "features (mirrored)", progress)
    val_features = _features(model, body_end, val_set.images, crop, mean, batch_size, "features (val)", progress)

    classes = list(train_set.class_names)
    full_specs = with_classes(specs, len(classes))
    classifier = classifier_name(specs)
    # Copies: the head trains its own arrays and leaves the given model as it was.
    head_blobs = {s["name"]: [np.array(as_numpy(a)) for a in model.params[s["name"]]]
                  for s in specs[start:] if s["name"] in model.params}
    rng = np.random.default_rng(seed)
    k = model.params[classifier][0].shape[1]
    head_blobs[classifier] = [rng.normal(0, 0.01, (len(classes), k)).astype(np.float32),
                              np.zeros(len(classes), np.float32)]
    head = Net(full_specs[start:], head_blobs, device=device,
               meta={"input_blob": specs[start]["bottoms"][0], "input_size": plain.shape[2:],
                     "input_channels": plain.shape[1]})
    meta = dict(model.meta, class_names=classes, name=f"{model.meta.get('name') or 'model'}-finetuned")
    meta["extra"] = dict(meta.get("extra", {}), trained_by="minidream.finetune", bn_stats=bn_stats,
                         finetuned_from=model.meta.get("name", ""), trained_layers=[s["name"] for s in specs[start:]])

    def whole():
        blobs = {name: [np.array(as_numpy(a)) for a in arrays] for name, arrays in model.params.items()}
        blobs.update({name: [np.array(as_numpy(a)) for a in arrays] for name, arrays in head.params.items()})
        return Net(full_specs, blobs, meta, device=device)

    def on_epoch(state):
        meta["extra"]["history"] = state.history
        if output:
            save_model(whole(), output)
            write_reports(output, state.history, state.confusion, classes)

    def train_input(index, rng):
        flip = (rng.random(len(index)) < 0.5)[:, None, None, None]
        return np.where(flip, mirrored[index], plain[index])

    state = fit(head, train_input, train_set.labels, lambda index: val_features[index], val_set.labels,
                epochs=epochs, batch_size=batch_size, lr=lr, schedule=schedule, optimizer=optimizer,
                momentum=momentum, weight_decay=weight_decay, seed=seed, on_epoch=on_epoch, progress=progress)
    return Result(whole(), state.history, state.confusion)
