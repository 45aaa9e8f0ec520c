"""The error types minidream raises for bad input: one per boundary, each a ValueError (README, "Errors").

    CaffeModelError   converting a .caffemodel (raised by weights_tools convert/inspect)
    OnnxModelError    reading or converting an .onnx model (raised by weights_tools convert/inspect, load_model)
    ModelFileError    loading a minidream .h5 model file (missing, damaged, hostile, checksum mismatch)
    ImageError        reading an image (not an image, truncated, more pixels than the ceiling)
    NonFiniteError    a dream whose objective or gradient stopped being a finite number
    TooBigError       a computation that would need more memory than the machine has (dream, zoom)

A missing image or model file is a FileNotFoundError (an OSError) where the caller passed a path. Every message is
one line naming the file (and the layer or field) and the fix.
"""
__all__ = ["CaffeModelError", "ImageError", "ModelFileError", "NonFiniteError", "OnnxModelError", "TooBigError"]


class CaffeModelError(ValueError):
    """A .caffemodel that cannot be read or converted: truncated or corrupt protobuf data, blobs whose sizes disagree
    with their layer, graphs that reference missing blobs, layer types minidream does not implement. The message
    names the problem (and the layer, when there is one) and, where there is one, the fix."""


class OnnxModelError(ValueError):
    """An .onnx file that cannot be read or converted: corrupt protobuf data, sizes beyond the file or the limits,
    external data outside the model's folder or past its file's end, NaN/inf weights, an operator (named with its
    node and opset) or attribute minidream does not implement. The message names the problem and the fix."""


class ModelFileError(ValueError):
    """A model file that is missing, not HDF5, not in the minidream format, damaged, or hostile."""


class ImageError(ValueError):
    """An image file that cannot be read: not an image, truncated, or above the pixel ceiling."""


class NonFiniteError(ValueError):
    """A computation that produced NaN or infinity (a dream's objective or gradient, a classifier's output)."""


class TooBigError(ValueError):
    """Work that would need more memory than is available; the message gives the estimate and the fix.
    estimate: the estimate alone ("about 33.1 GB (...) but 24.8 GB is available"), fits: a (width, height)
    that would fit, or None, for a caller that words the fix in its own options (the microscope's --size)."""

    def __init__(self, message, estimate=None, fits=None):
        super().__init__(message)
        self.estimate, self.fits = estimate, fits
