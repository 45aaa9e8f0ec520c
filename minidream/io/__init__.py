"""Input and output: images, video, atomic file writes, Ctrl-C handling, contact sheets, and the limits checked
before anything is allocated."""
