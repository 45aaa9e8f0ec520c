"""Models: the built-in architectures, He-initialized random models, the bundled mini model and vgg-bn, loading a
model by name or file (the zoo), what its metadata says, and classify / layer_table."""
