"""The CPU speed machinery: Winograd and shifted-row convolutions, threaded matrix products over a worker pool, and
the process settings of tune_cpu. Nothing in ops/ needs it to be correct; it makes the NumPy engine fast."""
