"""Writing an array into a larger one whose border is zero, each element written once: np.pad, or np.zeros and a
copy, write the inside twice, and np.zeros clears the whole array while holding the GIL another worker may need.
Winograd's input phases and the shifted rows' padded copies (and their dy on the padded width) are made this way."""


def place(x, out, top, left):
    """out[..., top:top + H, left:left + W] = x (H, W its last two axes) and zeros in the rest of out's last two
    axes; returns out."""
    bottom, right = top + x.shape[-2], left + x.shape[-1]
    out[..., :top, :] = 0
    out[..., bottom:, :] = 0
    out[..., top:bottom, :left] = 0
    out[..., top:bottom, right:] = 0
    out[..., top:bottom, left:right] = x
    return out
