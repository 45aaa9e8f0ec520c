"""The fast engine's convolution (the op and its textbook path: ops/conv.py): stride-1 convolutions by a method that
does fewer multiply-adds or copies than im2col + GEMM, the rest through im2col with the threaded copies and products
(speed/im2col.py).

    winograd      3x3 filters: Winograd's F(2x2, 3x3), 2.25x fewer multiply-adds (speed/winograd.py)
    shifted_rows  other stride-1 filters: KH products over KW shifted copies of the input, not KH*KW (shifted_rows.py)

conv.forward asks `method` and records the answer in its cache; conv.backward takes the same method's backward_dx.
"""
from minidream.engine.speed import shifted_rows, winograd

METHODS = {"winograd": winograd, "shifted_rows": shifted_rows}


def method(w_shape, stride, pad, groups, out_size, dtype):
    """The name of the method (in METHODS) that runs this convolution, None for im2col + GEMM."""
    if winograd.applies(w_shape, stride, pad, groups, out_size):
        return "winograd"
    if shifted_rows.applies(w_shape, stride, dtype, out_size):
        return "shifted_rows"
    return None
