"""Looking inside a model: what it sees in an image (classify) and what layers it has (layer_table)."""
import numpy as np
from PIL import Image

from minidream.engine.backend import as_numpy, to_device
from minidream.engine.layer_types import type_of
from minidream.errors import NonFiniteError
from minidream.io.images import load_rgb, to_network
from minidream.models.loading import resolve_model


def classify(image, model="auto", top=5, device="cpu"):
    """The model's top classes for an image: [(class name, probability)], most likely first.

    The image (path, PIL image or uint8 array) is centre-cropped to the model's aspect
    ratio and resized to its input size. Probabilities are the final Softmax (applied
    here when the model ends in logits). Unnamed classes are called "class <index>".
    """
    if int(top) < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    net = resolve_model(model, device)
    h, w = net.meta["input_size"]
    img = Image.fromarray(_crop_to_aspect(load_rgb(image)[0], w / h)).resize((w, h), Image.BILINEAR)
    out = as_numpy(net.forward(to_device(to_network(np.asarray(img), net.meta), net.device)))
    out = out.reshape(-1).astype(np.float64)
    if not np.isfinite(out).all():
        raise NonFiniteError(f"the model's output holds {np.count_nonzero(~np.isfinite(out))} non-finite values "
                             "(NaN or infinity): its weights overflow on this image; check the model file")
    if type_of(net.spec(net.layer_names[-1])).role != "softmax":
        out = np.exp(out - out.max())
        out /= out.sum()
    names = net.meta.get("class_names") or []
    order = np.argsort(-out, kind="stable")[:int(top)]
    return [(names[i] if i < len(names) else f"class {i}", float(out[i])) for i in order]


def _crop_to_aspect(rgb, aspect):
    """The largest centred crop of rgb (H, W, 3) with width / height = aspect."""
    h, w = rgb.shape[:2]
    if w / h > aspect:
        cw = max(1, round(h * aspect))
        x0 = (w - cw) // 2
        return rgb[:, x0:x0 + cw]
    ch = max(1, round(w / aspect))
    y0 = (h - ch) // 2
    return rgb[y0:y0 + ch]


def layer_table(model="auto", input_size=None):
    """[(layer name, output shape (C, H, W) or (C,))] in graph order (a several-top layer: its tops), for an input of
    input_size (H, W) (default: the model's nominal size). Computes shapes only.

    Layers the input is too small for are left out (the error of the first one is raised
    when none fits). Fully connected layers only exist at the nominal size.
    """
    net = resolve_model(model)
    size = tuple(input_size) if input_size is not None else tuple(net.meta["input_size"])
    result, error = [], None
    # a several-top layer (Slice) is listed by its tops, the names forward(end=...) takes for it
    names = [out for name in net.layer_names for out in (net.spec(name)["tops"] if len(net.spec(name)["tops"]) > 1
                                                          else [name])]
    for name in names:
        try:
            result.append((name, tuple(net.output_shape(name, size))[1:]))
        except ValueError as exc:
            error = error or exc
    if not result and error is not None:
        raise error
    return result
