"""Turning the `model=` argument of dream/zoom/classify/layers into a Net."""
import os


def resolve_model(model, device="cpu"):
    """A Net from a Net instance, a path to a .h5 model file, or a model name.

    A Net is moved to `device` in place when it lives elsewhere. Paths (a name ending
    in .h5, or an existing file) load with Net.load; names ("googlenet", "alexnet",
    "mini", "auto") go through minidream.load_model.
    """
    from minidream.backend import check_device
    from minidream.net import Net

    device = check_device(device)
    if isinstance(model, Net):
        return model if model.device == device else model.to(device)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name, a path or a Net, not {type(model).__name__}")
    path = os.fspath(model)
    if path.lower().endswith(".h5") or os.path.isfile(path):
        return Net.load(path, device=device)
    from minidream.loading import load_model

    return load_model(path, device=device)


def model_label(model, net):
    """How to name the model in saved metadata: the path or name given, else the net's name."""
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model) if net.meta.get("name") in (None, "", os.fspath(model)) else \
            f"{os.fspath(model)} ({net.meta['name']})"
    return net.meta.get("name") or "unnamed"
