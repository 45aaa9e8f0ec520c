"""File formats: Caffe's layer types and their rules (caffe/), and minidream's own HDF5 model file (h5format.py,
read without trusting it by h5checks.py). weights_tools reads the .caffemodel and prototxt files themselves."""
