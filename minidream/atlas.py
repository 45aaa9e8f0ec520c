"""Public name of minidream.dreaming.atlas: `minidream.atlas.atlas(image, net, layers)`, `compare(image, models)`."""
from minidream.dreaming.atlas import atlas, compare, stage_layers  # noqa: F401

__all__ = ["atlas", "compare", "stage_layers"]
