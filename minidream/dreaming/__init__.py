"""Dreaming: the octave loop and the step (deepdream.py), its settings (settings.py: each option's default, check
and help), what to maximize (objectives.py), jitter and tiles, the ascent update, filters, lapnorm, the Fourier
parameterization, recipes, the memory estimate, zoom, atlas, plot."""
