"""minidream.load_model: a Net from a model name, a .h5 file, a .caffemodel or an .onnx file.

    load_model("googlenet")          a model of the zoo (weights_tools.zoo: googlenet, alexnet, vgg16, resnet50,
                                     places365-googlenet, ... 18 in all), from the cache (downloaded, verified
                                     and converted on first use; `python -m minidream models` lists them)
    load_model("mini")               the small model bundled with minidream (minidream/models/data/mini.h5)
    load_model("auto")               googlenet if its converted weights are cached, else mini
    load_model("model.h5")           a minidream model file (save_model, weights_tools convert)
    load_model("x.caffemodel")       converted on the fly, cached by the file's SHA1
    load_model("x.onnx")             likewise (with PyTorch's external data file x.onnx.data in the hash), with
                                     torchvision's preprocessing; other conventions: `weights_tools convert` options

The cache is $MINIDREAM_HOME, else $XDG_CACHE_HOME/minidream, else ~/.cache/minidream.
"""
import os
import sys
from pathlib import Path

from minidream.engine.backend import as_numpy, check_device
from minidream.engine.net import Net
from minidream.formats import h5format
from minidream.formats.h5format import ModelFileError
from weights_tools import cache, cache_health
from weights_tools.convert import convert, file_sha1
from weights_tools.fetch import MODELS, FetchError, fetch_model
from weights_tools.onnx.convert import convert_onnx

MINI_PATH = Path(__file__).parent / "data" / "mini.h5"
NAMES = ("mini", "auto") + tuple(MODELS)


def _mini_path():
    if not MINI_PATH.exists():
        raise ModelFileError(
            f"the bundled 'mini' model is missing ({MINI_PATH}); reinstall minidream, or fetch a real "
            "model with `python -m weights_tools fetch googlenet` and use model='googlenet'"
        )
    return MINI_PATH


def _converted_path(path):
    """The cached conversion of a .caffemodel or .onnx file (converting it first if it is not cached yet)."""
    onnx = path.lower().endswith(".onnx")
    key = file_sha1(path)
    if onnx and os.path.isfile(path + ".data"):  # PyTorch's external weights: a changed file is another model
        key = f"{key}-{file_sha1(path + '.data')[:16]}"
    target = cache.converted_path(key)
    if not target.exists():
        (convert_onnx if onnx else convert)(path, target)
    return target


def _load_cached(name, device):
    """The cached model `name`; a damaged file is set aside (cache_health) and fetched again (FetchError if not)."""
    path = cache.model_path(name)
    try:
        return _loaded(path, device, name)
    except ModelFileError as exc:
        damaged = f"the cached {name} model is damaged ({exc})"
    aside = cache_health.set_aside(path)
    try:
        fetched = fetch_model(name)
    except FetchError as exc:
        raise FetchError(f"{damaged}; it was set aside as {aside} and fetching it again failed "
                         f"({' '.join(str(exc).split())[:200]})") from None
    print(f"minidream: note: {damaged}; set aside as {aside} and fetched again", file=sys.stderr)
    return _loaded(fetched, device, name)


def load_model(name_or_path, device="cpu"):
    """A Net for a model name or file (see the module doc); device "cpu" or "gpu".

    net.source says what was loaded, so it can be loaded again: "googlenet", "alexnet" or "mini" (also for
    "auto"), or the file's absolute path.
    """
    name = os.fspath(name_or_path)
    if name == "auto":
        if cache.model_path("googlenet").exists():
            try:
                return _load_cached("googlenet", device)
            except FetchError as exc:  # offline with a damaged cache: still dream, and say why with mini
                print(f"minidream: warning: {exc}; using the built-in 'mini' model", file=sys.stderr)
                return _loaded(_mini_path(), device, "mini")
        print("minidream: using the small built-in 'mini' model; for GoogLeNet run "
              "`python -m weights_tools fetch googlenet`", file=sys.stderr)
        return _loaded(_mini_path(), device, "mini")
    if name == "mini":
        return _loaded(_mini_path(), device, "mini")
    if name in MODELS:
        if cache.model_path(name).exists():
            return _load_cached(name, device)
        return _loaded(fetch_model(name), device, name)
    if name.lower().endswith((".caffemodel", ".onnx")):
        if not os.path.isfile(name):
            raise FileNotFoundError(f"no such {os.path.splitext(name)[1]} file: {name}")
        target = _converted_path(name)
        try:
            return _loaded(target, device, os.path.abspath(name))
        except ModelFileError:  # a damaged cached conversion: set it aside and convert again
            cache_health.set_aside(target)
            return _loaded(_converted_path(name), device, os.path.abspath(name))
    if name.lower().endswith(".h5") or os.path.isfile(name):
        return _loaded(name, device, os.path.abspath(name))
    raise ValueError(
        f"unknown model {name!r}: give one of {', '.join(NAMES)}, a .h5 model file, a .caffemodel or an .onnx file"
    )


def _loaded(path, device, source):
    net = load_net(path, device)
    net.source = source
    return net


def resolve_model(model, device="cpu"):
    """The `model=` argument of dream/zoom/classify as a Net: a Net instance (moved to `device` in place when it
    lives elsewhere), or a model name or file through load_model."""
    device = check_device(device)
    if isinstance(model, Net):
        return model if model.device == device else model.to(device)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name, a path or a Net, not {type(model).__name__}")
    return load_model(model, device=device)


def save_model(net, path):
    """minidream.save_model(net, "model.h5"): a Net's graph, weights and metadata in our HDF5 format (docs/format.md),
    written atomically; load_model reads it back."""
    blobs = {name: [as_numpy(a) for a in arrays] for name, arrays in net.params.items()}
    h5format.save(path, net.specs, blobs, net.meta)


def load_net(path, device="cpu"):
    """The Net a minidream .h5 file holds, its weights on `device` ("cpu" or "gpu"), with no cache or name lookup."""
    specs, blobs, meta = h5format.load(path)
    return Net(specs, blobs, meta, device=device)
