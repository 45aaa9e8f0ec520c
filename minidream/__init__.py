"""minidream: DeepDream with a hand-written CNN in NumPy (and CuPy with our own CUDA kernels).

    import minidream
    minidream.dream("photo.jpg", layer="inception_4c/output").save("out.png")

Importing minidream is cheap and changes nothing in the process: each public name below loads its module the
first time it is used (so `import weights_tools`, which reads minidream's graph and file format, never pulls in
the dream, and `python -m weights_tools` starts fast). minidream.tune_cpu() applies the CPU settings.
"""
import importlib

__version__ = "0.1.0"

# public name -> the module that defines it
_API = {
    "dream": "minidream.dreaming.deepdream", "zoom": "minidream.dreaming.zooming",
    "classify": "minidream.models.classification", "layer_table": "minidream.models.classification",
    "load_model": "minidream.models.loading", "save_model": "minidream.models.loading", "Net": "minidream.engine.net",
    "UnknownLayerError": "minidream.engine.graph", "GPUUnavailableError": "minidream.engine.backend",
    "architecture": "minidream.architectures.builtin", "random_model": "minidream.models.random_weights",
    "tune_cpu": "minidream.engine.tuning", "set_engine": "minidream.engine.engines",
    "train": "minidream.training.loop",
    "finetune": "minidream.training.finetuning", "video": "minidream.jobs.videos", "batch": "minidream.jobs.batches",
    "curate": "minidream.training.curation",
}
_MODULES = ("objectives",)


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"minidream.{name}")
    if name not in _API:
        raise AttributeError(f"module 'minidream' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_API) + list(_MODULES))


__all__ = list(_API) + list(_MODULES)
