"""The curate loop: see what each class taught a model, and find the training images that look wrong.

A model trained on a small hand-made image set often learns something other than the class (a
bicycle net that learned the background). ``curate`` shows it and points at the images to fix:

1. classifies every training image (centre crop) and, per class, lists the images with the lowest
   probability for their own label first: the ones the model gets wrong, then the ones it is least
   sure about (mislabeled or unusual images sort to the top);
2. dreams on each class's most confidently classified image at a few layers, low to high, so the
   features the model uses for that class grow visibly;
3. writes REPORT_DIR/index.html with a contact sheet (minidream.io.contact_sheets) per class for both.

    report = minidream.curate("DATA_DIR", "model.h5", "report/")
    python -m minidream curate DATA_DIR --model model.h5 -o report/
"""
import html
import os
from typing import Dict, List, NamedTuple

import numpy as np

from minidream.dreaming.deepdream import dream
from minidream.engine.layer_types import type_of
from minidream.engine.net import Net
from minidream.io.contact_sheets import contact_sheet
from minidream.models.loading import load_model
from minidream.training import image_folder
from minidream.training.evaluation import class_scores, classifier_name, softmax


class Suspect(NamedTuple):
    """A training image, its folder's class, the model's top class, and both probabilities."""

    path: str
    label: str
    predicted: str
    p_label: float
    p_predicted: float


class CurateReport(NamedTuple):
    """path: REPORT_DIR/index.html; suspects: {class: [Suspect], least p_label first}; accuracy: top-1
    on the training images; layers: the layers dreamed at."""

    path: str
    suspects: Dict[str, List[Suspect]]
    accuracy: float
    layers: List[str]


def default_layers(net, count=3):
    """``count`` convolution layers spread from low to high, the first convolution left out (its
    dreams are only colour and edges)."""
    convs = [s["name"] for s in net.specs if type_of(s).role == "convolution"]
    if not convs:
        raise ValueError("the model has no convolution layers to dream at; pass layers=[...]")
    picks = np.unique(np.round(np.linspace(0, len(convs) - 1, count + 1)).astype(int))
    return [convs[i] for i in (picks[1:] if len(picks) > 1 else picks)]


def _class_indices(folder_names, model_names):
    """For each folder class, the index of the model class of that name."""
    missing = [n for n in folder_names if n not in model_names]
    if missing:
        raise ValueError(f"the model does not know the classes {missing} of the data folder (its classes: "
                         f"{model_names}); curate with a model trained or fine-tuned on this folder")
    return np.array([model_names.index(n) for n in folder_names])


def classify_images(net, images, batch_size=64):
    """Class probabilities (N, K) of uint8 images (N, S, S, 3) from their centre crops."""
    crop = int(net.meta["input_size"][0])

    def make_input(index):
        return image_folder.to_input(image_folder.center_crops(images[index], crop), net.meta["mean_bgr"])

    return softmax(class_scores(net, classifier_name(net.specs), make_input, len(images), batch_size))


def curate(data_dir, model, output_dir, *, layers=None, per_class=8, steps=10, octaves=2, seed=0, device="cpu",
           progress=True):
    """Write the curate report for the training images of DATA_DIR (one sub-folder per class) and
    ``model`` (a Net, name or .h5 file trained on those classes) to output_dir; returns CurateReport.

    layers: layers to dream at (default: default_layers); per_class: suspects listed per class;
    steps, octaves: of each dream (small, so the report is quick); seed: of the dreams.
    """
    from tqdm import tqdm

    net = model if isinstance(model, Net) else load_model(model, device=device)
    model_names = list(net.meta.get("class_names") or [])
    names, items = image_folder.scan_folder(data_dir)
    size = image_folder.load_size(int(net.meta["input_size"][0]))
    data = image_folder.load_images(items, size, names, "loading", progress)
    probs = classify_images(net, data.images)
    own = _class_indices(names, model_names)[data.labels]
    p_label = probs[np.arange(len(own)), own]
    predicted = probs.argmax(axis=1)
    layers = list(layers or default_layers(net))
    os.makedirs(output_dir, exist_ok=True)
    suspects, sections = {}, []
    for k, name in enumerate(tqdm(names, desc="dreaming", unit="class", disable=not progress)):
        members = np.flatnonzero(data.labels == k)
        order = members[np.argsort(p_label[members], kind="stable")]
        suspects[name] = [Suspect(items[i][0], name, model_names[predicted[i]], float(p_label[i]),
                                  float(probs[i, predicted[i]])) for i in order[:per_class]]
        best = order[-1]
        dreams = [dream(data.images[best], model=net, layer=layer, octaves=octaves, steps=steps,
                        jitter=max(1, size // 8), seed=seed, device=device, progress=False) for layer in layers]
        sheet = contact_sheet([data.images[best]] + dreams, [f"p={p_label[best]:.2f}"] + layers, cell_size=128)
        sheet.save(os.path.join(output_dir, f"{k:03d}_dreams.png"))
        shown = order[:per_class]
        contact_sheet(data.images[shown], [f"{os.path.basename(items[i][0])}\n{p_label[i]:.2f} -> "
                                           f"{model_names[predicted[i]]}" for i in shown],
                      columns=min(per_class, 8), cell_size=96).save(os.path.join(output_dir, f"{k:03d}_suspects.png"))
        sections.append(_section(k, name, members, p_label, predicted, own, suspects[name]))
    accuracy = float((predicted == own).mean())
    path = os.path.join(output_dir, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(_page(net, data_dir, layers, accuracy, len(own), sections))
    return CurateReport(path, suspects, accuracy, layers)


def _section(k, name, members, p_label, predicted, own, suspects):
    right = int((predicted[members] == own[members]).sum())
    rows = "".join(
        f"<tr{' class=wrong' if s.predicted != s.label else ''}><td>{html.escape(s.path)}</td>"
        f"<td>{s.p_label:.3f}</td><td>{html.escape(s.predicted)}</td><td>{s.p_predicted:.3f}</td></tr>"
        for s in suspects)
    return (f"<h2>{html.escape(name)}</h2><p>{right} of {len(members)} images classified as {html.escape(name)}."
            f"</p><h3>What the model grows for it (its most confident image, dreamed at each layer)</h3>"
            f"<img src='{k:03d}_dreams.png'><h3>Suspects: the lowest probability for their own label first</h3>"
            f"<img src='{k:03d}_suspects.png'><table><tr><th>image</th><th>p(label)</th><th>model says</th>"
            f"<th>p</th></tr>{rows}</table>")


def _page(net, data_dir, layers, accuracy, count, sections):
    title = f"curate: {html.escape(os.fspath(data_dir))} with {html.escape(net.meta.get('name') or 'model')}"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>"
            "body{font-family:sans-serif;margin:2em} table{border-collapse:collapse} td,th{padding:2px 8px;"
            "border-bottom:1px solid #ddd;text-align:left} tr.wrong td{color:#b00}</style></head><body>"
            f"<h1>{title}</h1><p>{count} training images, {accuracy:.1%} classified as their folder's class. "
            f"Dreams at {html.escape(', '.join(layers))}. Rows in red are images the model puts in another "
            "class: mislabeled, ambiguous, or a sign the class needs more images like them.</p>"
            + "".join(sections) + "</body></html>\n")
