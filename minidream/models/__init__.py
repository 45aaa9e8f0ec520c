"""Models: nets with weights. He-initialized random models of the built-in architectures (random_weights.py),
loading a model by name or file and saving one (loading.py: the zoo, the cache, the bundled mini model), what its
metadata says (metadata.py), and what it sees (classification.py: classify, layer_table)."""
