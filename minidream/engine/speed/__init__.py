"""The CPU speed machinery: the fast engine's implementations of ops (conv.py: Winograd and shifted rows; im2col.py,
max_pool.py, avg_pool.py, relu.py, lrn.py), the threaded matrix products and slices over a worker pool (parallel.py,
blas.py, workers.py). Nothing in ops/ needs it to be correct; it makes the NumPy engine fast, and the textbook
engine never imports it (engines.py)."""
