import numpy as np
import pytest
from PIL import Image

from minidream.dreaming.atlas import atlas
from minidream.io.contact_sheets import BACKGROUND, PADDING, contact_sheet


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
    # The first image (2:1) is scaled to 40x20 and rests on its caption: rows 20..39 of the 40x40 image area.
    pixels = np.asarray(sheet)
    assert tuple(pixels[4 + 20, 4 + 20]) == (255, 0, 0) and tuple(pixels[4 + 39, 4 + 20]) == (255, 0, 0)
    assert tuple(pixels[4 + 19, 4 + 20]) == (255, 255, 255)
    # Text is drawn under each cell, in the caption band only.
    caption = pixels[4 + 40:cell_h - 4, 4:44]
    assert (caption < 128).any()


def test_no_labels_means_no_caption_band():
    sheet = contact_sheet([np.zeros((8, 8, 3), np.uint8)] * 3, cell_size=(16, 8))
    assert sheet.size == (3 * 24, 16)


def _gap_over_the_caption(cell):
    """Blank rows between a cell's picture and its caption's text: from the bottom, past the padding and the
    text, the rows of background until the picture. (Captions with no i or j, whose dots would end the text.)"""
    blank = (cell == BACKGROUND).all(axis=(1, 2))
    row = len(blank) - 1
    while blank[row]:
        row -= 1
    while not blank[row]:
        row -= 1
    gap = 0
    while blank[row - gap]:
        gap += 1
    return gap


def test_landscape_pictures_in_square_cells_rest_on_their_captions():
    landscape = np.full((30, 60, 3), (200, 0, 0), np.uint8)
    sheet = np.asarray(contact_sheet([landscape] * 3, ["conv1", "conv2", "conv5"], cell_size=128))
    assert sheet.shape[0] < 128  # the image area is as tall as the 128x64 pictures, not the square cell
    for k in range(3):
        assert _gap_over_the_caption(sheet[:, k * (128 + 2 * PADDING):(k + 1) * (128 + 2 * PADDING)]) <= 4


def test_pictures_of_different_heights_rest_on_their_captions_and_empty_cells_stay_blank():
    tall, wide = np.full((40, 20, 3), 90, np.uint8), np.full((10, 40, 3), 90, np.uint8)
    sheet = np.asarray(contact_sheet([tall, wide, None], ["tall", "wide", ""], cell_size=40))
    cell_w = 40 + 2 * PADDING
    assert sheet.shape[0] > 40 + 2 * PADDING  # the tall picture sets the area's height
    for k in range(2):
        assert _gap_over_the_caption(sheet[:, k * cell_w:(k + 1) * cell_w]) <= 4
    assert (sheet[:, 2 * cell_w:] == BACKGROUND).all()


def test_an_atlas_sheet_has_no_band_between_a_picture_and_its_layer_name():
    photo = np.random.default_rng(0).integers(0, 256, (48, 96, 3), dtype=np.uint8)  # landscape, as most photos
    sheet = np.asarray(atlas(photo, "mini", ["conv1", "conv2"], cell_size=96, steps=1, octaves=1, seed=0,
                             progress=False))
    cell_w = 96 + 2 * PADDING
    assert sheet.shape[1] == 2 * cell_w and sheet.shape[0] < 96
    for k in range(2):
        assert _gap_over_the_caption(sheet[:, k * cell_w:(k + 1) * cell_w]) <= 4


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least one image"):
        contact_sheet([])
    with pytest.raises(ValueError, match="2 images but 1 labels"):
        contact_sheet([np.zeros((4, 4, 3), np.uint8)] * 2, ["x"])
    with pytest.raises(ValueError, match="uint8"):
        contact_sheet([np.zeros((4, 4, 3))])
