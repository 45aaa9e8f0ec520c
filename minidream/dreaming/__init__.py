"""Dreaming: dream() (deepdream.py), the pixel parameterization's octave loop and step (octaves.py), the Fourier
parameterization (fourier.py), its settings (settings.py: each option's default, check and help), what to maximize
(objective_base.py: what an objective is, sums and tiles; objectives.py, feature_objectives.py, diversity.py) and the
units it counts (image_region.py), batches (batch.py), jitter and tiles, the ascent update, filters, lapnorm, recipes,
the memory estimate, zoom, atlas, plot."""
