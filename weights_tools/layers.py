"""Caffe layer messages -> minidream spec params and weight arrays.

Each supported type's proto2 message becomes the normalized params of the contract
(pairs for 2-D sizes, proto2 defaults filled in), and its blobs become float32 arrays
in the contract's shapes:

    Convolution  W (F, C/group, KH, KW), b (F,)
    InnerProduct W (N, K),               b (N,)

Old snapshots store every blob with the legacy 4-D dims num/channels/height/width,
so InnerProduct weights arrive as (1, 1, N, K) and biases as (1, 1, 1, N); newer
files use BlobShape dims (N, K) and (N,). Both are checked against the layer's
params before reshaping, so a corrupt size is an error rather than a wrong net.
"""
import numpy as np

from weights_tools.errors import CaffeModelError

SUPPORTED = ("Convolution", "Pooling", "LRN", "InnerProduct", "ReLU", "Dropout", "Concat", "Softmax")
POOL_METHODS = {0: "MAX", 1: "AVE"}  # 2 = STOCHASTIC, not implemented
NORM_REGIONS = {0: "ACROSS_CHANNELS"}  # 1 = WITHIN_CHANNEL, not implemented


def _f32(value):
    """A float read as float32, as the shortest decimal that round-trips (1e-4, not 9.99e-05)."""
    return float(str(np.float32(value)))


def _pair(p, key, name, default, list_key=None):
    """Caffe's 2-D size rule: key_h/key_w if given, else the list (one value for both, or h, w)."""
    list_key = list_key or key
    h, w = p.get(key + "_h"), p.get(key + "_w")
    if h is not None or w is not None:
        if key == "pad":  # pad_h/pad_w default to 0 each in caffe.proto
            h, w = h or 0, w or 0
        elif h is None or w is None:
            raise CaffeModelError(f"layer {name!r}: {key}_h and {key}_w must be given together")
        values = [h, w]
    else:
        values = p.get(list_key, [])
    if not values:
        if default is None:
            raise CaffeModelError(f"layer {name!r}: no {key} given")
        return [default, default]
    if len(values) > 2:
        raise CaffeModelError(f"layer {name!r}: {len(values)}-D {key} {values}; only 2-D is supported")
    pair = [values[0], values[-1]]
    if any(v < 0 for v in pair) or (key != "pad" and any(v == 0 for v in pair)):
        raise CaffeModelError(f"layer {name!r}: invalid {key} {values}")
    return pair


def _unsupported(name, kind, what):
    return CaffeModelError(f"layer {name!r} ({kind}): {what} is not supported by minidream")


def normalize_params(kind, p, name):
    """Decoded *_param dict (possibly empty) -> the contract's params for that type."""
    if kind == "Convolution":
        if p.get("axis", 1) != 1:
            raise _unsupported(name, kind, f"axis {p['axis']}")
        if any(d != 1 for d in p.get("dilation", [])):
            raise _unsupported(name, kind, f"dilation {p['dilation']}")
        num_output, group = p.get("num_output", 0), p.get("group", 1)
        if num_output <= 0 or group <= 0 or num_output % group:
            raise CaffeModelError(f"layer {name!r}: invalid num_output {num_output} / group {group}")
        return {"num_output": num_output, "kernel_size": _pair(p, "kernel", name, None, "kernel_size"),
                "stride": _pair(p, "stride", name, 1), "pad": _pair(p, "pad", name, 0),
                "group": group, "bias_term": p.get("bias_term", True)}
    if kind == "Pooling":
        pool = p.get("pool", 0)
        if pool not in POOL_METHODS:
            raise _unsupported(name, kind, f"pool method {pool} (STOCHASTIC)" if pool == 2 else f"pool method {pool}")
        global_pooling = p.get("global_pooling", False)
        # Global pooling takes its window from the input; Caffe ignores any kernel given.
        kernel = [0, 0] if global_pooling else _pair(p, "kernel", name, None, "kernel_size")
        return {"pool": POOL_METHODS[pool], "kernel_size": kernel, "stride": _pair(p, "stride", name, 1),
                "pad": _pair(p, "pad", name, 0), "global_pooling": global_pooling}
    if kind == "LRN":
        region, size = p.get("norm_region", 0), p.get("local_size", 5)
        if region not in NORM_REGIONS:
            raise _unsupported(name, kind, "norm_region WITHIN_CHANNEL")
        if size <= 0 or size % 2 == 0:
            raise CaffeModelError(f"layer {name!r}: LRN local_size must be odd and positive, got {size}")
        return {"local_size": size, "alpha": _f32(p.get("alpha", 1.0)), "beta": _f32(p.get("beta", 0.75)),
                "k": _f32(p.get("k", 1.0)), "norm_region": NORM_REGIONS[region]}
    if kind == "InnerProduct":
        if p.get("axis", 1) != 1:
            raise _unsupported(name, kind, f"axis {p['axis']}")
        if p.get("num_output", 0) <= 0:
            raise CaffeModelError(f"layer {name!r}: invalid num_output {p.get('num_output', 0)}")
        return {"num_output": p["num_output"], "bias_term": p.get("bias_term", True)}
    if kind == "ReLU":
        return {"negative_slope": _f32(p.get("negative_slope", 0.0))}
    if kind == "Dropout":
        ratio = _f32(p.get("dropout_ratio", 0.5))
        if not 0.0 <= ratio < 1.0:
            raise CaffeModelError(f"layer {name!r}: dropout_ratio {ratio} outside [0, 1)")
        return {"dropout_ratio": ratio}
    if kind == "Concat":
        return {"axis": p["axis"] if "axis" in p else p.get("concat_dim", 1)}
    if kind == "Softmax":
        return {"axis": p.get("axis", 1)}
    raise ValueError(f"normalize_params: {kind} is not a supported type")


def _values(blob, name, index):
    """A blob's values as float32 (double_data converted) and its declared dims or None."""
    data = blob.get("data")
    if (data is None or not len(data)) and blob.get("double_data") is not None:
        data = blob["double_data"].astype(np.float32)
    if data is None:
        data = np.zeros(0, np.float32)
    if "shape" in blob:
        dims = blob["shape"].get("dim", [])
    elif any(k in blob for k in ("num", "channels", "height", "width")):
        dims = [blob.get(k, 0) for k in ("num", "channels", "height", "width")]
    else:
        dims = None
    if dims is not None:
        if any(d < 0 for d in dims):
            raise CaffeModelError(f"layer {name!r}: blob {index} has negative dims {dims}")
        if int(np.prod(dims, dtype=object)) != len(data):
            raise CaffeModelError(
                f"layer {name!r}: blob {index} declares shape {dims} but holds {len(data)} values"
            )
    return data, dims


def _check_dims(dims, want, name, index):
    """dims must be ``want`` left-padded with 1s (legacy 4-D) for the blob to be used."""
    if dims is None:
        return
    lead, tail = dims[: max(len(dims) - len(want), 0)], dims[-len(want):]
    if list(tail) != list(want) or any(d != 1 for d in lead):
        raise CaffeModelError(f"layer {name!r}: blob {index} has shape {dims}, expected {want}")


def shape_blobs(kind, params, blobs, name, transpose=False):
    """Decoded BlobProto dicts -> [W, b] (or [W]) float32 arrays in contract shapes.

    transpose: InnerProductParameter.transpose, where W is stored (K, N).
    """
    if kind not in ("Convolution", "InnerProduct"):
        if blobs:
            raise CaffeModelError(f"layer {name!r} ({kind}) carries {len(blobs)} weight blobs; expected none")
        return []
    want = 2 if params["bias_term"] else 1
    if len(blobs) != want:
        raise CaffeModelError(
            f"layer {name!r} ({kind}) has {len(blobs)} weight blobs, expected {want} "
            f"(bias_term={params['bias_term']}); the file holds no or damaged weights for it"
        )
    n = params["num_output"]
    data, dims = _values(blobs[0], name, 0)
    if kind == "Convolution":
        kh, kw = params["kernel_size"]
        per_filter = n * kh * kw
        if not len(data) or len(data) % per_filter:
            raise CaffeModelError(f"layer {name!r}: {len(data)} weights do not fit {n} filters of {kh}x{kw}")
        shape = (n, len(data) // per_filter, kh, kw)
        _check_dims(dims, shape, name, 0)
    else:
        if not len(data) or len(data) % n:
            raise CaffeModelError(f"layer {name!r}: {len(data)} weights do not fit {n} outputs")
        shape = (n, len(data) // n)
        if transpose:
            _check_dims(dims, shape[::-1], name, 0)
            data = np.ascontiguousarray(data.reshape(shape[::-1]).T)
        else:
            _check_dims(dims, shape, name, 0)
    out = [data.reshape(shape)]
    if want == 2:
        bias, dims = _values(blobs[1], name, 1)
        if len(bias) != n:
            raise CaffeModelError(f"layer {name!r}: bias holds {len(bias)} values, expected {n}")
        _check_dims(dims, (n,), name, 1)
        out.append(bias.reshape(n))
    return out
