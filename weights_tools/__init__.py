"""weights_tools: read Caffe .caffemodel and ONNX .onnx files without Caffe, ONNX or protobuf; convert, fetch,
inspect.

    python -m weights_tools convert bvlc_googlenet.caffemodel googlenet.h5
    python -m weights_tools convert resnet50.onnx resnet50.h5
    python -m weights_tools fetch googlenet
    python -m weights_tools inspect googlenet.h5
    python -m weights_tools list

    from weights_tools import read_caffemodel
        convert("bvlc_googlenet.caffemodel", "googlenet.h5")
    specs, blobs, info = read_caffemodel("bvlc_googlenet.caffemodel")

Every problem with an input file raises one error type per format, CaffeModelError or OnnxModelError
(minidream.errors, ValueErrors; weights_tools.onnx reads ONNX files); downloads fail with
weights_tools.fetch.FetchError.
"""
from minidream.errors import CaffeModelError

__all__ = ["CaffeModelError", "read_caffemodel"]


def __getattr__(name):
    # Loaded on first use: `python -m weights_tools` imports this package before its __main__ can catch Ctrl-C.
    if name == "read_caffemodel":
        from weights_tools.caffemodel import read_caffemodel

        return read_caffemodel
    raise AttributeError(f"module 'weights_tools' has no attribute {name!r}")
