"""Batches: K pictures dreamed from noise in one batched forward and backward per step (dream(None, batch=K)):
their objective, noise seeds and recipes here; the loop is the parameterization's own, run by
minidream.dreaming.deepdream.dream_batch.

    dream(None, batch=4, objective=Channel("conv5", 3) + Diversity("conv5", 0.5), size=(64, 64))  # 4 diverse
    dream(None, batch=8, objective=[Channel("conv5", c) for c in range(8)], size=(64, 64))       # 8 channels

Picture k gets objective k (one objective: every picture gets it), measured on its own activations only
(PerPicture: the net's batch axis is the pictures'). Terms that compare the pictures (Diversity) read the whole
batch. The pictures share one random stream for the step's transformations (jitter shift, tile offsets, the
Fourier path's scale and rotation): the stream of dream(None, seed=seed), which first draws picture 0's noise.
Picture k > 0 starts from the noise of seed + k (its recipe's noise_seed), so

    picture k of dream(None, batch=K, seed=s)  ~  dream(None, seed=s, noise_seed=s + k)   (noise_seed: none for k=0)

and its recipe says exactly that: dream(recipe=picture.info["minidream"]) remakes it alone. On the CPU the remake
is bit-identical (measured for mini, pixel and fft: the engine gives each picture of a batch exactly what a batch
of one gives, docs/speed.md; tests/test_batch_dream.py pins it); an engine whose GEMMs add a batch in another
order (a GPU's) may give a remake that is only close.
A picture whose batch has a term comparing the pictures depends on its batchmates; its recipe also holds the
batch ("batch": the batch's objective, noise seeds and the picture's index), and dream(recipe=...) dreams the
whole batch again to make it.

history gets (octave, step, values) per step with values a list of K floats: picture k's own objective on picture
k; a term comparing the pictures (Diversity) is the batch's, not a picture's, and is not in them.
"""
from minidream.dreaming.diversity import Diversity
from minidream.dreaming.objective_base import Objective, Sum, _terms, from_data
from minidream.engine.backend import get_array_module
from minidream.engine.graph import FixedBatchError


class PerPicture(Objective):
    """Objective k on picture k of a batch (acts[layer][k:k+1]), plus `shared` on the whole batch; the value is
    their sum. After each call, `picture_values` holds each picture's own value (shared excluded). Large pictures go
    in tiles, each picture's objective taking its part of each tile (Objective.on_tile), where the objectives
    allow it (a term comparing the pictures needs them whole)."""

    def __init__(self, objectives, shared=None):
        self.objectives, self.shared = list(objectives), shared
        self.picture_values = [0.0] * len(self.objectives)

    def bind(self, net):
        bound = PerPicture([o.bind(net) for o in self.objectives], None if self.shared is None
                           else self.shared.bind(net))
        if bound.shared is not None and len(bound.objectives) < 2:
            raise ValueError(f"{bound.shared!r} compares the pictures of a batch: it needs a batch of at least 2 "
                             "(batch=K, --batch K)")
        return bound

    @property
    def layers(self):
        parts = self.objectives + ([self.shared] if self.shared is not None else [])
        return tuple(dict.fromkeys(layer for part in parts for layer in part.layers))

    def leaves(self):
        parts = self.objectives + ([self.shared] if self.shared is not None else [])
        return [leaf for part in parts for leaf in part.leaves()]

    def __call__(self, acts, weights=None):
        return self._combine(acts, lambda objective, part: objective(part, weights))

    def on_tile(self, acts, weights, shares):
        return self._combine(acts, lambda objective, part: objective.on_tile(part, weights, shares))

    def _combine(self, acts, value_of):
        """(value, gradients) of the batch, value_of(objective, acts) giving each part's (the units' weights and a
        tile's shares are the same for every picture)."""
        if len(next(iter(acts.values()))) != len(self.objectives):
            raise ValueError(f"a batch of {len(next(iter(acts.values())))} pictures for {len(self.objectives)} "
                             "objectives")
        grads, values = {}, []
        for k, objective in enumerate(self.objectives):
            v, g = value_of(objective, {layer: acts[layer][k:k + 1] for layer in objective.layers})
            values.append(float(v))
            for layer, d in g.items():
                grads.setdefault(layer, get_array_module(d).zeros_like(acts[layer]))[k:k + 1] += d
        value = sum(values)
        if self.shared is not None:
            v, g = value_of(self.shared, acts)
            value += v
            for layer, d in g.items():
                grads[layer] = grads[layer] + d if layer in grads else d
        self.picture_values = values
        return value, grads

    def to_data(self):
        data = [o.to_data() for o in self.objectives]
        shared = None if self.shared is None else self.shared.to_data()
        if any(d is None for d in data) or (self.shared is not None and shared is None):
            return None
        return {"type": "PerPicture", "objectives": data, "shared": shared}

    @classmethod
    def from_data(cls, data):
        shared = data.get("shared")
        return cls([from_data(d) for d in data["objectives"]], None if shared is None else from_data(shared))

    def __repr__(self):
        shared = "" if self.shared is None else f", shared={self.shared!r}"
        return f"PerPicture({self.objectives!r}{shared})"


def comparing(objective):
    """Whether an objective compares the pictures of a batch (Diversity, or a sum holding one)."""
    return any(_compares(leaf) for _, leaf in _terms(objective))


def _compares(leaf):
    return isinstance(leaf, Diversity)


def reported(objective, value):
    """What history records for a step: the value, or a batch's list of each picture's own value (PerPicture)."""
    values = getattr(objective, "picture_values", None)
    return value if values is None else list(values)


def split(objective, count):
    """PerPicture for dream(None, batch=count, objective=...): a list of count objectives, or one objective for
    every picture, its terms that compare the pictures (Diversity) taken out to read the whole batch."""
    if isinstance(objective, (list, tuple)):
        if len(objective) != count:
            raise ValueError(f"batch={count} but {len(objective)} objectives: give one per picture, or one for all")
        if any(comparing(o) for o in objective):
            raise ValueError("a list gives each picture its own objective; a term comparing the pictures "
                             "(Diversity) reads the whole batch: give one objective for all, Channel(...) + "
                             "Diversity(...)")
        return PerPicture(objective)
    own = [(w, leaf) for w, leaf in _terms(objective) if not _compares(leaf)]
    batch = [(w, leaf) for w, leaf in _terms(objective) if _compares(leaf)]
    if not own:
        raise ValueError(f"{objective!r} only compares the pictures: add what each picture should show, "
                         "e.g. Channel(layer, c) + Diversity(layer)")
    picture = own[0][1] if len(own) == 1 and own[0][0] == 1.0 else Sum(own)
    shared = None if not batch else batch[0][1] if len(batch) == 1 and batch[0][0] == 1.0 else Sum(batch)
    return PerPicture([picture] * count, shared)


def batch_refusal(net, layers, count=2):
    """None when net walks a batch of `count` pictures up to the layers, else the FixedBatchError that says which
    layer takes one picture at a time (an ONNX export that reshapes to a batch of 1)."""
    try:
        for layer in layers:
            net.output_shape(layer, batch=count)
    except FixedBatchError as exc:
        return exc
    return None


def noise_seeds(seed, count):
    """Each picture's noise_seed: None for picture 0 (the seed's own noise), seed + k for picture k."""
    return [None] + [int(seed) + k for k in range(1, count)]


def picture_recipes(template, bound, seeds):
    """Each picture's recipe: template (a dream recipe with the batch's seed and settings) with the picture's own
    objective, noise_seed and, where its batch compares the pictures, the batch (module doc). bound: PerPicture."""
    recipes = []
    for k, picture in enumerate(bound.objectives):
        recipe = dict(template, objective=repr(picture), objective_data=picture.to_data())
        recipe.pop("layer", None)
        recipe.pop("noise_seed", None)
        if len(picture.layers) == 1:
            recipe["layer"] = picture.layers[0]
        if seeds[k] is not None:
            recipe["noise_seed"] = int(seeds[k])
        if bound.shared is not None:
            recipe["objective"] = f"{picture!r} + {bound.shared!r} (picture {k} of a batch of {len(seeds)})"
            recipe["batch"] = {"index": k, "noise_seeds": list(seeds), "objective_data": bound.to_data()}
        recipes.append(recipe)
    return recipes
