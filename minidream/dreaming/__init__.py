"""Dreaming: the octave loop and the step (deepdream.py), what to maximize (objectives.py), jitter and tiles, the
ascent update, filters, lapnorm, the Fourier parameterization, recipes, the memory estimate, zoom, atlas, plot."""
