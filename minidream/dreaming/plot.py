"""The objective against the steps, one panel per octave, drawn with Pillow (no matplotlib needed).

    history = []
    minidream.dream("photo.jpg", history=history)      # [(octave, step, value), ...]
    plot_history(history).save("objective.png")

Each octave has its own panel and vertical range: the objective of a larger octave is larger (more
positions), so one shared axis would flatten the small ones. A curve that keeps rising says the step size
could grow; one that saws up and down says it is too big.
"""
from PIL import Image, ImageDraw, ImageFont

PANEL = (260, 180)
MARGIN = (46, 18, 10, 24)  # left, top, right, bottom
COLORS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
          (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207))


def plot_history(history, title=""):
    """A PIL image: for each octave, its objective values against the step number. A batch's history (a list of
    the pictures' values at each step) draws a line per picture, picture k in COLORS[k] (cycling past 10), and a
    key of the pictures' numbers in their colours."""
    octaves = sorted({o for o, _, _ in history})
    if not octaves:
        raise ValueError("nothing to plot: the dream took no steps")
    pictures = len(history[0][2]) if isinstance(history[0][2], (list, tuple)) else None
    font = ImageFont.load_default()
    width, height = PANEL[0] * len(octaves), PANEL[1] + 16
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    heading = f"objective per step {title}".strip()
    draw.text((4, 2), heading, fill=(0, 0, 0), font=font)
    if pictures is not None:  # the key: each picture's number in its colour
        x = 4 + draw.textlength(heading + "  ", font=font)
        draw.text((x, 2), "pictures", fill=(0, 0, 0), font=font)
        x += draw.textlength("pictures ", font=font)
        for k in range(pictures):
            draw.text((x, 2), str(k), fill=COLORS[k % len(COLORS)], font=font)
            x += draw.textlength(f"{k} ", font=font)
    for k, octave in enumerate(octaves):
        steps = [(s, v) for o, s, v in history if o == octave]
        if pictures is None:
            lines = [(steps, COLORS[k % len(COLORS)])]
        else:
            lines = [([(s, v[p]) for s, v in steps], COLORS[p % len(COLORS)]) for p in range(pictures)]
        _panel(draw, font, k * PANEL[0], 16, lines, f"octave {octave + 1}")
    return img


def _panel(draw, font, x0, y0, lines, label):
    """One octave's panel: lines, a list of (points [(step, value)], colour), on one vertical range."""
    left, top, right, bottom = MARGIN
    x1, y1 = x0 + PANEL[0] - right, y0 + PANEL[1] - bottom
    x0, ytop = x0 + left, y0 + top
    draw.rectangle((x0, ytop, x1, y1), outline=(0, 0, 0))
    steps = [s for points, _ in lines for s, _ in points]
    values = [v for points, _ in lines for _, v in points]
    lo, hi = min(values), max(values)
    span = (hi - lo) or abs(hi) or 1.0
    last = max(max(steps), 1)

    def at(step, value):
        return (x0 + (x1 - x0) * step / last, y1 - (y1 - ytop) * (value - lo) / span)

    for points, color in lines:
        xy = [at(s, v) for s, v in points]
        if len(xy) > 1:
            draw.line(xy, fill=color, width=2)
        for px, py in xy:
            draw.ellipse((px - 2, py - 2, px + 2, py + 2), fill=color)
    draw.text((x0 - left + 2, ytop - 2), f"{hi:.3g}", fill=(0, 0, 0), font=font)
    draw.text((x0 - left + 2, y1 - 10), f"{lo:.3g}", fill=(0, 0, 0), font=font)
    draw.text((x0 + 4, y1 + 4), f"{label}: steps 0..{max(steps)}", fill=(0, 0, 0), font=font)
