"""Optical flow between video frames, warping along it, and the occlusion test (OpenCV).

A flow from frame A to frame B is an (H, W, 2) float32 array of (dx, dy) per pixel of A
such that A(x, y) ~ B(x + dx, y + dy). So warp(B_thing, flow(A, B)) brings something that
lives on frame B's grid onto A's grid; the video code warps the previous frame's dream
detail onto the current frame with warp(detail_prev, flow(current, previous)).

Occlusions (pixels of A that B does not show) are found by forward-backward consistency
(Sundaram, Brox & Keutzer, ECCV 2010, eq. 5; used for video style transfer by Ruder et
al. 2016): following the flow A->B and then B->A should come back to the start, so
with w = flow_ab(p) and w' = flow_ba(p + w),

    |w + w'|^2 > 0.01 (|w|^2 + |w'|^2) + 0.5        marks p as occluded.
"""
import numpy as np

METHODS = ("dis", "farneback")


def _cv2():
    try:
        import cv2
    except ImportError:
        raise ImportError("video needs OpenCV: pip install 'minidream[video]' "
                          "(or opencv-python-headless)") from None
    return cv2


def _gray(rgb):
    cv2 = _cv2()
    return cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)


def optical_flow(a, b, method="dis"):
    """Dense flow (H, W, 2) float32 from RGB uint8 frame a to frame b (see the module doc).

    method: "dis" (OpenCV's DIS, medium preset: fast and good on texture) or "farneback"
    (Farnebäck's polynomial expansion: pyramid of 3 levels, 15-pixel windows).
    """
    cv2 = _cv2()
    ga, gb = _gray(a), _gray(b)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return dis.calc(ga, gb, None)
    if method == "farneback":
        return cv2.calcOpticalFlowFarneback(ga, gb, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                            poly_n=5, poly_sigma=1.2, flags=0)
    raise ValueError(f"unknown optical flow method {method!r}: use one of {', '.join(METHODS)}")


def warp(image, flow):
    """image (H, W[, C]) sampled at p + flow(p), bilinearly; float32; edges repeat outward."""
    cv2 = _cv2()
    h, w = flow.shape[:2]
    xx, yy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(np.asarray(image, np.float32), xx + flow[..., 0], yy + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def consistent(flow_ab, flow_ba):
    """Boolean (H, W): True where the forward-backward test finds no occlusion (module doc)."""
    back = warp(flow_ba, flow_ab)  # w'(p + w(p))
    h, w = flow_ab.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((xx + flow_ab[..., 0] >= 0) & (xx + flow_ab[..., 0] <= w - 1)
              & (yy + flow_ab[..., 1] >= 0) & (yy + flow_ab[..., 1] <= h - 1))
    loop = np.sum((flow_ab + back) ** 2, axis=-1)
    bound = 0.01 * (np.sum(flow_ab ** 2, axis=-1) + np.sum(back ** 2, axis=-1)) + 0.5
    return inside & (loop <= bound)


def carry_detail(prev_input, prev_output, current, blend, method="dis"):
    """The current frame with blend x the previous frame's dream detail warped onto it.

    detail = prev_output - prev_input (float), warped along flow(current, prev_input);
    occluded pixels (and those whose source lies outside the frame) carry nothing. The
    carried detail is made zero-mean per channel over the pixels that carry it, so the
    detail cannot add up to a brightness drift over many frames: every frame's own
    dreaming adds its brightness change once, and the carry-over adds none.
    Returns (start image, RGB uint8 (H, W, 3); fraction of pixels that carried detail).
    """
    flow_cp = optical_flow(current, prev_input, method)
    flow_pc = optical_flow(prev_input, current, method)
    valid = consistent(flow_cp, flow_pc)
    detail = warp(prev_output.astype(np.float32) - prev_input.astype(np.float32), flow_cp)
    if valid.any():
        detail[valid] -= detail[valid].mean(axis=0)
    detail[~valid] = 0.0
    start = current.astype(np.float32) + np.float32(blend) * detail
    return np.clip(np.rint(start), 0, 255).astype(np.uint8), float(valid.mean())
