"""minidream: DeepDream with a hand-written CNN in NumPy (and CuPy with our own CUDA kernels).

    import minidream
    minidream.dream("photo.jpg", layer="inception_4c/output").save("out.png")
"""
import importlib

__version__ = "0.1.0"

from minidream.backend import GPUUnavailableError  # noqa: E402
from minidream.models import architecture, random_model  # noqa: E402
from minidream.net import Net, UnknownLayerError  # noqa: E402

# The rest loads on first use, so `import minidream` stays light (no PIL/h5py/tqdm work up front).
_LAZY = {
    "load_model": "minidream.loading",
    "dream": "minidream.dream",
    "zoom": "minidream.zoom",
    "classify": "minidream.classify",
    "layers": "minidream.classify",
    "objectives": None,
    "train": "minidream.training",
    "finetune": "minidream.training",
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'minidream' has no attribute {name!r}")
    if _LAZY[name] is None:
        return importlib.import_module(f"minidream.{name}")
    return getattr(importlib.import_module(_LAZY[name]), name)


__all__ = ["Net", "UnknownLayerError", "GPUUnavailableError", "architecture", "random_model", *_LAZY]
