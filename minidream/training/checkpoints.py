"""Training checkpoints that a run can resume from, bit for bit.

After every epoch ``train`` writes MODEL.h5 (the network, minidream.formats.h5format, unchanged layout) with
the run's state in ``meta["extra"]``:

    extra["options"]   the options the run was started with (a resumed run must use the same)
    extra["history"]   one dict per epoch (minidream.training.loop.Result)
    extra["resume"]    {"epoch": epochs done, "optimizer_steps": steps taken,
                        "rng_states": {"shuffle"|"augment"|"dropout": numpy bit_generator.state}}

and beside it MODEL.optimizer.npz, the optimizer's ``state_dict()`` (velocities, running averages;
minidream.training.optimizers). The step count is in both files, so a
pair from different epochs (a crash between the two writes) is refused instead of resumed wrongly.
"""
import os

import numpy as np

from minidream.engine.backend import to_device
from minidream.formats import h5format
from minidream.io.files import atomic_path
from minidream.models.loading import save_model


def optimizer_path(output):
    """MODEL.optimizer.npz for checkpoint MODEL.h5."""
    return os.path.splitext(os.fspath(output))[0] + ".optimizer.npz"


def save_checkpoint(output, net, state):
    """Record the run's state (a minidream.training.loop.FitState) in net.meta["extra"]; when ``output``
    is a path, write the model and the optimizer state there."""
    net.meta["extra"] = dict(net.meta.get("extra", {}), history=state.history, resume={
        "epoch": state.epoch, "optimizer_steps": state.solver.t,
        "rng_states": {name: rng.bit_generator.state for name, rng in state.rngs.items()}})
    if not output:
        return
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with atomic_path(optimizer_path(output)) as tmp, open(tmp, "wb") as f:
        np.savez(f, **state.solver.state_dict())
    save_model(net, output)


def load_checkpoint(path, net, state, options):
    """Load checkpoint ``path`` into ``net`` (weights) and ``state`` (epoch, history, optimizer,
    generators), after checking it was trained with the same ``options`` and classes."""
    _, blobs, meta = h5format.load(path)
    extra = meta.get("extra", {})
    if "resume" not in extra:
        raise ValueError(f"{path} holds no training state to resume from (it was not written by "
                         "`minidream train`); start a new run without --resume")
    saved = extra.get("options", {})
    differs = sorted(k for k in options if saved.get(k) != options[k])
    if differs:
        raise ValueError(f"{path} was trained with {', '.join(f'{k}={saved.get(k)!r}' for k in differs)}, this run "
                         f"has {', '.join(f'{k}={options[k]!r}' for k in differs)}; resume with the same options")
    if meta.get("class_names") != net.meta.get("class_names"):
        raise ValueError(f"{path} was trained on the classes {meta.get('class_names')}, this data set has "
                         f"{net.meta.get('class_names')}; resume on the same data")
    for name, arrays in net.params.items():
        for target, blob in zip(arrays, blobs[name]):
            target[...] = to_device(blob.reshape(target.shape), net.device)
    if not os.path.exists(optimizer_path(path)):
        raise FileNotFoundError(f"{optimizer_path(path)} (the optimizer state saved beside {path}) is missing; "
                                "it is needed to resume")
    with np.load(optimizer_path(path)) as saved_state:
        state.solver.load_state_dict(dict(saved_state))
    resume = extra["resume"]
    if state.solver.t != resume["optimizer_steps"]:
        raise ValueError(f"{optimizer_path(path)} is from another epoch than {path} (step {state.solver.t} vs "
                         f"{resume['optimizer_steps']}); resume from a checkpoint whose two files were written "
                         "together")
    state.epoch, state.history = resume["epoch"], list(extra.get("history", []))
    for name, rng in state.rngs.items():
        rng.bit_generator.state = resume["rng_states"][name]
