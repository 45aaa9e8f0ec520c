"""Public name of minidream.dreaming.objectives, .objective_base, .feature_objectives and .diversity:
`from minidream.objectives import L2, Channel, ClassNeuron, Guide, Neuron, Direction, Caricature, Diversity`."""
from minidream.dreaming.diversity import Diversity  # noqa: F401
from minidream.dreaming.feature_objectives import Caricature, Direction, Neuron  # noqa: F401
from minidream.dreaming.objective_base import Objective, Sum  # noqa: F401
from minidream.dreaming.objectives import L2, Channel, ClassNeuron, Guide  # noqa: F401

__all__ = ["Objective", "L2", "Channel", "Guide", "ClassNeuron", "Sum", "Neuron", "Direction", "Caricature",
           "Diversity"]
