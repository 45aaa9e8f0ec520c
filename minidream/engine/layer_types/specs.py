"""Builders for layer specs — the dicts that Net, the HDF5 format and weights_tools share:

    {"name", "type", "bottoms": [...], "tops": [...], "params": {...}}

Params use Caffe's field names with sizes as [h, w] pairs; Net fills in Caffe's defaults for anything left out.
"""


def layer(name, kind, bottom, top=None, **params):
    bottoms = bottom if isinstance(bottom, list) else [bottom]
    return {"name": name, "type": kind, "bottoms": bottoms, "tops": [top or name], "params": params}


def conv(name, bottom, num_output, kernel, stride=1, pad=0, group=1, top=None):
    return layer(name, "Convolution", bottom, top, num_output=num_output, kernel_size=[kernel, kernel],
                 stride=[stride, stride], pad=[pad, pad], group=group, bias_term=True)


def pool(name, bottom, kind, kernel, stride, pad=0):
    return layer(name, "Pooling", bottom, pool=kind, kernel_size=[kernel, kernel], stride=[stride, stride],
                 pad=[pad, pad], global_pooling=False)


def relu(name, blob):
    """An in-place ReLU: its top is its bottom, as in BVLC's nets."""
    return layer(name, "ReLU", blob, blob, negative_slope=0.0)


def lrn(name, bottom, local_size=5, alpha=1e-4, beta=0.75, k=1.0):
    return layer(name, "LRN", bottom, local_size=local_size, alpha=alpha, beta=beta, k=k,
                 norm_region="ACROSS_CHANNELS")


def fc(name, bottom, num_output):
    return layer(name, "InnerProduct", bottom, num_output=num_output, bias_term=True)


def dropout(name, blob, ratio):
    """An in-place Dropout."""
    return layer(name, "Dropout", blob, blob, dropout_ratio=ratio)
