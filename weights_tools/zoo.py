"""The model zoo: the classic Caffe models minidream can fetch, and what is known about each.

    from weights_tools.zoo import MODELS, model_info
    model_info("vgg16")["default_layer"]      # 'conv4_3'

MODELS maps each name (in listing order) to a dict with these keys:

    name, description
    url             the .caffemodel's direct download, or None where there is none (then
                    ``manual`` says exactly where to get it)
    filename        the .caffemodel's file name (the cache keeps it under this name)
    sha1            published SHA1 of the .caffemodel, or None where none is published
    sha256_prefix   published leading hex digits of its SHA256 (MobileNet-Caffe's README), or None
    size            approximate size in bytes: checked (within SIZE_TOLERANCE) when no hash is
                    published, so an HTML error page is not taken for a model
    prototxt_url    deploy.prototxt to build the graph from, where the .caffemodel's own stored
                    net is not the one to use (converted models, train-only graphs), else None
    mean_file_url   the authors' mean.binaryproto, where that is how they publish the mean
    mean_bgr        per-channel mean to subtract (B, G, R), or None when it comes from the mean file
    scale           multiplier applied after subtracting the mean (Caffe's transform_param.scale)
    input_size      (H, W) the net was trained on;  channel_order "BGR" (all Caffe models here)
    classes         "imagenet" (shipped with weights_tools), "places365" or "places205"
    classes_url     where the class list is downloaded from, or None (ImageNet: shipped)
    default_layer   a good layer to dream on (a layer name of the deploy net)
    architecture    the minidream built-in architecture of the same graph, or None
    license, manual (how to install by hand: download page, files, the convert command)
    source          where the URL, hash and preprocessing facts were read
    unverified      what could not be checked when this table was written ("" if nothing)

No hash here is invented: where the authors publish none, sha1 is None and only the
size is checked.

``read_class_list(path)`` reads a class list (ImageNet's shipped synset_words.txt, Places'
categories files) into names in output order; SHIPPED_CLASSES has the shipped ones.
"""
import copy
from pathlib import Path

from minidream.architectures.builtin import IMAGENET_MEAN_BGR
from minidream.errors import CaffeModelError

BVLC_LICENSE = "unrestricted (BVLC model license)"
# A download within [size / 3, size * 3] passes the size check: the sizes are estimates (several
# from parameter counts), and what the check must catch is an HTML page served instead of the file.
SIZE_TOLERANCE = 3
PLACES365 = "https://raw.githubusercontent.com/CSAILVision/places365/master/"
RESNET_PROTOTXT = "https://raw.githubusercontent.com/KaimingHe/deep-residual-networks/master/prototxt/"
MOBILENET = "https://github.com/shicai/MobileNet-Caffe/raw/master/"
SQUEEZENET = "https://github.com/forresti/SqueezeNet/raw/master/"

SHIPPED_CLASSES = {"imagenet": Path(__file__).parent / "data" / "synset_words.txt"}

_DEFAULTS = {"url": None, "sha1": None, "sha256_prefix": None, "prototxt_url": None, "mean_file_url": None,
             "mean_bgr": IMAGENET_MEAN_BGR, "scale": 1.0, "input_size": (224, 224), "channel_order": "BGR",
             "classes": "imagenet", "classes_url": None, "architecture": None, "manual": "", "unverified": ""}


def _resnet(depth, size, layer):
    filename = f"ResNet-{depth}-model.caffemodel"
    return dict(
        name=f"resnet{depth}", description=f"ResNet-{depth} (MSRA, ImageNet; BatchNorm + Scale + Eltwise)",
        filename=filename, size=size, prototxt_url=f"{RESNET_PROTOTXT}ResNet-{depth}-deploy.prototxt",
        license="MIT (KaimingHe/deep-residual-networks)", default_layer=layer,
        architecture="resnet50" if depth == 50 else None,
        manual=(f"the authors distribute the weights only through OneDrive (no direct link): open "
                "https://onedrive.live.com/?authkey=%21AAFW2-FVoxeVRck&id=4006CBB8476FF777%2117887"
                f"&cid=4006CBB8476FF777 (linked from https://github.com/KaimingHe/deep-residual-networks), "
                f"download {filename} and ResNet_mean.binaryproto, and get ResNet-{depth}-deploy.prototxt "
                f"from {RESNET_PROTOTXT}ResNet-{depth}-deploy.prototxt"),
        source="github.com/KaimingHe/deep-residual-networks README.md (OneDrive link; its other link, "
               "research.microsoft.com/en-us/um/people/kahe/resnet/models.zip, is a zip on a retired site)",
        unverified="license; the mean: the authors publish ResNet_mean.binaryproto (a mean image, in the "
                   "download), not per-channel values; the ImageNet BGR mean is used unless "
                   "--mean-file ResNet_mean.binaryproto is given")


def _places365(arch, size, layer, input_size=(224, 224)):
    filename = f"{arch}_places365.caffemodel"
    return dict(
        name=f"places365-{arch}", description=f"{arch} trained on Places365-Standard (365 scene classes)",
        url=f"http://places2.csail.mit.edu/models_places365/{filename}", filename=filename, size=size,
        prototxt_url=f"{PLACES365}deploy_{arch}_places365.prototxt",
        mean_file_url=f"{PLACES365}places365CNN_mean.binaryproto", mean_bgr=None, input_size=input_size,
        classes="places365", classes_url=f"{PLACES365}categories_places365.txt",
        license="CC BY (Places365 models)", default_layer=layer,
        source="github.com/CSAILVision/places365 README.md (weights URL, deploy, categories, mean file)",
        unverified="no SHA1 published (size only); sizes approximate")


_ENTRIES = [
    dict(name="googlenet", description="BVLC GoogLeNet (ImageNet), the original DeepDream network",
         url="http://dl.caffe.berkeleyvision.org/bvlc_googlenet.caffemodel", filename="bvlc_googlenet.caffemodel",
         sha1="405fc5acd08a3bb12de8ee5e23a96bec22f08204", size=53_500_000, license=BVLC_LICENSE,
         default_layer="inception_4c/output", architecture="googlenet",
         source="BVLC/caffe models/bvlc_googlenet/readme.md"),
    dict(name="alexnet", description="BVLC AlexNet (ImageNet)",
         url="http://dl.caffe.berkeleyvision.org/bvlc_alexnet.caffemodel", filename="bvlc_alexnet.caffemodel",
         sha1="9116a64c0fbe4459d18f4bb6b56d647b63920377", size=244_000_000, input_size=(227, 227),
         license=BVLC_LICENSE, default_layer="conv5", architecture="alexnet",
         source="BVLC/caffe models/bvlc_alexnet/readme.md"),
    dict(name="caffenet", description="BVLC Reference CaffeNet (AlexNet with pooling before normalization)",
         url="http://dl.caffe.berkeleyvision.org/bvlc_reference_caffenet.caffemodel",
         filename="bvlc_reference_caffenet.caffemodel", sha1="4c8d77deb20ea792f84eb5e6d0a11ca0a8660a46",
         size=244_000_000, input_size=(227, 227), license=BVLC_LICENSE, default_layer="conv5",
         source="BVLC/caffe models/bvlc_reference_caffenet/readme.md"),
    dict(name="vgg16", description="VGG ILSVRC-2014 16-layer (configuration D), Oxford VGG",
         url="http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_16_layers.caffemodel",
         filename="VGG_ILSVRC_16_layers.caffemodel", size=553_000_000,
         prototxt_url="https://gist.githubusercontent.com/ksimonyan/211839e770f7b538e2d8/raw/"
                      "0067c9b32f60362c74f4c445a080beed06b07eb3/VGG_ILSVRC_16_layers_deploy.prototxt",
         mean_bgr=[103.939, 116.779, 123.68], license="CC BY 4.0", default_layer="conv4_3", architecture="vgg16",
         source="gist ksimonyan/211839e770f7b538e2d8 (caffemodel_url, BGR mean pixel); pinned gist "
                "revisions of the deploy prototxts as download scripts use them",
         unverified="no SHA1 published (size only)"),
    dict(name="vgg19", description="VGG ILSVRC-2014 19-layer (configuration E), Oxford VGG",
         url="http://www.robots.ox.ac.uk/~vgg/software/very_deep/caffe/VGG_ILSVRC_19_layers.caffemodel",
         filename="VGG_ILSVRC_19_layers.caffemodel", size=575_000_000,
         prototxt_url="https://gist.githubusercontent.com/ksimonyan/3785162f95cd2d5fee77/raw/"
                      "f02f8769e64494bcd3d7e97d5d747ac275825721/VGG_ILSVRC_19_layers_deploy.prototxt",
         mean_bgr=[103.939, 116.779, 123.68], license="CC BY 4.0", default_layer="conv4_4",
         source="gist ksimonyan/3785162f95cd2d5fee77 (same layout as the 16-layer gist)",
         unverified="no SHA1 published (size only)"),
    _resnet(50, 102_000_000, "res4f"),
    _resnet(101, 179_000_000, "res4b22"),
    _resnet(152, 241_000_000, "res4b35"),
    dict(name="squeezenet1.0", description="SqueezeNet v1.0 (AlexNet accuracy, 50x fewer parameters)",
         url=f"{SQUEEZENET}SqueezeNet_v1.0/squeezenet_v1.0.caffemodel", filename="squeezenet_v1.0.caffemodel",
         size=5_000_000, input_size=(227, 227), license="BSD 2-clause", default_layer="fire7/concat",
         source="github.com/forresti/SqueezeNet README.md and LICENSE",
         unverified="no SHA1 published (size only)"),
    dict(name="squeezenet1.1", description="SqueezeNet v1.1 (2.4x less computation than v1.0)",
         url=f"{SQUEEZENET}SqueezeNet_v1.1/squeezenet_v1.1.caffemodel", filename="squeezenet_v1.1.caffemodel",
         size=4_950_000, input_size=(227, 227), license="BSD 2-clause", default_layer="fire7/concat",
         source="github.com/forresti/SqueezeNet (SqueezeNet_v1.1/ beside v1.0)",
         unverified="no SHA1 published (size only)"),
    dict(name="nin", description="Network in Network (ImageNet), 4 NIN blocks and global average pooling",
         url="https://www.dropbox.com/s/0cidxafrb2wuwxw/nin_imagenet.caffemodel?dl=1",
         filename="nin_imagenet.caffemodel", sha1="8e89c8fcd46e02780e16c867a5308e7bb7af0803", size=29_000_000,
         license="non-commercial", default_layer="cccp6",
         source="gist mavenlin/d802a5849de39225bcc6 readme (caffemodel_url, sha1)",
         unverified="mean: trained with the ImageNet mean image; the BGR per-channel mean is used"),
    dict(name="places205-googlenet", description="GoogLeNet trained on Places205 (205 scene classes); "
                                                 "the DeepDream blog's buildings and landscapes",
         filename="googlelet_places205_train_iter_2400000.caffemodel", size=41_000_000,
         classes="places205", license="CC BY (Places models)", default_layer="inception_4c/output",
         manual=("download http://places.csail.mit.edu/model/googlenet_places205.tar.gz (see "
                 "http://places.csail.mit.edu/downloadCNN.html) and extract it: it holds "
                 "googlelet_places205_train_iter_2400000.caffemodel, deploy_places205.protxt and the "
                 "category list"),
         source="places.csail.mit.edu (tarball URL and file names as used by google/deepdream users)",
         unverified="no SHA1 published; a tarball, not a direct .caffemodel; mean (ImageNet BGR used) "
                    "and size approximate"),
    _places365("alexnet", 233_000_000, "conv5", input_size=(227, 227)),
    _places365("googlenet", 46_000_000, "inception_4c/output"),
    _places365("vgg16", 543_000_000, "conv4_3"),
    _places365("resnet152", 236_000_000, "res4b35"),
    dict(name="mobilenet", description="MobileNet v1 (shicai/MobileNet-Caffe; depthwise convolutions, BN)",
         url=f"{MOBILENET}mobilenet.caffemodel", filename="mobilenet.caffemodel", sha256_prefix="8d6edcd3",
         size=16_200_000, prototxt_url=f"{MOBILENET}mobilenet_deploy.prototxt",
         mean_bgr=[103.94, 116.78, 123.68], scale=0.017, license="BSD 3-clause", default_layer="relu5_5/sep",
         source="github.com/shicai/MobileNet-Caffe README.md (sha256sum prefix, size, mean, scale 0.017), "
                "eval_image.py, LICENSE",
         unverified="the raw URL of the weights held in the repository"),
    dict(name="mobilenet-v2", description="MobileNet v2 (shicai/MobileNet-Caffe; inverted residuals)",
         url=f"{MOBILENET}mobilenet_v2.caffemodel", filename="mobilenet_v2.caffemodel", sha256_prefix="a3124ce7",
         size=13_500_000, prototxt_url=f"{MOBILENET}mobilenet_v2_deploy.prototxt",
         mean_bgr=[103.94, 116.78, 123.68], scale=0.017, license="BSD 3-clause", default_layer="block_5_2",
         source="github.com/shicai/MobileNet-Caffe README.md, eval_image.py, mobilenet_v2_deploy.prototxt",
         unverified="the raw URL of the weights held in the repository"),
]

MODELS = {entry["name"]: copy.deepcopy(dict(_DEFAULTS, **entry)) for entry in _ENTRIES}
REQUIRED = tuple(sorted(set(_DEFAULTS) | {"name", "description", "filename", "size", "license",
                                          "default_layer", "source"}))


def model_info(name):
    """A copy of the registry entry for ``name``; ValueError listing the names if unknown."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; the zoo has: {', '.join(MODELS)}")
    return copy.deepcopy(MODELS[name])


def read_class_list(path):
    """Class names in output order from a class-list file.

    Two layouts: Places' "/a/airfield 0" (a name and its output index; the "/a/" prefix
    is dropped, "/a/apartment_building/outdoor 5" gives "apartment_building/outdoor"),
    and synset_words.txt's "n01440764 tench, Tinca tinca" (line i is output i; the
    lemmas are the name).
    """
    try:
        lines = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise CaffeModelError(f"cannot read the class list {path}: {exc}") from None
    pairs = [line.rsplit(None, 1) for line in lines]
    if not lines or not all(len(pair) == 2 and pair[1].isdigit() for pair in pairs):
        return [line.partition(" ")[2] or line for line in lines]
    names = {}
    for name, index in pairs:
        names.setdefault(int(index), name.split("/", 2)[-1] if name.startswith("/") else name)
    if sorted(names) != list(range(len(lines))):
        raise CaffeModelError(f"the class list {path} does not number its {len(lines)} classes 0..{len(lines) - 1} "
                              "once each")
    return [names[i] for i in range(len(lines))]
