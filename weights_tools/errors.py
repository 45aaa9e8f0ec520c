"""The one error type weights_tools raises for bad input files."""


class CaffeModelError(ValueError):
    """A .caffemodel that cannot be read or converted.

    Raised for truncated or corrupt protobuf data, blobs whose sizes disagree with
    their layer, graphs that reference missing blobs, and layer types minidream does
    not implement. The message names the problem (and the layer, when there is one)
    and, where there is one, the fix.
    """
