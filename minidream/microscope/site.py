"""The microscope's pages: plain HTML and one style sheet, relative links only, so the site opens from file://.

    SITE/index.html                 the model and its pictured layers (shape, channels, a link to each)
    SITE/<layer>/index.html         the grid of the layer's channel pictures, each a link to its page
    SITE/<layer>/<channel>.html     the picture, its variants, its top-activating crops and its recipe
    SITE/microscope.json            the layer names and their folders (a layer's folder is a safe slug of its name)
    SITE/style.css

Every page is written whole (minidream.io.files.atomic_write) and made again on every run.
"""
import html
import itertools
import json
import os
from urllib.parse import quote

from minidream.io.files import atomic_write

STYLE = """body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
a { color: #0645ad; text-decoration: none; } a:hover { text-decoration: underline; }
nav { margin-bottom: 1em; color: #666; }
table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left; }
img { image-rendering: pixelated; background: #ddd; }
.grid { display: flex; flex-wrap: wrap; gap: 6px; }
.grid a { display: flex; flex-direction: column; align-items: center; font-size: 12px; color: #444; }
.grid img { width: 128px; height: 128px; }
.thumb { width: 64px; height: 64px; }
.main { width: 384px; height: 384px; }
.row { display: flex; flex-wrap: wrap; gap: 12px; }
.row img { width: 192px; height: 192px; }
.row .crop { width: 128px; height: 128px; object-fit: contain; }
figure { margin: 0; } figcaption { font-size: 12px; color: #555; max-width: 192px; overflow-wrap: anywhere; }
.missing { display: inline-block; width: 128px; height: 128px; background: #eee; color: #a00; font-size: 12px; }
pre { background: #f0f0f0; padding: 1em; overflow-x: auto; font-size: 12px; }
.constant { color: #8a5a00; max-width: 60em; }
"""
DEAD = ("A channel that holds one value everywhere gave its dream no gradient to follow (its kernel is zero, or "
        "everything it reads is cut off on the noise it started from): its picture is that starting noise, not a "
        "feature.")


def write_site(site, about, layer_plans, pictures, crops, constant):
    """Write every page. about: {"model", "model_sha256", "input_size", "settings" (a line of text)};
    pictures: the render.Pictures of the run; crops: {layer: {channel: [Crop]}} ({} without --images);
    constant: {layer: {channel: value}}, the channels whose output is flat on their picture (constant.py)."""
    _write(site, "style.css", STYLE)
    _write(site, "microscope.json", json.dumps(
        dict(about, layers=[{"name": p.name, "folder": p.slug, "channels": p.count, "pictured": p.channels}
                            for p in layer_plans]), indent=1) + "\n")
    by_channel = {key: list(group) for key, group in itertools.groupby(pictures, lambda p: (p.layer, p.channel))}
    _write(site, "index.html", _index_page(site, about, layer_plans, constant))
    for plan in layer_plans:
        folder = os.path.join(site, plan.slug)
        _write(folder, "index.html", _layer_page(about, plan, constant[plan.name]))
        for before, channel, after in zip([None] + plan.channels[:-1], plan.channels, plan.channels[1:] + [None]):
            page = _channel_page(about, plan, channel, by_channel[(plan.name, channel)],
                                 crops.get(plan.name, {}).get(channel), (before, after),
                                 constant[plan.name].get(channel))
            _write(folder, f"{channel}.html", page)


def _write(folder, name, text):
    os.makedirs(folder, exist_ok=True)
    atomic_write(os.path.join(folder, name), lambda f: f.write(text.encode("utf-8")))


def _page(title, css, body):
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<link rel=\"stylesheet\" href=\"{css}\"></head>\n<body>\n{body}\n</body></html>\n")


def _img(src, alt, css_class, exists=True):
    """An <img>, or a grey box saying so where the picture is missing (a render that failed on a worker)."""
    if not exists:
        return f"<span class=\"missing {css_class}\">not rendered</span>"
    return f"<img class=\"{css_class}\" src=\"{quote(src)}\" alt=\"{html.escape(alt)}\">"


def _index_page(site, about, layer_plans, constant):
    rows = []
    for plan in layer_plans:
        link = quote(plan.slug) + "/index.html"
        first = f"{plan.slug}/{plan.channels[0]}.png"
        thumb = _img(first, plan.name, "thumb", os.path.exists(os.path.join(site, first)))
        flat = f" ({len(constant[plan.name])} constant)" if constant[plan.name] else ""
        rows.append(f"<tr><td><a href=\"{link}\">{html.escape(plan.name)}</a></td><td>{plan.count}</td>"
                    f"<td>{ranges(plan.channels)}{flat}</td><td><a href=\"{link}\">{thumb}</a></td></tr>")
    body = (f"<h1>{html.escape(about['model'])}</h1>\n<p>Weights SHA-256 {about['model_sha256'][:16]}…, input "
            f"{about['input_size'][1]}×{about['input_size'][0]}. {html.escape(about['settings'])}</p>\n"
            "<table><tr><th>layer</th><th>channels</th><th>pictured</th><th></th></tr>\n"
            + "\n".join(rows) + "\n</table>")
    return _page(f"microscope: {about['model']}", "style.css", body)


def _layer_page(about, plan, constant):
    cells = "\n".join(f"<a href=\"{c}.html\">{_img(f'{c}.png', f'{plan.name} channel {c}', 'pic')}"
                      f"{c}{' · constant' if c in constant else ''}</a>" for c in plan.channels)
    flat = "" if not constant else (
        f"<p class=\"constant\">Constant on their pictures: {ranges(sorted(constant))} ({len(constant)} of "
        f"{len(plan.channels)}). {DEAD}</p>\n")
    body = (f"<nav><a href=\"../index.html\">{html.escape(about['model'])}</a> › {html.escape(plan.name)}</nav>\n"
            f"<h1>{html.escape(plan.name)}</h1>\n<p>Channels {ranges(plan.channels)} of {plan.count}, each the "
            "picture that maximizes the channel's mean, dreamed from noise. Click one for its page.</p>\n"
            f"{flat}<div class=\"grid\">\n{cells}\n</div>")
    return _page(f"{plan.name} — microscope: {about['model']}", "../style.css", body)


def _variants(variants):
    """The channel page's variants: a diverse batch (their recipes' "batch") or one from another seed."""
    figures = "".join(
        f"<figure>{_img(os.path.basename(v.path), f'variant {v.variant}', 'pic', os.path.exists(v.path))}"
        f"<figcaption>{_start(v.recipe)}</figcaption></figure>" for v in variants)
    first = variants[0].recipe
    if first.get("batch") is not None:
        shared = first["batch"]["objective_data"]["shared"]
        about = (f"A diverse batch: the same objective plus Diversity(weight {shared['weight']:g}), the "
                 f"{len(variants)} pictures dreamed together and pushed apart in Gram-matrix space (the channels' "
                 "co-activation), each from its own noise.")
    else:
        about = ("The same objective from another seed: a single variant has nothing to be pushed away from, so it "
                 "differs only by its starting noise (--diversity 2 or more makes a diverse batch).")
    return f"<h2>Variants</h2>\n<p>{html.escape(about)}</p>\n<div class=\"row\">{figures}</div>"


def _start(recipe):
    seed = recipe.get("noise_seed", recipe["seed"])
    return f"noise of seed {seed}"


def _channel_page(about, plan, channel, pictures, crops, neighbours, constant=None):
    picture, variants = pictures[0], pictures[1:]
    name = os.path.basename(picture.path)
    steps = " ".join(f"<a href=\"{c}.html\">{'‹' if c < channel else ''} {c} {'›' if c > channel else ''}</a>"
                     for c in neighbours if c is not None)
    sections = [f"<nav><a href=\"../index.html\">{html.escape(about['model'])}</a> › <a href=\"index.html\">"
                f"{html.escape(plan.name)}</a> › channel {channel} · {steps}</nav>",
                f"<h1>{html.escape(plan.name)} · channel {channel}</h1>",
                _img(name, f"{plan.name} channel {channel}", "main", os.path.exists(picture.path))]
    if constant is not None:
        sections.append(f"<p class=\"constant\">This channel is {constant:.4g} at every position of its picture. "
                        f"{DEAD}</p>")
    if variants:
        sections.append(_variants(variants))
    if crops is not None:
        figures = "".join(f"<figure>{_img(c.file, c.image, 'crop')}<figcaption>{html.escape(c.image)}<br>"
                          f"activation {c.activation:.3g}</figcaption></figure>" for c in crops)
        sections.append(f"<h2>Top-activating crops</h2>\n<p>Where this channel responds most in the images given, "
                        f"each crop the channel's receptive field around its strongest position.</p>\n"
                        f"<div class=\"row\">{figures or 'No image made this channel respond.'}</div>")
    recipe = html.escape(json.dumps(picture.recipe, indent=2, sort_keys=True))
    sections.append(f"<h2>Recipe</h2>\n<p>Stored in the PNG; <code>python -m minidream dream --from "
                    f"{html.escape(os.path.join(plan.slug, name))} -o again.png</code> in the site's folder makes it "
                    f"again.</p>\n<pre>{recipe}</pre>")
    return _page(f"{plan.name} channel {channel} — microscope: {about['model']}", "../style.css", "\n".join(sections))


def ranges(channels):
    """[0, 1, 2, 3, 7] -> '0–3, 7'."""
    runs = []
    for _, group in itertools.groupby(enumerate(channels), lambda item: item[1] - item[0]):
        group = [c for _, c in group]
        runs.append(str(group[0]) if len(group) == 1 else f"{group[0]}–{group[-1]}")
    return ", ".join(runs)
