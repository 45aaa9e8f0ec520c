"""File formats: minidream's own HDF5 model file (h5format.py, read without trusting it by h5checks.py).
weights_tools reads Caffe's .caffemodel and prototxt files into the engine's layer specs (minidream/engine/layer_types
holds Caffe's rules for each layer type)."""
