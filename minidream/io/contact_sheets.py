"""Contact sheets: a grid of images with a caption under each cell, drawn with Pillow only.

Used for the augmentation preview, the curate report and the dream atlas.

    sheet = contact_sheet([img1, img2, img3], ["original", "rotate", "zoom"], columns=3, cell_size=128)
    sheet.save("sheet.png")
"""
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PADDING = 4
BACKGROUND = (255, 255, 255)
TEXT = (20, 20, 20)


def default_font():
    """Pillow's built-in font (a scalable one when Pillow has FreeType, else the bitmap one)."""
    try:
        return ImageFont.load_default(size=11)
    except TypeError:  # Pillow < 10.1 has only the fixed-size bitmap font
        return ImageFont.load_default()


def _as_image(image):
    """A PIL RGB image from a PIL image (any mode) or a uint8 (H, W) / (H, W, 3|4) array; None stays None."""
    if image is None:
        return None
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"contact_sheet takes uint8 arrays or PIL images, got an array of {array.dtype}")
    return Image.fromarray(array).convert("RGB")


def _fit(image, width, height):
    """image scaled to fit (width, height), aspect kept; small images grow with NEAREST so pixels stay visible."""
    scale = min(width / image.width, height / image.height)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.NEAREST if scale >= 1 else Image.BILINEAR)


def _shorten(draw, text, font, width):
    """text cut (with an ellipsis) to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def contact_sheet(images, labels=None, columns=None, cell_size=128):
    """A grid of ``images`` with ``labels[i]`` (one or more lines) under cell i, as a PIL RGB image.

    images: PIL images or uint8 arrays (H, W[, 3|4]), each scaled to fit its cell; None leaves a cell empty.
    labels: one string per image ("\\n" separates lines; long lines are shortened), or None.
    columns: cells per row (default: all in one row).
    cell_size: the largest image area of a cell, an int (square) or (width, height) in pixels. Each image is
        scaled to fit it, and the area is then only as tall as the tallest fitted image, each picture resting on
        its caption: landscape pictures in square cells would otherwise leave a blank band over each caption.
    """
    images = [_as_image(im) for im in images]
    if not any(image is not None for image in images):
        raise ValueError("contact_sheet needs at least one image")
    labels = [""] * len(images) if labels is None else [str(t) for t in labels]
    if len(labels) != len(images):
        raise ValueError(f"contact_sheet got {len(images)} images but {len(labels)} labels")
    width, height = (cell_size, cell_size) if np.isscalar(cell_size) else tuple(cell_size)
    fitted = [None if image is None else _fit(image, width, height) for image in images]
    height = max(image.height for image in fitted if image is not None)
    columns = len(images) if columns is None else max(1, min(int(columns), len(images)))
    rows = -(-len(images) // columns)
    font = default_font()
    line_height = font.getbbox("Ag")[3] + 2
    caption = line_height * max(len(t.split("\n")) for t in labels) if any(labels) else 0
    cell_w, cell_h = width + 2 * PADDING, height + caption + 2 * PADDING
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    for i, (image, label) in enumerate(zip(fitted, labels)):
        x0, y0 = (i % columns) * cell_w + PADDING, (i // columns) * cell_h + PADDING
        if image is not None:
            sheet.paste(image, (x0 + (width - image.width) // 2, y0 + height - image.height))
        for k, line in enumerate(label.split("\n") if label else []):
            draw.text((x0, y0 + height + k * line_height), _shorten(draw, line, font, width), fill=TEXT, font=font)
    return sheet
