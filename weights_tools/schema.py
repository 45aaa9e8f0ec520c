"""The parts of Caffe's caffe.proto that conversion reads, as wire.decode schemas.

Field numbers are public facts of BVLC's src/caffe/proto/caffe.proto (proto2). Two
generations of layer message exist and both appear in real files:

- current: NetParameter.layer = 100, LayerParameter with a string type, blobs = 7;
- V1 (the 2014 BVLC snapshots): NetParameter.layers = 2, V1LayerParameter with an
  enum type, blobs = 6 (6 is ``param`` in the current message, so the schema must be
  chosen by the field the layer came from).

Defaults (proto2 ``[default = ...]``) are applied by the caller, not here.
"""

BLOB_SHAPE = {1: ("dim", "ints")}

BLOB = {
    1: ("num", "int"),  # num/channels/height/width: the legacy 4-D shape
    2: ("channels", "int"),
    3: ("height", "int"),
    4: ("width", "int"),
    5: ("data", "floats"),
    6: ("diff", "skip"),  # gradients some snapshots carry; never needed
    7: ("shape", BLOB_SHAPE),
    8: ("double_data", "doubles"),
    9: ("double_diff", "skip"),
}

CONVOLUTION = {
    1: ("num_output", "int"),
    2: ("bias_term", "bool"),  # default true
    3: ("pad", "ints"),  # default 0
    4: ("kernel_size", "ints"),
    5: ("group", "int"),  # default 1
    6: ("stride", "ints"),  # default 1
    9: ("pad_h", "int"),
    10: ("pad_w", "int"),
    11: ("kernel_h", "int"),
    12: ("kernel_w", "int"),
    13: ("stride_h", "int"),
    14: ("stride_w", "int"),
    16: ("axis", "int"),  # default 1
    18: ("dilation", "ints"),  # default 1
}

POOLING = {
    1: ("pool", "int"),  # MAX=0 (default), AVE=1, STOCHASTIC=2
    2: ("kernel_size", "ints"),
    3: ("stride", "ints"),
    4: ("pad", "ints"),
    5: ("kernel_h", "int"),
    6: ("kernel_w", "int"),
    7: ("stride_h", "int"),
    8: ("stride_w", "int"),
    9: ("pad_h", "int"),
    10: ("pad_w", "int"),
    12: ("global_pooling", "bool"),
}

LRN = {
    1: ("local_size", "int"),  # default 5
    2: ("alpha", "float"),  # default 1
    3: ("beta", "float"),  # default 0.75
    4: ("norm_region", "int"),  # ACROSS_CHANNELS=0 (default), WITHIN_CHANNEL=1
    5: ("k", "float"),  # default 1
}

INNER_PRODUCT = {
    1: ("num_output", "int"),
    2: ("bias_term", "bool"),  # default true
    5: ("axis", "int"),  # default 1
    6: ("transpose", "bool"),  # default false
}

RELU = {1: ("negative_slope", "float")}  # default 0
DROPOUT = {1: ("dropout_ratio", "float")}  # default 0.5
CONCAT = {1: ("concat_dim", "int"), 2: ("axis", "int")}  # axis wins; default 1
SOFTMAX = {2: ("axis", "int")}  # default 1

TRANSFORM = {
    1: ("scale", "float"),
    3: ("crop_size", "int"),
    4: ("mean_file", "string"),
    5: ("mean_value", "floats"),
}
DATA = {2: ("scale", "float"), 3: ("mean_file", "string"), 5: ("crop_size", "int")}
INPUT = {1: ("shape", [BLOB_SHAPE])}

V1_LAYER = {
    1: ("v0_layer", {}),  # a V0 layer nested in V1: pre-2014 files
    2: ("bottom", "strings"),
    3: ("top", "strings"),
    4: ("name", "string"),
    5: ("type", "int"),
    6: ("blobs", [BLOB]),
    9: ("concat_param", CONCAT),
    10: ("convolution_param", CONVOLUTION),
    11: ("data_param", DATA),
    12: ("dropout_param", DROPOUT),
    17: ("inner_product_param", INNER_PRODUCT),
    18: ("lrn_param", LRN),
    19: ("pooling_param", POOLING),
    30: ("relu_param", RELU),
    36: ("transform_param", TRANSFORM),
    39: ("softmax_param", SOFTMAX),
}

LAYER = {
    1: ("name", "string"),
    2: ("type", "string"),
    3: ("bottom", "strings"),
    4: ("top", "strings"),
    7: ("blobs", [BLOB]),
    100: ("transform_param", TRANSFORM),
    104: ("concat_param", CONCAT),
    106: ("convolution_param", CONVOLUTION),
    107: ("data_param", DATA),
    108: ("dropout_param", DROPOUT),
    117: ("inner_product_param", INNER_PRODUCT),
    118: ("lrn_param", LRN),
    121: ("pooling_param", POOLING),
    123: ("relu_param", RELU),
    125: ("softmax_param", SOFTMAX),
    143: ("input_param", INPUT),
}

NET = {
    1: ("name", "string"),
    2: ("layers", [V1_LAYER]),
    3: ("input", "strings"),
    4: ("input_dim", "ints"),
    8: ("input_shape", [BLOB_SHAPE]),
    100: ("layer", [LAYER]),
}

# V1LayerParameter.LayerType -> the current string type of the same layer.
V1_TYPES = {
    1: "Accuracy", 2: "BNLL", 3: "Concat", 4: "Convolution", 5: "Data", 6: "Dropout",
    7: "EuclideanLoss", 8: "Flatten", 9: "HDF5Data", 10: "HDF5Output", 11: "Im2col",
    12: "ImageData", 13: "InfogainLoss", 14: "InnerProduct", 15: "LRN", 16: "MultinomialLogisticLoss",
    17: "Pooling", 18: "ReLU", 19: "Sigmoid", 20: "Softmax", 21: "SoftmaxWithLoss", 22: "Split",
    23: "TanH", 24: "WindowData", 25: "Eltwise", 26: "Power", 27: "SigmoidCrossEntropyLoss",
    28: "HingeLoss", 29: "MemoryData", 30: "ArgMax", 31: "Threshold", 32: "DummyData", 33: "Slice",
    34: "MVN", 35: "AbsVal", 36: "Silence", 37: "ContrastiveLoss", 38: "Exp", 39: "Deconvolution",
}

# Which *_param message each supported type reads.
PARAM_FIELD = {
    "Convolution": "convolution_param",
    "Pooling": "pooling_param",
    "LRN": "lrn_param",
    "InnerProduct": "inner_product_param",
    "ReLU": "relu_param",
    "Dropout": "dropout_param",
    "Concat": "concat_param",
    "Softmax": "softmax_param",
}
