"""The parts of Caffe's caffe.proto that weights_tools reads, as wire.decode schemas.

Field numbers are public facts of BVLC's src/caffe/proto/caffe.proto (proto2). Two
generations of layer message exist and both appear in real files:

- current: NetParameter.layer = 100, LayerParameter with a string type, blobs = 7;
- V1 (the 2014 BVLC snapshots): NetParameter.layers = 2, V1LayerParameter with an
  enum type, blobs = 6 (6 is ``param`` in the current message, so the schema must be
  chosen by the field the layer came from). V1 has no message for the layer types
  added after 2015 (BatchNorm, Scale, PReLU, Reshape, ...).

The same tables serve the binary reader (wire.decode) and the text reader
(weights_tools.prototxt), so both give identical dicts. Enum fields are decoded as
their numbers; ENUMS maps the names a prototxt writes to those numbers.

Defaults (proto2 ``[default = ...]``) are applied by the caller, not here; the
comments give them.
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

# NetStateRule: a layer's include/exclude condition. Phase TRAIN=0, TEST=1.
NET_STATE_RULE = {
    1: ("phase", "int"),
    2: ("min_level", "int"),
    3: ("max_level", "int"),
    4: ("stage", "strings"),
    5: ("not_stage", "strings"),
}

# NetState: the phase/level/stages a net is built for (phase default TEST).
NET_STATE = {1: ("phase", "int"), 2: ("level", "int"), 3: ("stage", "strings")}

# ParamSpec: per-blob training settings (sharing name, learning-rate multipliers).
PARAM_SPEC = {
    1: ("name", "string"),
    2: ("share_mode", "int"),  # STRICT=0, PERMISSIVE=1
    3: ("lr_mult", "float"),  # default 1
    4: ("decay_mult", "float"),  # default 1
}

CONVOLUTION = {  # also Deconvolution's message
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
    15: ("engine", "int"),  # DEFAULT=0, CAFFE=1, CUDNN=2
    16: ("axis", "int"),  # default 1
    17: ("force_nd_im2col", "bool"),
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
    11: ("engine", "int"),
    12: ("global_pooling", "bool"),
}

LRN = {
    1: ("local_size", "int"),  # default 5
    2: ("alpha", "float"),  # default 1
    3: ("beta", "float"),  # default 0.75
    4: ("norm_region", "int"),  # ACROSS_CHANNELS=0 (default), WITHIN_CHANNEL=1
    5: ("k", "float"),  # default 1
    6: ("engine", "int"),
}

INNER_PRODUCT = {
    1: ("num_output", "int"),
    2: ("bias_term", "bool"),  # default true
    5: ("axis", "int"),  # default 1
    6: ("transpose", "bool"),  # default false
}

RELU = {1: ("negative_slope", "float"), 2: ("engine", "int")}  # default 0
DROPOUT = {1: ("dropout_ratio", "float")}  # default 0.5
CONCAT = {1: ("concat_dim", "int"), 2: ("axis", "int")}  # axis wins; default 1
SOFTMAX = {1: ("engine", "int"), 2: ("axis", "int")}  # default 1

BATCH_NORM = {
    1: ("use_global_stats", "bool"),  # default: false in TRAIN, true in TEST
    2: ("moving_average_fraction", "float"),  # default 0.999
    3: ("eps", "float"),  # default 1e-5
}
SCALE = {
    1: ("axis", "int"),  # default 1
    2: ("num_axes", "int"),  # default 1
    # 3: filler (a FillerParameter), training only: skipped
    4: ("bias_term", "bool"),  # default false
}
BIAS = {1: ("axis", "int"), 2: ("num_axes", "int")}  # defaults 1, 1
ELTWISE = {
    1: ("operation", "int"),  # PROD=0, SUM=1 (default), MAX=2
    2: ("coeff", "floats"),  # SUM only; one per bottom
    3: ("stable_prod_grad", "bool"),  # default true
}
PRELU = {2: ("channel_shared", "bool")}  # default false; 1 = filler, skipped
ELU = {1: ("alpha", "float")}  # default 1
POWER = {1: ("power", "float"), 2: ("scale", "float"), 3: ("shift", "float")}  # defaults 1, 1, 0
EXP = {1: ("base", "float"), 2: ("scale", "float"), 3: ("shift", "float")}  # defaults -1 (e), 1, 0
LOG = {1: ("base", "float"), 2: ("scale", "float"), 3: ("shift", "float")}  # defaults -1 (e), 1, 0
THRESHOLD = {1: ("threshold", "float")}  # default 0
FLATTEN = {1: ("axis", "int"), 2: ("end_axis", "int")}  # defaults 1, -1
RESHAPE = {1: ("shape", BLOB_SHAPE), 2: ("axis", "int"), 3: ("num_axes", "int")}  # defaults 0, -1
SLICE = {1: ("slice_dim", "int"), 2: ("slice_point", "ints"), 3: ("axis", "int")}  # axis wins; default 1
CROP = {1: ("axis", "int"), 2: ("offset", "ints")}  # axis default 2
ENGINE_ONLY = {1: ("engine", "int")}  # SigmoidParameter, TanHParameter

TRANSFORM = {
    1: ("scale", "float"),  # default 1
    2: ("mirror", "bool"),
    3: ("crop_size", "int"),  # default 0: no crop
    4: ("mean_file", "string"),
    5: ("mean_value", "floats"),  # one value, or one per channel
    6: ("force_color", "bool"),
    7: ("force_gray", "bool"),
}
DATA = {
    1: ("source", "string"),
    2: ("scale", "float"),  # deprecated copies of transform_param's fields
    3: ("mean_file", "string"),
    4: ("batch_size", "int"),
    5: ("crop_size", "int"),
    6: ("mirror", "bool"),
    8: ("backend", "int"),  # LEVELDB=0, LMDB=1
}
IMAGE_DATA = {
    1: ("source", "string"),
    2: ("scale", "float"),
    3: ("mean_file", "string"),
    4: ("batch_size", "int"),
    5: ("crop_size", "int"),
    6: ("mirror", "bool"),
    9: ("new_height", "int"),  # default 0: no resize
    10: ("new_width", "int"),
    11: ("is_color", "bool"),  # default true
    12: ("root_folder", "string"),
}
HDF5_DATA = {1: ("source", "string"), 2: ("batch_size", "int"), 3: ("shuffle", "bool")}
MEMORY_DATA = {1: ("batch_size", "int"), 2: ("channels", "int"), 3: ("height", "int"), 4: ("width", "int")}
DUMMY_DATA = {  # one shape (or num/channels/height/width entry) per top
    2: ("num", "ints"),
    3: ("channels", "ints"),
    4: ("height", "ints"),
    5: ("width", "ints"),
    6: ("shape", [BLOB_SHAPE]),
}
INPUT = {1: ("shape", [BLOB_SHAPE])}
PYTHON = {1: ("module", "string"), 2: ("layer", "string"), 3: ("param_str", "string"),
          4: ("share_in_parallel", "bool")}

V1_LAYER = {
    1: ("v0_layer", {}),  # a V0 layer nested in V1: pre-2014 files
    2: ("bottom", "strings"),
    3: ("top", "strings"),
    4: ("name", "string"),
    5: ("type", "int"),
    6: ("blobs", [BLOB]),
    7: ("blobs_lr", "floats"),
    8: ("weight_decay", "floats"),
    9: ("concat_param", CONCAT),
    10: ("convolution_param", CONVOLUTION),
    11: ("data_param", DATA),
    12: ("dropout_param", DROPOUT),
    13: ("hdf5_data_param", HDF5_DATA),
    15: ("image_data_param", IMAGE_DATA),
    17: ("inner_product_param", INNER_PRODUCT),
    18: ("lrn_param", LRN),
    19: ("pooling_param", POOLING),
    21: ("power_param", POWER),
    22: ("memory_data_param", MEMORY_DATA),
    24: ("eltwise_param", ELTWISE),
    25: ("threshold_param", THRESHOLD),
    26: ("dummy_data_param", DUMMY_DATA),
    30: ("relu_param", RELU),
    31: ("slice_param", SLICE),
    32: ("include", [NET_STATE_RULE]),
    33: ("exclude", [NET_STATE_RULE]),
    35: ("loss_weight", "floats"),
    36: ("transform_param", TRANSFORM),
    37: ("tanh_param", ENGINE_ONLY),
    38: ("sigmoid_param", ENGINE_ONLY),
    39: ("softmax_param", SOFTMAX),
    41: ("exp_param", EXP),
    1001: ("param", "strings"),  # V1's blob-sharing names
}

LAYER = {
    1: ("name", "string"),
    2: ("type", "string"),
    3: ("bottom", "strings"),
    4: ("top", "strings"),
    5: ("loss_weight", "floats"),
    6: ("param", [PARAM_SPEC]),
    7: ("blobs", [BLOB]),
    8: ("include", [NET_STATE_RULE]),
    9: ("exclude", [NET_STATE_RULE]),
    10: ("phase", "int"),
    100: ("transform_param", TRANSFORM),
    104: ("concat_param", CONCAT),
    106: ("convolution_param", CONVOLUTION),
    107: ("data_param", DATA),
    108: ("dropout_param", DROPOUT),
    109: ("dummy_data_param", DUMMY_DATA),
    110: ("eltwise_param", ELTWISE),
    111: ("exp_param", EXP),
    112: ("hdf5_data_param", HDF5_DATA),
    115: ("image_data_param", IMAGE_DATA),
    117: ("inner_product_param", INNER_PRODUCT),
    118: ("lrn_param", LRN),
    119: ("memory_data_param", MEMORY_DATA),
    121: ("pooling_param", POOLING),
    122: ("power_param", POWER),
    123: ("relu_param", RELU),
    124: ("sigmoid_param", ENGINE_ONLY),
    125: ("softmax_param", SOFTMAX),
    126: ("slice_param", SLICE),
    127: ("tanh_param", ENGINE_ONLY),
    128: ("threshold_param", THRESHOLD),
    130: ("python_param", PYTHON),
    131: ("prelu_param", PRELU),
    133: ("reshape_param", RESHAPE),
    134: ("log_param", LOG),
    135: ("flatten_param", FLATTEN),
    139: ("batch_norm_param", BATCH_NORM),
    140: ("elu_param", ELU),
    141: ("bias_param", BIAS),
    142: ("scale_param", SCALE),
    143: ("input_param", INPUT),
    144: ("crop_param", CROP),
}

NET = {
    1: ("name", "string"),
    2: ("layers", [V1_LAYER]),
    3: ("input", "strings"),
    4: ("input_dim", "ints"),
    5: ("force_backward", "bool"),
    6: ("state", NET_STATE),
    7: ("debug_info", "bool"),
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

# The enum identifiers of V1LayerParameter.LayerType, as V1 prototxts write them.
V1_TYPE_NAMES = {
    "NONE": 0, "ACCURACY": 1, "BNLL": 2, "CONCAT": 3, "CONVOLUTION": 4, "DATA": 5, "DROPOUT": 6,
    "EUCLIDEAN_LOSS": 7, "FLATTEN": 8, "HDF5_DATA": 9, "HDF5_OUTPUT": 10, "IM2COL": 11, "IMAGE_DATA": 12,
    "INFOGAIN_LOSS": 13, "INNER_PRODUCT": 14, "LRN": 15, "MULTINOMIAL_LOGISTIC_LOSS": 16, "POOLING": 17,
    "RELU": 18, "SIGMOID": 19, "SOFTMAX": 20, "SOFTMAX_LOSS": 21, "SPLIT": 22, "TANH": 23, "WINDOW_DATA": 24,
    "ELTWISE": 25, "POWER": 26, "SIGMOID_CROSS_ENTROPY_LOSS": 27, "HINGE_LOSS": 28, "MEMORY_DATA": 29,
    "ARGMAX": 30, "THRESHOLD": 31, "DUMMY_DATA": 32, "SLICE": 33, "MVN": 34, "ABSVAL": 35, "SILENCE": 36,
    "CONTRASTIVE_LOSS": 37, "EXP": 38, "DECONVOLUTION": 39,
}

PHASES = {"TRAIN": 0, "TEST": 1}
_ENGINES = {"DEFAULT": 0, "CAFFE": 1, "CUDNN": 2}

# Every message above under its caffe.proto name (the text reader finds enum tables by it).
MESSAGES = {
    "NetParameter": NET, "NetState": NET_STATE, "NetStateRule": NET_STATE_RULE, "ParamSpec": PARAM_SPEC,
    "LayerParameter": LAYER, "V1LayerParameter": V1_LAYER, "BlobProto": BLOB, "BlobShape": BLOB_SHAPE,
    "ConvolutionParameter": CONVOLUTION, "PoolingParameter": POOLING, "LRNParameter": LRN,
    "InnerProductParameter": INNER_PRODUCT, "ReLUParameter": RELU, "DropoutParameter": DROPOUT,
    "ConcatParameter": CONCAT, "SoftmaxParameter": SOFTMAX, "BatchNormParameter": BATCH_NORM,
    "ScaleParameter": SCALE, "BiasParameter": BIAS, "EltwiseParameter": ELTWISE, "PReLUParameter": PRELU,
    "ELUParameter": ELU, "PowerParameter": POWER, "ExpParameter": EXP, "LogParameter": LOG,
    "ThresholdParameter": THRESHOLD, "FlattenParameter": FLATTEN, "ReshapeParameter": RESHAPE,
    "SliceParameter": SLICE, "CropParameter": CROP, "TanHParameter": ENGINE_ONLY,
    "TransformationParameter": TRANSFORM, "DataParameter": DATA, "ImageDataParameter": IMAGE_DATA,
    "HDF5DataParameter": HDF5_DATA, "MemoryDataParameter": MEMORY_DATA, "DummyDataParameter": DUMMY_DATA,
    "InputParameter": INPUT, "PythonParameter": PYTHON,
}

# (message name, field name) -> {enum identifier: number}: what a prototxt's identifiers mean.
ENUMS = {
    ("PoolingParameter", "pool"): {"MAX": 0, "AVE": 1, "STOCHASTIC": 2},
    ("LRNParameter", "norm_region"): {"ACROSS_CHANNELS": 0, "WITHIN_CHANNEL": 1},
    ("EltwiseParameter", "operation"): {"PROD": 0, "SUM": 1, "MAX": 2},
    ("NetStateRule", "phase"): PHASES,
    ("NetState", "phase"): PHASES,
    ("LayerParameter", "phase"): PHASES,
    ("V1LayerParameter", "type"): V1_TYPE_NAMES,
    ("ParamSpec", "share_mode"): {"STRICT": 0, "PERMISSIVE": 1},
    ("DataParameter", "backend"): {"LEVELDB": 0, "LMDB": 1},
    ("ConvolutionParameter", "engine"): _ENGINES,
    ("PoolingParameter", "engine"): _ENGINES,
    ("LRNParameter", "engine"): _ENGINES,
    ("ReLUParameter", "engine"): _ENGINES,
    ("SoftmaxParameter", "engine"): _ENGINES,
    ("TanHParameter", "engine"): _ENGINES,  # SigmoidParameter's is the same message shape
}

# Which *_param message each layer type reads (both generations use these field names).
PARAM_FIELD = {
    "Convolution": "convolution_param",
    "Deconvolution": "convolution_param",
    "Pooling": "pooling_param",
    "LRN": "lrn_param",
    "InnerProduct": "inner_product_param",
    "ReLU": "relu_param",
    "Dropout": "dropout_param",
    "Concat": "concat_param",
    "Softmax": "softmax_param",
    "BatchNorm": "batch_norm_param",
    "Scale": "scale_param",
    "Bias": "bias_param",
    "Eltwise": "eltwise_param",
    "PReLU": "prelu_param",
    "ELU": "elu_param",
    "Power": "power_param",
    "Exp": "exp_param",
    "Log": "log_param",
    "Threshold": "threshold_param",
    "Sigmoid": "sigmoid_param",
    "TanH": "tanh_param",
    "Flatten": "flatten_param",
    "Reshape": "reshape_param",
    "Slice": "slice_param",
    "Crop": "crop_param",
    "Input": "input_param",
    "DummyData": "dummy_data_param",
    "Data": "data_param",
    "ImageData": "image_data_param",
    "HDF5Data": "hdf5_data_param",
    "MemoryData": "memory_data_param",
    "Python": "python_param",
}
