"""Architectures: the layer specs (no weights) of the published nets minidream knows (builtin.py: AlexNet, GoogLeNet,
VGG16, ResNet-50, and the table of all), of the bundled mini model (mini.py) and of vgg-bn (vgg_bn.py). The converter
recognizes them, random_model and training build on them."""
