"""The engine: a Net of named layers run forward and backward (net.py), its graph and shapes (graph.py), the plan of
steps a forward runs (plans.py), NumPy or CuPy (backend.py), one op per file (ops/) and the CPU speed machinery that
plugs into the ops (speed/)."""
