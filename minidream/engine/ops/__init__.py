"""One module per op: forward(...) -> (y, cache), backward(dy, cache) -> grads, plus *_naive loop versions.

Each module's docstring gives the shapes, the formula, the backward formula and what the cache holds; the CPU
path and, for ops with a hand-written kernel, the GPU path sit side by side in it. minidream/engine/layer_types says
which Caffe layer type runs which op.
"""
