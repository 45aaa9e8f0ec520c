"""Caffe's axis convention, shared by the layers that take an axis parameter (Bias, Scale, Flatten, Slice, Crop)."""


def canonical_axis(axis, ndim):
    """Caffe's Blob::CanonicalAxisIndex: axis in [-ndim, ndim), a negative one counts from the end."""
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for a {ndim}-D input (use -{ndim} .. {ndim - 1})")
    return axis % ndim
