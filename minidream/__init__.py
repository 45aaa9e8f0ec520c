"""minidream: DeepDream with a hand-written CNN in NumPy (and CuPy with our own CUDA kernels).

    import minidream
    minidream.dream("photo.jpg", layer="inception_4c/output").save("out.png")
"""
import os

__version__ = "0.1.0"

# OpenBLAS's worker threads spin for ~2^28 cycles after each matrix product before they sleep; during that time
# they hold a core that our elementwise layer threads (minidream.layers.parallel) need. 2^4 cycles makes them
# yield at once: a default dream runs ~10% faster. Only takes effect when minidream is imported before NumPy
# (as `python -m minidream` does), and never overrides a value the user set.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from minidream.memory import keep_freed_memory  # noqa: E402

keep_freed_memory()

from minidream import objectives  # noqa: E402
from minidream.backend import GPUUnavailableError  # noqa: E402
from minidream.classify import classify  # noqa: E402
from minidream.dream import dream  # noqa: E402
from minidream.loading import load_model  # noqa: E402
from minidream.models import architecture, random_model  # noqa: E402
from minidream.net import Net, UnknownLayerError  # noqa: E402
from minidream.zoom import zoom  # noqa: E402

# `minidream.layers` is both the subpackage of ops and, called, the layer listing (see minidream/layers/__init__.py).


def __getattr__(name):
    # Training pulls in the data-set code; load it on first use.
    if name == "train":
        from minidream.training import train

        return train
    if name == "finetune":
        from minidream.finetuning import finetune

        return finetune
    if name == "curate":
        from minidream.curation import curate

        return curate
    raise AttributeError(f"module 'minidream' has no attribute {name!r}")


__all__ = ["Net", "UnknownLayerError", "GPUUnavailableError", "architecture", "random_model", "load_model",
           "dream", "zoom", "classify", "layers", "objectives", "train", "finetune", "curate"]
