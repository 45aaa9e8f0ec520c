"""What a model's metadata (net.meta) says about using it: its default dream layer and its class names."""
import difflib

import numpy as np

DEFAULT_LAYER = "inception_4c/output"  # the original DeepDream notebook's GoogLeNet layer


def default_layer(meta):
    """The layer a dream uses when none is named: meta["extra"]["default_layer"] (the bundled mini model's is
    "conv5"), else "inception_4c/output"."""
    return (meta.get("extra") or {}).get("default_layer") or DEFAULT_LAYER


def fixed_input_size(meta):
    """(H, W) of the one input size a model runs at (extra.fixed_input_size, found by the converter: a ViT's
    position table, an export whose Reshapes hold constant sizes), else None: it runs at any size."""
    return tuple(meta["input_size"]) if (meta.get("extra") or {}).get("fixed_input_size") else None


def class_index(meta, cls, count):
    """A class index from an int or a name in meta["class_names"], checked against count.

    Names match any synonym, case-insensitive: "goldfish" matches "goldfish, Carassius auratus".
    """
    if isinstance(cls, (int, np.integer)) or (isinstance(cls, str) and cls.strip().isdigit()):
        index = int(cls)
        if not 0 <= index < count:
            raise ValueError(f"class index {index} is out of range: the model has {count} classes (0..{count - 1})")
        return index
    names = meta.get("class_names") or []
    if not names:
        raise ValueError(f"model {meta.get('name') or '(unnamed)'} has no class names; "
                         f"pass a class index 0..{count - 1}")
    wanted = str(cls).strip().lower()
    matches = [i for i, n in enumerate(names)
               if wanted == n.lower() or wanted in (s.strip() for s in n.lower().split(","))]
    if matches:
        return matches[0]
    close = difflib.get_close_matches(str(cls), names, n=5, cutoff=0.5)
    hint = f" Did you mean: {'; '.join(close)}?" if close else ""
    raise ValueError(f"unknown class {cls!r}.{hint} List the classes with `python -m minidream classes MODEL` "
                     "(from Python: net.meta['class_names']).")
