"""One module per op: forward(...) -> (y, cache), backward(dy, cache) -> grads, plus *_naive loop versions."""
