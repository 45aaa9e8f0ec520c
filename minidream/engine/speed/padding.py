"""Writing an array into a larger one with a constant border, each element written once: np.pad, or np.zeros and a
copy, write the inside twice, and np.zeros clears the whole array while holding the GIL another worker may need.
Winograd's input phases, the shifted rows' padded copies (and their dy on the padded width) and the pools' column
phases (a border of -inf for max pooling) are made this way."""


def place(x, out, top, left, fill=0):
    """out[..., top:top + H, left:left + W] = x (H, W its last two axes) and `fill` in the rest of out's last two
    axes; returns out."""
    bottom, right = top + x.shape[-2], left + x.shape[-1]
    out[..., :top, :] = fill
    out[..., bottom:, :] = fill
    out[..., top:bottom, :left] = fill
    out[..., top:bottom, right:] = fill
    out[..., top:bottom, left:right] = x
    return out
