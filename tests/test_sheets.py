import numpy as np
import pytest
from PIL import Image

from minidream.io.contact_sheets import contact_sheet


def test_grid_layout_scaling_and_captions():
    red = np.zeros((10, 20, 3), np.uint8)
    red[..., 0] = 255
    images = [red, Image.new("L", (30, 30), 255), red, red, red]
    sheet = contact_sheet(images, ["a", "b", "c", "d", "a much longer label than fits\nsecond line"], columns=2,
                          cell_size=40)
    assert sheet.mode == "RGB" and sheet.width == 2 * 48
    rows = 3
    cell_h = sheet.height // rows
    assert sheet.height == rows * cell_h and cell_h > 48  # captions below the 40 px images
    # The first image (2:1) is scaled to 40x20, centred in its 40x40 cell.
    pixels = np.asarray(sheet)
    assert tuple(pixels[4 + 20, 4 + 20]) == (255, 0, 0) and tuple(pixels[4 + 5, 4 + 20]) == (255, 255, 255)
    # Text is drawn under each cell, in the caption band only.
    caption = pixels[4 + 40:cell_h - 4, 4:44]
    assert (caption < 128).any()


def test_no_labels_means_no_caption_band():
    sheet = contact_sheet([np.zeros((8, 8, 3), np.uint8)] * 3, cell_size=(16, 8))
    assert sheet.size == (3 * 24, 16)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least one image"):
        contact_sheet([])
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        contact_sheet([np.zeros((4, 4, 3), np.uint8)] * 2, ["x"])
    with pytest.raises(ValueError, match="uint8"):
        contact_sheet([np.zeros((4, 4, 3))])
