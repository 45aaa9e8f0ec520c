"""A small protobuf wire-format *writer* that produces .caffemodel (and prototxt) files from minidream specs.

The tests and benchmarks write their synthetic Caffe files with it. It is written independently of weights_tools'
reader (its own wire primitives and field tables, nothing shared), so the round-trip tests check one against the
other. It writes the structure of real files:

- ``snapshot(specs, blobs, "V1")``: a 2014-style training snapshot (NetParameter.layers,
  V1LayerParameter with enum types): a Data layer with ``data`` and ``label`` tops and a
  transform_param, Split layers inserted and named exactly as Caffe's insert_splits.cpp
  names them, SoftmaxWithLoss + Accuracy after every classifier, blobs_lr/weight_decay,
  weight fillers, and blobs with the legacy 4-D num/channels/height/width dims;
- ``snapshot(specs, blobs, "current")``: the same with NetParameter.layer, string types,
  ParamSpec (field 6, which is *not* blobs there) and BlobShape dims;
- ``deploy(specs, blobs)``: a current-format net with declared input and no train layers.

Options cover the variants a reader must accept: unpacked floats, double_data, diffs.
"""
import numpy as np

V1_ENUM = {"Accuracy": 1, "BNLL": 2, "Concat": 3, "Convolution": 4, "Data": 5, "Dropout": 6, "Flatten": 8,
           "InnerProduct": 14, "LRN": 15, "Pooling": 17, "ReLU": 18, "Sigmoid": 19, "Softmax": 20,
           "SoftmaxWithLoss": 21, "Split": 22, "TanH": 23, "Eltwise": 25, "Power": 26, "Threshold": 31, "Slice": 33,
           "AbsVal": 35, "Exp": 38, "Deconvolution": 39}
# (V1 field, current field) of each *_param message (None: the type has no V1 form).
PARAM_FIELDS = {"Concat": (9, 104), "Convolution": (10, 106), "Deconvolution": (10, 106), "Dropout": (12, 108),
                "InnerProduct": (17, 117), "LRN": (18, 118), "Pooling": (19, 121), "ReLU": (30, 123),
                "Softmax": (39, 125), "Eltwise": (24, 110), "Power": (21, 122), "Slice": (31, 126),
                "BatchNorm": (None, 139), "Scale": (None, 142), "Bias": (None, 141), "PReLU": (None, 131),
                "ELU": (None, 140), "Reshape": (None, 133), "Flatten": (None, 135), "Crop": (None, 144)}


# ------------------------------------------------------------------ wire primitives
def varint(value):
    value &= (1 << 64) - 1  # negative int64 -> two's complement, as protobuf writes it
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(field, wire_type):
    return varint((field << 3) | wire_type)


def f_varint(field, value):
    return key(field, 0) + varint(int(value))


def f_bytes(field, payload):
    return key(field, 2) + varint(len(payload)) + payload


def f_string(field, text):
    return f_bytes(field, text.encode("utf-8"))


def f_float(field, value):
    return key(field, 5) + np.float32(value).astype("<f4").tobytes()


def f_packed_floats(field, values, dtype="<f4"):
    return f_bytes(field, np.asarray(values, dtype).tobytes())


def f_unpacked(field, values, dtype="<f4"):
    """Each value as its own field: key, value, key, value ... (built with numpy, not a loop)."""
    values = np.ascontiguousarray(np.asarray(values, dtype).reshape(-1))
    k = np.frombuffer(key(field, 5 if np.dtype(dtype).itemsize == 4 else 1), np.uint8)
    rows = np.empty((values.size, k.size + values.itemsize), np.uint8)
    rows[:, : k.size] = k
    rows[:, k.size:] = values.view(np.uint8).reshape(values.size, values.itemsize)
    return rows.tobytes()


def f_packed_varints(field, values):
    return f_bytes(field, b"".join(varint(v) for v in values))


# ------------------------------------------------------------------ Caffe messages
def blob(array, legacy=True, packed=True, double=False, diff=False):
    """BlobProto: legacy 4-D dims (left-padded with 1s) or BlobShape; data or double_data."""
    array = np.asarray(array)
    shape = list(array.shape)
    if legacy:
        dims = [1] * (4 - len(shape)) + shape
        out = b"".join(f_varint(f, d) for f, d in zip((1, 2, 3, 4), dims))
    else:
        out = f_bytes(7, f_packed_varints(1, shape))
    if double:
        data = f_packed_floats(8, array, "<f8") if packed else f_unpacked(8, array, "<f8")
    else:
        data = f_packed_floats(5, array) if packed else f_unpacked(5, array)
    out += data
    if diff:
        out += f_packed_floats(6, np.zeros(array.size)) if packed else f_unpacked(6, np.zeros(array.size))
    return out


def _pair_fields(h_field, w_field, list_field, values, default, v1):
    """Sizes as Caffe prototxts write them: one value when square, else the _h/_w fields."""
    h, w = values
    if h == w:
        return b"" if h == default else f_varint(list_field, h)
    return f_varint(h_field, h) + f_varint(w_field, w)


def param_message(kind, params, v1):
    """A layer's *_param payload, writing only non-default fields (as Caffe's prototxts do)."""
    p = params
    if kind in ("Convolution", "Deconvolution"):
        out = f_varint(1, p["num_output"])
        out += _pair_fields(9, 10, 3, p.get("pad", [0, 0]), 0, v1)
        out += _pair_fields(11, 12, 4, p["kernel_size"], None, v1)
        out += _pair_fields(13, 14, 6, p.get("stride", [1, 1]), 1, v1)
        if p.get("group", 1) != 1:
            out += f_varint(5, p["group"])
        if not p.get("bias_term", True):
            out += f_varint(2, 0)
        out += f_bytes(7, f_string(1, "xavier"))  # weight_filler: an unknown-to-the-reader sub-message
        return out
    if kind == "Pooling":
        out = f_varint(1, {"MAX": 0, "AVE": 1}[p.get("pool", "MAX")])
        out += _pair_fields(5, 6, 2, p["kernel_size"], None, v1)
        out += _pair_fields(7, 8, 3, p.get("stride", [1, 1]), 1, v1)
        out += _pair_fields(9, 10, 4, p.get("pad", [0, 0]), 0, v1)
        if p.get("global_pooling"):
            out += f_varint(12, 1)
        return out
    if kind == "LRN":
        out = f_varint(1, p.get("local_size", 5)) + f_float(2, p.get("alpha", 1.0)) + f_float(3, p.get("beta", 0.75))
        if p.get("k", 1.0) != 1.0:
            out += f_float(5, p["k"])
        return out
    if kind == "InnerProduct":
        out = f_varint(1, p["num_output"])
        if not p.get("bias_term", True):
            out += f_varint(2, 0)
        return out + f_bytes(3, f_string(1, "gaussian") + f_float(6, 0.005))
    if kind == "Dropout":
        return f_float(1, p.get("dropout_ratio", 0.5))
    if kind == "ReLU":
        return f_float(1, p["negative_slope"]) if p.get("negative_slope", 0.0) else b""
    if kind == "Concat":
        return b"" if p.get("axis", 1) == 1 else f_varint(2, p["axis"])
    if kind == "Softmax":
        return b"" if p.get("axis", 1) == 1 else f_varint(2, p["axis"])
    return _zoo_param_message(kind, p)


def _zoo_param_message(kind, p):
    """The *_param payloads of the zoo's layer types (field numbers from caffe.proto)."""
    if kind == "BatchNorm":
        return b"" if p.get("use_global_stats") is None else f_varint(1, int(p["use_global_stats"]))
    if kind in ("Scale", "Bias"):
        out = b"" if p.get("axis", 1) == 1 else f_varint(1, p["axis"] % (1 << 64))
        out += b"" if p.get("num_axes", 1) == 1 else f_varint(2, p["num_axes"] % (1 << 64))
        return out + (f_varint(4, 1) if p.get("bias_term") else b"")
    if kind == "Eltwise":
        out = f_varint(1, {"PROD": 0, "SUM": 1, "MAX": 2}[p.get("operation", "SUM")])
        return out + b"".join(f_float(2, c) for c in p.get("coeff", []))
    if kind == "PReLU":
        return f_varint(2, 1) if p.get("channel_shared") else b""
    if kind == "Power":
        return f_float(1, p.get("power", 1.0)) + f_float(2, p.get("scale", 1.0)) + f_float(3, p.get("shift", 0.0))
    if kind == "Slice":
        axis = f_varint(1, p["slice_dim"]) if "slice_dim" in p else f_varint(3, p.get("axis", 1))
        return axis + b"".join(f_varint(2, v) for v in p.get("slice_point", []))
    if kind == "Reshape":
        return f_bytes(1, b"".join(f_varint(1, d % (1 << 64)) for d in p["shape"]))
    if kind == "ELU":
        return f_float(1, p.get("alpha", 1.0))
    return b""


def layer_message(spec, weights, v1, blob_options=None):
    """One V1LayerParameter or LayerParameter, fields in the order Caffe serializes them."""
    opts = dict(blob_options or {})
    kind, name = spec["type"], spec["name"]
    bottoms, tops = spec.get("bottoms", []), spec.get("tops", [])
    if v1:
        out = b"".join(f_string(2, b) for b in bottoms) + b"".join(f_string(3, t) for t in tops)
        out += f_string(4, name) + f_varint(5, V1_ENUM[kind])
        legacy = opts.pop("legacy", True)
        out += b"".join(f_bytes(6, blob(w, legacy=legacy, **opts)) for w in weights)
        if weights:  # blobs_lr / weight_decay: repeated float, unpacked in V1
            out += f_float(7, 1.0) + f_float(7, 2.0) + f_float(8, 1.0) + f_float(8, 0.0)
    else:
        out = f_string(1, name) + f_string(2, kind)
        out += b"".join(f_string(3, b) for b in bottoms) + b"".join(f_string(4, t) for t in tops)
        for mult in ([1.0, 2.0] if weights else []):  # ParamSpec {lr_mult}: field 6 here, NOT blobs
            out += f_bytes(6, f_float(3, mult))
        legacy = opts.pop("legacy", False)
        out += b"".join(f_bytes(7, blob(w, legacy=legacy, **opts)) for w in weights)
    out += spec.get("extra", b"")
    if kind in PARAM_FIELDS:
        payload = param_message(kind, spec.get("params", {}), v1)
        if payload or kind in ("Convolution", "Deconvolution", "InnerProduct", "Pooling"):
            out += f_bytes(PARAM_FIELDS[kind][0 if v1 else 1], payload)
    return out


# ------------------------------------------------------------------ whole nets
def insert_splits(layers):
    """Caffe's InsertSplits: a Split after every top read by more than one layer.

    The split of top j of layer L (blob B) is named ``B_L_j_split`` with tops
    ``B_L_j_split_k``; the k-th reader's bottom is renamed to the k-th top.
    """
    last_writer, source, readers = {}, {}, {}
    for i, layer in enumerate(layers):
        for j, b in enumerate(layer.get("bottoms", [])):
            source[(i, j)] = last_writer[b]
            readers[last_writer[b]] = readers.get(last_writer[b], 0) + 1
        for j, t in enumerate(layer.get("tops", [])):
            last_writer[t] = (i, j)
    out, used = [], {}
    for i, layer in enumerate(layers):
        layer = dict(layer, bottoms=list(layer.get("bottoms", [])))
        for j, b in enumerate(layer["bottoms"]):
            src = source[(i, j)]
            if readers[src] > 1:
                k = used.get(src, 0)
                used[src] = k + 1
                layer["bottoms"][j] = f"{b}_{layers[src[0]]['name']}_{src[1]}_split_{k}"
        out.append(layer)
        for j, t in enumerate(layer.get("tops", [])):
            n = readers.get((i, j), 0)
            if n > 1:
                split = f"{t}_{layer['name']}_{j}_split"
                out.append({"name": split, "type": "Split", "bottoms": [t],
                            "tops": [f"{split}_{k}" for k in range(n)]})
    return out


def training_layers(specs, crop=224, mean=(104.0, 117.0, 123.0)):
    """Deploy specs -> the training net Caffe snapshots: Data first, losses after classifiers.

    A final Softmax (deploy's ``prob``) is replaced by SoftmaxWithLoss; every other
    InnerProduct whose output nobody reads (GoogLeNet's loss1/loss2 classifiers) also gets
    a SoftmaxWithLoss and an Accuracy, as in train_val.prototxt.
    """
    transform = f_varint(2, 1) + f_varint(3, crop) + b"".join(f_float(5, m) for m in mean)
    include_train = f_bytes(32, f_varint(1, 0))  # NetStateRule {phase: TRAIN}
    data = {"name": "data", "type": "Data", "bottoms": [], "tops": ["data", "label"],
            "extra": f_bytes(11, f_string(1, "train_lmdb") + f_varint(4, 32)) + f_bytes(36, transform)
            + include_train}
    if specs[-1]["type"] == "Softmax":
        specs = specs[:-1]
    read = {b for s in specs for b in s["bottoms"]}
    layers = [data]
    for spec in specs:
        layers.append(spec)
        if spec["type"] == "InnerProduct" and spec["tops"][0] not in read:
            head = spec["name"].split("/")[0] + "/" if "/" in spec["name"] else ""
            layers.append({"name": head + "loss", "type": "SoftmaxWithLoss",
                           "bottoms": [spec["tops"][0], "label"], "tops": [head + "loss_out"]})
            layers.append({"name": head + "top-1", "type": "Accuracy",
                           "bottoms": [spec["tops"][0], "label"], "tops": [head + "top-1_out"]})
    return insert_splits(layers)


def snapshot(specs, blobs, generation="V1", name="GoogleNet", crop=224, blob_options=None, **kwargs):
    """Bytes of a training-snapshot .caffemodel for deploy ``specs`` and weights ``blobs``."""
    v1 = generation == "V1"
    out = f_string(1, name)
    for layer in training_layers(specs, crop=crop, **kwargs):
        if not v1 and "extra" in layer:  # the current generation's numbering of the data layer's messages
            layer = dict(layer, extra=f_bytes(100, f_varint(3, crop)))
        message = layer_message(layer, blobs.get(layer["name"], []), v1, blob_options)
        out += f_bytes(2 if v1 else 100, message)
    return out


def deploy(specs, blobs, input_size=(224, 224), name="net", blob_options=None):
    """Bytes of a current-format deploy net: ``input: "data"`` with input_shape, no train layers."""
    out = f_string(1, name) + f_string(3, "data")
    out += f_bytes(8, f_packed_varints(1, [10, 3, *input_size]))
    for spec in specs:
        out += f_bytes(100, layer_message(spec, blobs.get(spec["name"], []), False, blob_options))
    return out


def with_aux_classifiers(specs):
    """GoogLeNet deploy specs + the loss1/* and loss2/* branches of BVLC's train_val.prototxt.

    Each branch follows inception_4a/output (loss1) or inception_4d/output (loss2):
    5x5/3 average pool, 1x1 conv to 128 + ReLU, fc 1024 + ReLU, dropout 0.7, fc 1000.
    """
    def branch(head, bottom):
        def lay(name, kind, bot, top=None, **params):
            return {"name": f"{head}/{name}", "type": kind, "bottoms": [bot], "tops": [top or f"{head}/{name}"],
                    "params": params}
        return [
            lay("ave_pool", "Pooling", bottom, pool="AVE", kernel_size=[5, 5], stride=[3, 3], pad=[0, 0],
                global_pooling=False),
            lay("conv", "Convolution", f"{head}/ave_pool", num_output=128, kernel_size=[1, 1], stride=[1, 1],
                pad=[0, 0], group=1, bias_term=True),
            lay("relu_conv", "ReLU", f"{head}/conv", f"{head}/conv", negative_slope=0.0),
            lay("fc", "InnerProduct", f"{head}/conv", num_output=1024, bias_term=True),
            lay("relu_fc", "ReLU", f"{head}/fc", f"{head}/fc", negative_slope=0.0),
            lay("drop_fc", "Dropout", f"{head}/fc", f"{head}/fc", dropout_ratio=0.7),
            lay("classifier", "InnerProduct", f"{head}/fc", num_output=1000, bias_term=True),
        ]
    out = []
    for spec in specs:
        out.append(spec)
        if spec["name"] == "inception_4a/output":
            out += branch("loss1", "inception_4a/output")
        if spec["name"] == "inception_4d/output":
            out += branch("loss2", "inception_4d/output")
    return out


# ------------------------------------------------------------------ text format (deploy.prototxt)
_PAIRS = {"kernel_size": "kernel", "stride": "stride", "pad": "pad"}


def _text_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value  # enum identifiers (MAX, SUM, ...)
    return repr(value)


def _text_params(params):
    out = []
    for key, value in params.items():
        if value is None or key == "global_pooling" and not value:
            continue
        if key in _PAIRS and isinstance(value, (list, tuple)):
            out += [f"{_PAIRS[key]}_h: {value[0]}", f"{_PAIRS[key]}_w: {value[1]}"] if key != "kernel_size" or \
                value[0] != value[1] else [f"kernel_size: {value[0]}"]
        elif key == "shape":
            out.append("shape { " + " ".join(f"dim: {d}" for d in value["dim"]) + " }")
        elif isinstance(value, (list, tuple)):
            out += [f"{key}: {_text_value(v)}" for v in value]
        else:
            out.append(f"{key}: {_text_value(value)}")
    return " ".join(out)


def prototxt(specs, input_dims, header="Input"):
    """A deploy net in text format: header "Input" (an Input layer), "input_shape" or "input_dim" (the
    deprecated NetParameter fields Places' and VGG's deploy files use)."""
    from weights_tools.schema import PARAM_FIELD

    dims = " ".join(f"dim: {d}" for d in input_dims)
    lines = ['name: "synthetic"']
    if header == "Input":
        lines.append(f'layer {{ name: "data" type: "Input" top: "data" input_param {{ shape {{ {dims} }} }} }}')
    elif header == "input_shape":
        lines.append(f'input: "data"\ninput_shape {{ {dims} }}')
    else:
        lines.append('input: "data"\n' + "\n".join(f"input_dim: {d}" for d in input_dims))
    for spec in specs:
        body = f'name: "{spec["name"]}" type: "{spec["type"]}" '
        body += " ".join(f'bottom: "{b}"' for b in spec["bottoms"]) + " "
        body += " ".join(f'top: "{t}"' for t in spec["tops"])
        params = _text_params(spec.get("params", {}))
        if params and spec["type"] in PARAM_FIELD:
            body += f" {PARAM_FIELD[spec['type']]} {{ {params} }}"
        lines.append(f"layer {{ {body} }}")
    return "\n".join(lines) + "\n"
