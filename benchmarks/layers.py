"""Per-layer times of this checkout against another, measured in turns: the before/after tables of a change.

    git worktree add ../before <commit>
    python -m benchmarks.layers --before ../before               # GoogLeNet and AlexNet at 640x480, 5 rounds
    python -m benchmarks.layers --before ../before --nets resnet50 --rounds 7 --json layers.json

Each round runs one per-layer walk of each checkout (benchmarks.cases.per_layer: forward to the case's layer and
the backward to the input, the median of --repeats steps after one) in a fresh process, the two in turns, the
side that goes first alternating. A layer's figures are the medians over the rounds; its ratio is the median
of each round's now / before, so a spell in which the machine slows both sides counts against one round only.
Comparing a suite run with an older run's JSON (`python -m benchmarks --baseline`) compares two different hours
of a shared machine, which moved whole walks by ±20% here (docs/speed.md, round 7); in turns they move together.

The other checkout needs benchmarks/cases.py's per_layer and minidream.tune_cpu (every checkout since the speed
work began has both). Layers are matched by name: where the two sides group layers differently (one folds a
convolution's BatchNorm and Scale into it, the other runs them apart) the groups share one row, compared as sums;
a layer only one side has gets a dash on the other. A by-kind table (convolution, pooling, LRN, ...) comes first.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

from benchmarks.cases import CASES
from benchmarks.json_output import check_json_path, write_json
from minidream.models.random_weights import random_model

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Runs inside the checkout being measured (cwd and PYTHONPATH), so it may only use what every checkout has.
_CHILD = """
import json, os, sys
cpus = sorted(os.sched_getaffinity(0))
k = int(os.environ.get("BENCH_THREADS") or len(cpus))
os.sched_setaffinity(0, cpus[:k])
import minidream
minidream.tune_cpu()
from benchmarks.cases import per_layer
name, end, h, w, repeats = sys.argv[1:]
print(json.dumps(per_layer(name, end, (int(h), int(w)), repeats=int(repeats))))
"""


def walk(tree, name, end, size, repeats):
    """{label: [forward ms, backward ms]} of one per-layer walk of the checkout at `tree`, in a fresh process."""
    env = dict(os.environ, PYTHONPATH=tree)
    cmd = [sys.executable, "-c", _CHILD, name, end, str(size[0]), str(size[1]), str(repeats)]
    out = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"the per-layer walk of {name} in {tree} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_turns(trees, name, end, size, repeats, rounds):
    """{side: [walk per round]} for trees {side: path}; the side that goes first alternates between rounds."""
    sides = list(trees)
    walks = {side: [] for side in sides}
    for r in range(rounds):
        for side in (sides if r % 2 == 0 else sides[::-1]):
            walks[side].append(walk(trees[side], name, end, size, repeats))
            print(f"  {name} round {r + 1}/{rounds} {side}: "
                  f"{sum(map(sum, walks[side][-1].values())):.0f} ms", file=sys.stderr)
    return walks


FUSED = " + "  # how the Net's hooks label layers that run as one (a convolution with its BatchNorm and Scale)


def _times(walk, labels):
    """(forward ms, backward ms) summed over `labels` in one walk ("total": the whole walk); None where the walk
    lacks one of them."""
    if labels == "total":
        return sum(f for f, _ in walk.values()), sum(b for _, b in walk.values())
    if not all(label in walk for label in labels):
        return None
    return sum(walk[label][0] for label in labels), sum(walk[label][1] for label in labels)


def _groups(before_labels, now_labels):
    """[(before labels, now labels)] that hold the same layers: a label joins every label of either side that
    shares a layer with it, so a group one side runs as one (a convolution with its BatchNorm and Scale, sibling
    1x1 convolutions stacked into one product) is compared with its parts, or another grouping, on the other side.
    In the now side's order, then what only the before side has."""
    owner = {}  # layer name -> its group's index; groups merge when a label spans two of them
    groups = []
    for side, labels in ((1, now_labels), (0, before_labels)):
        for label in labels:
            hit = sorted({owner[name] for name in label.split(FUSED) if name in owner})
            index = hit[0] if hit else len(groups)
            if not hit:
                groups.append([[], []])
            target = groups[index]
            for other in hit[1:]:
                target[0] += groups[other][0]
                target[1] += groups[other][1]
                groups[other] = None
            target[side].append(label)
            for member in target[0] + target[1]:
                for name in member.split(FUSED):
                    owner[name] = index
    return [tuple(group) for group in groups if group is not None]


def summary(before, now):
    """Rows (label, before (fwd, bwd) or None, now (fwd, bwd) or None, ratio or None) from the two sides' walks,
    round by round, ending with a "total" row over the whole walk. Layers the two sides group differently share a
    row (_groups), labelled by the now side's labels. Medians over the rounds; the ratio is the median of each
    round's now / before of the forward plus backward."""
    def medians(walks, labels):
        pairs = [t for t in (_times(w, labels) for w in walks) if t] if labels else []
        return tuple(float(np.median([p[i] for p in pairs])) for i in (0, 1)) if pairs else None

    def row(label, old_labels, new_labels):
        pairs = [(_times(b, old_labels), _times(n, new_labels)) for b, n in zip(before, now)] if (
            old_labels and new_labels) else []
        per_round = [sum(n) / sum(b) for b, n in pairs if b and n and sum(b)]
        return (label, medians(before, old_labels), medians(now, new_labels),
                float(np.median(per_round)) if per_round else None)

    rows = [row(FUSED.join(new_labels or old_labels), old_labels, new_labels)
            for old_labels, new_labels in _groups(list(before[0]), list(now[0]))]
    return rows + [row("total", "total", "total")]


def by_kind(before, now, types):
    """summary() with the layers summed by kind: types {layer name: Caffe type}; a group of layers (_groups) counts
    as the kind of its first layer (a convolution with its BatchNorm and Scale: Convolution, on both sides)."""
    groups = _groups(list(before[0]), list(now[0]))

    def kinds(walk, side):
        totals = {}
        for group in groups:
            times = _times(walk, group[side]) if group[side] else None
            if times:
                first = (group[1] or group[0])[0].split(FUSED)[0]
                kind = totals.setdefault(types.get(first, "other"), [0.0, 0.0])
                kind[0], kind[1] = kind[0] + times[0], kind[1] + times[1]
        return totals

    return summary([kinds(w, 0) for w in before], [kinds(w, 1) for w in now])


def layer_types(name):
    """{layer name: Caffe type} of a benchmark case's network."""
    return {spec["name"]: spec["type"] for spec in random_model(name).specs}


def markdown(title, rows, rounds, what="layer"):
    def cells(pair):
        return f"{pair[0]:.1f} | {pair[1]:.1f}" if pair else "– | –"
    lines = [f"Per {what}, {title} (ms, medians of {rounds} round{'s' * (rounds != 1)} in turns; ratio: median of "
             "each round's now / before, forward + backward):", "",
             f"| {what} | before fwd | before bwd | now fwd | now bwd | ratio |", "|---|---|---|---|---|---|"]
    for label, old, new, r in rows:
        lines.append(f"| {label} | {cells(old)} | {cells(new)} | {f'{r:.2f}' if r is not None else '–'} |")
    return "\n".join(lines)


def tables(title, name, walks):
    """The by-kind table, then the per-layer table, of one case's walks {"before": [...], "now": [...]}."""
    rounds = len(walks["now"])
    return "\n\n".join([markdown(title, by_kind(walks["before"], walks["now"], layer_types(name)), rounds, "kind"),
                        markdown(title, summary(walks["before"], walks["now"]), rounds)])


def checked_checkout(parser, folder):
    """The absolute path of --before, or a parser error when it holds no checkout of this project."""
    if not os.path.isfile(os.path.join(folder, "benchmarks", "cases.py")):
        parser.error(f"--before {folder}: no benchmarks/cases.py there; give a checkout of this project "
                     "(git worktree add ../before <commit>)")
    return os.path.abspath(folder)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.layers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the other checkout's folder (the code before the change)")
    parser.add_argument("--nets", nargs="+", default=["googlenet", "alexnet"], choices=[n for n, _ in CASES],
                        help="which cases (default: googlenet alexnet; each walks to its layer in benchmarks.cases)")
    parser.add_argument("--size", default="480x640", help="HxW of the input (default 480x640)")
    parser.add_argument("--rounds", type=int, default=5, help="walks of each side, in turns (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="steps per walk after one warm-up (default 3)")
    parser.add_argument("--json", help="also write every walk of every round here")
    args = parser.parse_args(argv)
    before = checked_checkout(parser, args.before)
    check_json_path(parser, args.json)
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        if len(size) != 2 or min(size) < 1:
            raise ValueError
    except ValueError:
        parser.error(f"--size must be HxW in pixels, like 480x640; got {args.size!r}")
    if args.rounds < 1 or args.repeats < 1:
        parser.error("--rounds and --repeats must be at least 1")
    ends = dict(CASES)
    results = {}
    for name in args.nets:
        walks = in_turns({"before": before, "now": HERE}, name, ends[name], size, args.repeats, args.rounds)
        results[name] = walks
        print(tables(f"{name}→{ends[name]} {size[1]}×{size[0]}", name, walks) + "\n", flush=True)
    if args.json:
        record = {"size": list(size), "before": before, "now": HERE, "walks": results}
        write_json(args.json, record)


if __name__ == "__main__":
    main()
