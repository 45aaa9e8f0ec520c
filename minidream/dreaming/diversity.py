"""Diversity: a batch of pictures pushed apart in Gram-matrix space (Lucid's `objectives.diversity`; Olah et al.,
"Feature Visualization", Distill 2017, "Diversity").

For picture n of a batch of K, its activation A_n (C, P) at the layer (P positions) gives a Gram matrix
G_n = A_n A_n^T (C, C), the channels' co-activation: a style, whatever the positions. With u_n = G_n / |G_n|
(Frobenius norm),

    value = -weight * mean_{n != m} u_n . u_m                      (minus the mean pairwise cosine similarity)

so the ascent lowers the similarity of every pair. Its gradient, with S = sum_n u_n and c = -2 weight / (K (K-1)):

    d value / d u_n = c (S - u_n)
    d value / d G_n = (d u_n - (u_n . d u_n) u_n) / |G_n|          (the normalization's Jacobian)
    d value / d A_n = (D + D^T) A_n,  D = d value / d G_n          (D is symmetric here: 2 D A_n)

A dream weighs each unit by its share of the image (minidream.dreaming.image_region, weights w_p over positions):
then G_n = A_n diag(w) A_n^T and d value / d A_n = (D + D^T) A_n diag(w).

Lucid adds it to a channel objective as `-1e2 * diversity(layer)`, its value the sum over ordered pairs divided by
K; here it is the mean over pairs, so `weight` does not grow with the batch. A Gram matrix of zeros (a dead layer)
has no direction: its gradient is zero.
"""
from minidream.dreaming.objective_base import _Leaf, _weights
from minidream.engine.backend import get_array_module

TINY = 1e-20  # |G|^2 below this counts as zero (Lucid's l2_normalize epsilon, squared)


class Diversity(_Leaf):
    """-weight times the mean pairwise cosine similarity of a batch's Gram matrices at `layer` (module doc).

    It compares the pictures of a batch, so it needs at least two (dream(None, batch=K, ...) with K >= 2); it reads
    every position of a picture at once, so a picture must fit in one window (no tiles: reduction None).
    """

    reduction = None

    def __init__(self, layer=None, weight=1.0):
        super().__init__(layer)
        self.weight = float(weight)

    def __call__(self, acts, weights=None):
        """weights: {layer: the units' weights (H, W)} or None (every unit counts 1)."""
        a = acts[self.layer]
        k = a.shape[0]
        if k < 2:
            raise ValueError(f"{self!r} pushes the pictures of a batch apart, so it needs at least 2 pictures, got 1: "
                             "dream(None, batch=K, ...) with K >= 2 (--batch K)")
        xp = get_array_module(a)
        flat = a.reshape(k, a.shape[1], -1)  # (K, C, P)
        w = _weights(a, weights, self.layer)  # 1.0, or the weights shaped (1, 1, H, W)
        weighed = flat * xp.asarray(w, dtype=a.dtype).reshape(1, 1, -1)
        grams = xp.matmul(weighed, flat.transpose(0, 2, 1)).reshape(k, -1)  # (K, C*C)
        norms = xp.sqrt(xp.maximum((grams * grams).sum(axis=1, keepdims=True), TINY))
        u = grams / norms
        total = u.sum(axis=0, keepdims=True)
        pairs = k * (k - 1)
        similarity = float(((total * total).sum() - (u * u).sum()) / pairs)
        du = (-2.0 * self.weight / pairs) * (total - u)
        dgram = (du - (u * du).sum(axis=1, keepdims=True) * u) / norms
        dgram = dgram.reshape(k, a.shape[1], a.shape[1])
        da = xp.matmul(dgram + dgram.transpose(0, 2, 1), weighed).reshape(a.shape)
        return -self.weight * similarity, {self.layer: da.astype(a.dtype, copy=False)}

    def to_data(self):
        return {"type": "Diversity", "layer": self.layer, "weight": self.weight}

    @classmethod
    def from_data(cls, data):
        return cls(data["layer"], data.get("weight", 1.0))

    def __repr__(self):
        return f"Diversity({self.layer!r}, weight={self.weight:g})"
