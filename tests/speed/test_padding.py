"""padding.place: x written into a larger array, its border zeroed, whatever the array held before."""
import numpy as np
import pytest

from minidream.engine.speed.padding import place


@pytest.mark.parametrize("top, left, bottom, right", [(2, 3, 1, 0), (0, 0, 0, 0), (0, 0, 4, 5), (3, 1, 0, 2)])
def test_place_is_np_pad_into_a_used_array(top, left, bottom, right):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    out = np.full((2, 3, 4 + top + bottom, 5 + left + right), np.nan)  # what the array held before must not show
    assert place(x, out, top, left) is out
    np.testing.assert_array_equal(out, np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right))))
