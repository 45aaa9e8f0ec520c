"""Public name of minidream.dreaming.plot: `minidream.plot.plot_history(history)`."""
from minidream.dreaming.plot import plot_history  # noqa: F401

__all__ = ["plot_history"]
