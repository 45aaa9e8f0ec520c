"""One module per op: forward(...) -> (y, cache), backward(dy, cache) -> grads, plus *_naive loop versions.

This package is also callable: `minidream.layers(model, input_size)` lists a model's layers with their output
shapes (minidream.classify.layers). Python resolves `minidream.layers` to this subpackage, so the listing lives
here as the package's __call__ rather than as a function that the subpackage would shadow.
"""
import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self, model="auto", input_size=None):
        """[(layer name, output shape)] of a model at an input size (default: the model's nominal size)."""
        from minidream.classify import layers

        return layers(model, input_size)


sys.modules[__name__].__class__ = _CallablePackage
