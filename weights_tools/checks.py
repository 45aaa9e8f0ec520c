"""What a converted .caffemodel must satisfy before it is written (minidream/io/limits.py has the bounds).

check_declared runs before the weights are fitted (a declared 100000x100000 input is refused from its header);
check_converted after: names, the input, every blob's size at the nominal input, and finite weights, mean,
scale and float parameters. Both raise CaffeModelError naming the layer or field.
"""
import math

from minidream.errors import CaffeModelError
from minidream.io import limits


def check_declared(graph, info):
    """The declared input size and channel count, the net's name, and every layer and blob name."""
    if info["input_size"] is not None:
        problem = limits.input_problem(info["input_size"], graph.input_channels)
        if problem:
            raise CaffeModelError(f"{problem}; this is not a real model's input (fix the input_shape / crop_size)")
    for i, spec in enumerate(graph.specs):
        problem, about_a_name = limits.spec_problem(spec)
        if problem:
            raise CaffeModelError(f"layer #{i}: {problem}" if about_a_name
                                  else f"layer {spec['name']!r}: {problem}; the file is damaged")
    problem = limits.name_problem(info["input_blob"])
    if problem:
        raise CaffeModelError(f"the input blob's {problem}")
    problem = info["name"] and limits.name_problem(info["name"])  # kept in the .h5 as caffe_net_name
    if problem:
        raise CaffeModelError(f"the net's {problem}; the file is damaged")


def check_converted(graph, blobs, meta):
    """Sizes at the nominal input, finite weights, mean and scale."""
    problem = limits.input_problem(meta["input_size"], graph.input_channels) or \
        limits.shape_problem(graph, meta["input_size"])
    if problem:
        raise CaffeModelError(problem)
    mean, scale = meta["mean_bgr"], meta["extra"].get("input_scale", 1.0)
    if len(mean) != graph.input_channels or not all(math.isfinite(m) and abs(m) <= limits.MAX_ABS_VALUE
                                                    for m in mean):
        raise CaffeModelError(f"the mean {mean} is not {graph.input_channels} finite numbers, one per input channel "
                              "(transform_param.mean_value, or --mean)")
    if not (math.isfinite(scale) and scale != 0.0):
        raise CaffeModelError(f"the data layer's scale {scale} is not a finite non-zero number (transform_param.scale)")
    found = limits.weights_problem(graph.specs, blobs)
    if found:
        raise CaffeModelError(f"layer {found[0]!r}: {found[1]}; the file is damaged (or the net diverged while "
                              "training): use another copy of it")
