"""Where downloaded and converted models live.

    $MINIDREAM_HOME, else $XDG_CACHE_HOME/minidream, else ~/.cache/minidream
        models/<name>.h5            fetched models (the names of weights_tools.zoo)
        converted/<sha1>.h5         .caffemodel and .onnx files converted by load_model, by content
        downloads/<file>.caffemodel downloads (a .part file while incomplete)
        downloads/<name>-<file>     a model's deploy prototxt, mean file and class list
"""
import os
from pathlib import Path


def home():
    """The cache folder (not created here)."""
    if os.environ.get("MINIDREAM_HOME"):
        return Path(os.environ["MINIDREAM_HOME"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "minidream"
    return Path.home() / ".cache" / "minidream"


def model_path(name):
    return home() / "models" / f"{name}.h5"


def converted_path(sha1):
    return home() / "converted" / f"{sha1}.h5"


def download_path(filename):
    return home() / "downloads" / filename


def side_file_path(name, filename):
    """Where model ``name``'s deploy prototxt / mean file / class list ``filename`` is kept
    (prefixed, since several models publish a "deploy.prototxt")."""
    return download_path(f"{name}-{filename}")


def entries():
    """[(kind, path)] of everything cached: kind is "model", "converted" or "download"."""
    out = []
    for kind, folder, pattern in (("model", "models", "*.h5"), ("converted", "converted", "*.h5"),
                                  ("download", "downloads", "*")):
        out += [(kind, p) for p in sorted((home() / folder).glob(pattern)) if p.is_file()
                and not p.name.startswith(".tmp-")]
    return out
