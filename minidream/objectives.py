"""Public name of minidream.dreaming.objectives: `from minidream.objectives import L2, Channel, ClassNeuron, Guide`."""
from minidream.dreaming.objectives import L2, Channel, ClassNeuron, Guide, Objective, Sum  # noqa: F401

__all__ = ["Objective", "L2", "Channel", "Guide", "ClassNeuron", "Sum"]
