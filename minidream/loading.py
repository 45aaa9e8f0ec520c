"""minidream.load_model: a Net from a model name, a .h5 file or a .caffemodel file.

    load_model("googlenet")          BVLC GoogLeNet from the cache (downloaded and converted on first use)
    load_model("alexnet")            BVLC AlexNet, likewise
    load_model("mini")               the small model bundled with minidream (minidream/data/mini.h5)
    load_model("auto")               googlenet if its converted weights are cached, else mini
    load_model("model.h5")           a minidream model file (Net.save, weights_tools convert)
    load_model("x.caffemodel")       converted on the fly, cached by the file's SHA1

The cache is $MINIDREAM_HOME, else $XDG_CACHE_HOME/minidream, else ~/.cache/minidream.
"""
import os
import sys
from pathlib import Path

from minidream.backend import check_device
from minidream.h5format import ModelFileError
from minidream.net import Net
from weights_tools import cache, cache_health
from weights_tools.convert import convert, file_sha1
from weights_tools.fetch import MODELS, FetchError, fetch_model

MINI_PATH = Path(__file__).parent / "data" / "mini.h5"
NAMES = ("googlenet", "alexnet", "mini", "auto")


def _mini_path():
    if not MINI_PATH.exists():
        raise ModelFileError(
            f"the bundled 'mini' model is missing ({MINI_PATH}); reinstall minidream, or fetch a real "
            "model with `python -m weights_tools fetch googlenet` and use model='googlenet'"
        )
    return MINI_PATH


def _caffemodel_path(path):
    """The cached conversion of a .caffemodel (converting it first if it is not cached yet)."""
    target = cache.converted_path(file_sha1(path))
    if not target.exists():
        convert(path, target)
    return target


def _load_cached(name, device):
    """The cached model `name`; a damaged file is set aside (cache_health) and fetched again (FetchError if not)."""
    path = cache.model_path(name)
    try:
        return Net.load(path, device)
    except ModelFileError as exc:
        damaged = f"the cached {name} model is damaged ({exc})"
    aside = cache_health.set_aside(path)
    try:
        fetched = fetch_model(name)
    except FetchError as exc:
        raise FetchError(f"{damaged}; it was set aside as {aside} and fetching it again failed "
                         f"({' '.join(str(exc).split())[:200]})") from None
    print(f"minidream: note: {damaged}; set aside as {aside} and fetched again", file=sys.stderr)
    return Net.load(fetched, device)


def load_model(name_or_path, device="cpu"):
    """A Net for a model name or file (see the module doc); device "cpu" or "gpu"."""
    name = os.fspath(name_or_path)
    if name == "auto":
        if cache.model_path("googlenet").exists():
            try:
                return _load_cached("googlenet", device)
            except FetchError as exc:  # offline with a damaged cache: still dream, and say why with mini
                print(f"minidream: warning: {exc}; using the built-in 'mini' model", file=sys.stderr)
                return Net.load(_mini_path(), device)
        print("minidream: using the small built-in 'mini' model; for GoogLeNet run "
              "`python -m weights_tools fetch googlenet`", file=sys.stderr)
        return Net.load(_mini_path(), device)
    if name == "mini":
        return Net.load(_mini_path(), device)
    if name in MODELS:
        return _load_cached(name, device) if cache.model_path(name).exists() else Net.load(fetch_model(name), device)
    if name.lower().endswith(".caffemodel"):
        if not os.path.isfile(name):
            raise FileNotFoundError(f"no such .caffemodel file: {name}")
        target = _caffemodel_path(name)
        try:
            return Net.load(target, device)
        except ModelFileError:  # a damaged cached conversion: set it aside and convert again
            cache_health.set_aside(target)
            return Net.load(_caffemodel_path(name), device)
    if name.lower().endswith(".h5") or os.path.isfile(name):
        return Net.load(name, device)
    raise ValueError(
        f"unknown model {name!r}: give one of {', '.join(NAMES)}, a .h5 model file or a .caffemodel file"
    )


def resolve_model(model, device="cpu"):
    """The `model=` argument of dream/zoom/classify as a Net: a Net instance (moved to `device` in place when it
    lives elsewhere), or a model name or file through load_model."""
    device = check_device(device)
    if isinstance(model, Net):
        return model if model.device == device else model.to(device)
    if not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a name, a path or a Net, not {type(model).__name__}")
    return load_model(model, device=device)
