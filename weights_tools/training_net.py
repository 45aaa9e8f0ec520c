"""What Caffe's training net has that the inference net does not: Caffe's phase rules, data layers, Split
layers, losses and everything that reads labels.

- Phase rules (src/caffe/net.cpp, Net::FilterNet and StateMeetsRule): a layer with include rules is kept when
  one of them is met, a layer with exclude rules when none is; minidream builds the TEST-phase net.
- Data layers feed the net from outside; their first top is the network input, their other tops are labels or
  targets. Any layer without bottoms counts as one (a Python data layer such as MTCNN's).
- Split layers Caffe inserted wherever one blob feeds several layers: for top j of layer L read by n layers,
  ``<blob>_<L>_<j>_split`` with tops ``<blob>_<L>_<j>_split_<k>`` (caffe/util/insert_splits.cpp); folded back
  into the blob's own name.
- Losses and metrics, and every layer reading a label (transitively): training only.
"""
from minidream.errors import CaffeModelError

# Layers that feed the net from outside: dropped, their first top becomes the network input (any layer with no
# bottoms is one too: a Python data layer such as MTCNN's). Their other tops are labels/targets.
DATA_TYPES = {"Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "AnnotatedData", "Input",
              "Python"}
# Training-only layers (losses, metrics, outputs) dropped on conversion, with every layer that reads labels.
TRAIN_ONLY = {"Accuracy", "Silence", "HDF5Output"}
TEST = {"phase": 1, "level": 0, "stage": []}  # Caffe's NetState for inference (net.cpp: phase TEST)


def is_data_layer(layer):
    return layer["type"] in DATA_TYPES or not layer.get("bottom")


def is_loss_layer(layer):
    return layer["type"].endswith("Loss") or layer["type"] in TRAIN_ONLY


def _meets(rule, state):
    """Caffe's Net::StateMeetsRule: phase, level range and stages of one NetStateRule."""
    if "phase" in rule and rule["phase"] != state["phase"]:
        return False
    if state["level"] < rule.get("min_level", state["level"]) or state["level"] > rule.get("max_level",
                                                                                            state["level"]):
        return False
    stages = set(state["stage"])
    return set(rule.get("stage", [])) <= stages and not stages & set(rule.get("not_stage", []))


def in_phase(layer, state=TEST):
    """Caffe's Net::FilterNet: with include rules a layer needs one met; with exclude rules none may be met."""
    if layer.get("include"):
        return any(_meets(rule, state) for rule in layer["include"])
    return not any(_meets(rule, state) for rule in layer.get("exclude", []))


def fold_splits(layers):
    """Remove Split layers, renaming their tops back to the blob they copy."""
    alias, kept = {}, []
    for layer in layers:
        bottoms = [alias.get(b, b) for b in layer.get("bottom", [])]
        if layer["type"] == "Split":
            if len(bottoms) != 1:
                raise CaffeModelError(f"Split layer {layer.get('name', '?')!r} has {len(bottoms)} bottoms, expected 1")
            for top in layer.get("top", []):
                alias[top] = bottoms[0]
            continue
        layer["bottom"] = bottoms
        kept.append(layer)
    return kept, len(layers) - len(kept)


def training_only(layers, data):
    """The layers inference drops: losses and metrics, and every layer that reads (directly or through such
    layers) a label/target blob — a data layer's tops after its first. Returns [(layer, why)]."""
    labels = {top for layer in data for top in layer.get("top", [])[1:]}
    dropped = []
    for layer in layers:
        reads_labels = labels.intersection(layer.get("bottom", []))
        if is_loss_layer(layer) or reads_labels:
            why = ("a loss/metric layer" if is_loss_layer(layer) else
                   f"reads the training blob {sorted(reads_labels)[0]!r}")
            dropped.append((layer, why))
            labels.update(layer.get("top", []))
    return dropped
