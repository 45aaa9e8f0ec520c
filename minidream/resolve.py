"""Turning the `model=` argument of dream/zoom/classify/layers into a Net."""
import os


def resolve_model(model, device="cpu"):
    """A Net from a Net instance, or a model name or file through minidream.load_model.

    Names: "googlenet", "alexnet", "mini", "auto"; files: .h5 (Net.save, weights_tools
    convert) or .caffemodel. A Net is moved to `device` in place when it lives elsewhere.
    """
    from minidream.backend import check_device
    from minidream.net import Net

    device = check_device(device)
    if isinstance(model, Net):
        return model if model.device == device else model.to(device)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name, a path or a Net, not {type(model).__name__}")
    from minidream.loading import load_model

    return load_model(model, device=device)
