"""The engine: a Net of named layers run forward and backward (net.py), its graph and shapes (graph.py), the plan of
steps a forward runs (plans.py), NumPy or CuPy (backend.py), the table of layer types with Caffe's rules for each
(layer_types/), one op per file (ops/), the CPU speed machinery that plugs into the ops (speed/) under the fast
engine (engines.py: fast or textbook), and the process settings of tune_cpu (tuning.py)."""
