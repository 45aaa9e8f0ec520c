"""Files that are not a .caffemodel: the format they look like, told from their first bytes, and what to do.

A .caffemodel is a serialized caffe.NetParameter, a run of protobuf fields: it starts with field 1 (the net's name,
a string: byte 0x0a then a length and the name's text), field 100 (a layer: 0xa2 0x06) or another of its fields.
Other files reach `convert` and `inspect` by mistake — an ONNX export, a .h5 model, a PyTorch checkpoint, a
prototxt, a tarball, a download's HTML page or a Git LFS pointer — and read as protobuf they fail far inside with
an error about wire types. Every signature checked here is impossible at the start of a NetParameter, so checking
them first never refuses a real .caffemodel:

- magic bytes: HDF5 (at byte 0, or after a user block of 512, 1024, 2048, ... bytes), zip (PK), gzip, tar
  (``ustar`` at byte 257), Python pickle, NumPy .npy, TensorFlow Lite (``TFL3`` at byte 4), safetensors (an
  8-byte header length, then a JSON header);
- text: a NetParameter's keys and lengths put a control byte, or a byte that is not UTF-8 (0xa2, a layer's key),
  within its first few bytes;
- other protobufs by their first field: field 1 as a varint is ONNX's ModelProto (ir_version) or TensorFlow's
  SavedModel (its schema version), where Caffe's field 1 is a string (an ONNX model is foreign to the Caffe
  reader only: ``looks_like_onnx`` routes it to weights_tools.onnx); a mean image (Caffe's BlobProto) starts with
  its num (field 1 varint, then field 2), its data or its shape (field 5 or 7 as bytes, both bools in
  NetParameter); a TensorFlow GraphDef starts with a node (field 1) whose own first byte is a key, not a name's
  first letter.
"""
import codecs
import re

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
HEAD = 4096  # bytes looked at, besides the HDF5 user-block offsets and a zip's names
CONVERTS_ONLY = "minidream converts Caffe and ONNX models only"
UNPACK = "unpack it and convert the .caffemodel inside"
MEAN_IMAGE = ("a mean image (Caffe's .binaryproto)", "pass it as --mean-file, with the .caffemodel to convert")
ZIP_NAMES = 1 << 16  # a zip lists its names at the end too: the tail searched for torch.save's data.pkl
ONNX = ("`python -m weights_tools inspect` and `convert` take it as it is (by its content); from Python, "
        "weights_tools.onnx.read_onnx reads it")
PROTOTXT = re.compile(r"^\s*(name|layers?|input|input_shape|input_dim)\s*[:{]", re.M)


def is_hdf5(buf):
    """True when buf holds the HDF5 signature where HDF5 puts it: byte 0, or 512 * 2**k (after a user block)."""
    offset = 0
    while offset + len(HDF5_SIGNATURE) <= len(buf):
        if bytes(buf[offset:offset + len(HDF5_SIGNATURE)]) == HDF5_SIGNATURE:
            return True
        offset = max(512, 2 * offset)
    return False


def looks_like(buf):
    """(what the file looks like, what to do) when buf is certainly not a .caffemodel, else None."""
    head = bytes(buf[:HEAD])
    if is_hdf5(buf):
        return ("an HDF5 file", "a minidream model (from convert or fetch) needs no conversion: load it with --model "
                                "FILE; a Keras or other HDF5 model cannot be converted")
    if head.startswith(b"PK\x03\x04"):
        if b"data.pkl" in head + bytes(buf[-ZIP_NAMES:]):  # torch.save's zip holds <name>/data.pkl
            return "a PyTorch checkpoint (.pt/.pth)", CONVERTS_ONLY
        return "a zip archive", UNPACK
    if head.startswith(b"\x1f\x8b"):
        return "a gzip archive (.tar.gz?)", UNPACK
    if head[257:262] == b"ustar":
        return "a tar archive", UNPACK
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle (an older PyTorch .pt/.pth checkpoint?)", CONVERTS_ONLY
    if head.startswith(b"\x93NUMPY"):
        return "a NumPy array (.npy)", CONVERTS_ONLY
    if head[2:4] == b"\0\0" and head[4:8] == b"TFL3":  # a flatbuffer: a small root offset, then the identifier
        return "a TensorFlow Lite model", CONVERTS_ONLY
    if len(head) > 9 and head[8:10] == b'{"' and int.from_bytes(head[:8], "little") < len(buf):
        return "a safetensors file", CONVERTS_ONLY
    text = _text(head)
    if text is not None:
        return _text_format(text)
    return _protobuf_format(head)


def _text(head):
    """head decoded as UTF-8 when it is text (no control characters but tabs and line ends), else None."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(head)  # a character cut at HEAD is not an error
    except UnicodeDecodeError:
        return None
    if not text or re.search(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", text):
        return None
    return text


def _text_format(text):
    start = text.lstrip().lower()
    if start.startswith("version https://git-lfs"):
        return "a Git LFS pointer", "it stands for the file: fetch the file itself (git lfs pull) and convert that"
    if start.startswith(("<!doctype html", "<html")) or "<html" in start[:1000]:
        return ("a web page (HTML)", "the download gave a page (a sign-in, an error or a warning) instead of the "
                                     "file: download it again, from a browser if need be")
    if PROTOTXT.search(text):
        return ("a net's text definition (.prototxt)", "pass it as --prototxt, with the .caffemodel that holds the "
                                                       "weights as the file to convert")
    return "a text file", "give the binary .caffemodel that holds the weights"


def looks_like_onnx(buf):
    """True when buf starts as an ONNX ModelProto does: field 1 (ir_version, 3 and up in the files minidream reads)
    as a varint, then anything but field 2 as a varint (a mean image's channels). A SavedModel starts with field 1
    too, its schema version 1, and names tensorflow within its first bytes. `convert` and `inspect` route a file
    to the ONNX reader by this test, whatever its extension."""
    head = bytes(buf[:HEAD])
    if head[:1] != b"\x08":
        return False
    after = _after_varint(head, 1)
    return head[after:after + 1] != b"\x10" and not (head[1:2] == b"\x01" and b"tensorflow" in head)


def _protobuf_format(head):
    """Another protobuf, by its first field (see the module doc), or None."""
    if looks_like_onnx(head):
        return "an ONNX model", ONNX
    if head[:1] == b"\x08":  # field 1 as a varint: the rest of what starts so
        after = _after_varint(head, 1)
        return MEAN_IMAGE if head[after:after + 1] == b"\x10" else ("a TensorFlow SavedModel", CONVERTS_ONLY)
    if head[:1] in (b"\x2a", b"\x3a"):  # field 5 or 7 as bytes: its data or shape (bools in NetParameter)
        return MEAN_IMAGE
    if head[:1] == b"\x0a":  # field 1, bytes: a GraphDef's node is a message starting with its own field 1
        after = _after_varint(head, 1)
        if head[after:after + 1] == b"\x0a":
            return "a TensorFlow graph (.pb)", CONVERTS_ONLY
    return None


def _after_varint(head, pos):
    """The position after the varint at head[pos] (a varint's bytes but the last have the high bit set)."""
    while pos < len(head) and head[pos] & 0x80:
        pos += 1
    return pos + 1
