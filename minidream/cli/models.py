"""`classes`, `classify`, `layers` and `models`: what a model knows and holds."""
import sys

from minidream.cli.common import EPILOG, model_option, positive_int, wxh


def run_classes(args):
    from minidream.models.loading import resolve_model

    net = resolve_model(args.model)
    names = net.meta.get("class_names") or []
    if not names:
        raise ValueError(f"model {args.model!r} has no class names (use class indexes with --class)")
    for i, name in enumerate(names):
        print(f"{i:4d}  {name}")
    return 0


def run_classify(args):
    from minidream.models.classification import classify

    for name, prob in classify(args.input, args.model, top=args.top, device=args.device):
        print(f"{prob:8.4f}  {name}")
    return 0


def run_models(args):
    from weights_tools.fetch import models_table

    rows = [("name", "size", "cached", "license", "default layer")]
    rows += [(name, f"{size / 1e6:.0f} MB", "yes" if cached else "no", license_, layer)
             for name, size, cached, license_, layer in models_table()]
    widths = [max(len(row[c]) for row in rows) for c in range(4)]
    for row in rows:
        print("  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths)) + "  " + row[4])
    print("\nGet one with `python -m weights_tools fetch NAME` (or just use it: --model NAME fetches it).")
    return 0


def run_layers(args):
    from minidream.models.classification import layer_table
    from minidream.models.loading import resolve_model
    from minidream.models.metadata import default_layer

    size = args.size[::-1] if args.size else None
    net = resolve_model(args.model)
    rows = layer_table(net, input_size=size)
    width = max(len(name) for name, _ in rows)
    for name, shape in rows:
        print(f"{name:<{width}}  {'x'.join(str(d) for d in shape)}")
    print(f"default dream layer: {default_layer(net.meta)}", file=sys.stderr)  # the table stays plain for scripts
    return 0


def add_commands(sub):
    """Add classes, classify, layers and models to the subparsers `sub`."""
    p = sub.add_parser("classes", help="list a model's class names", epilog=EPILOG)
    p.add_argument("model", nargs="?", default="auto", metavar="MODEL", help="model name or .h5 file")
    p.set_defaults(func=run_classes)

    p = sub.add_parser("classify", help="the model's top classes for an image", epilog=EPILOG)
    p.add_argument("input", metavar="IN", help="image to classify")
    p.add_argument("--top", type=positive_int, default=5, help="how many classes to show (default: 5)")
    model_option(p)
    p.set_defaults(func=run_classify)

    p = sub.add_parser("layers", help="list a model's layers with their output shapes", epilog=EPILOG)
    p.add_argument("--model", default="auto", help="model name or .h5 file (default: auto)")
    p.add_argument("--size", type=wxh, metavar="WxH", help="input size for the shapes (default: the model's)")
    p.set_defaults(func=run_layers)

    p = sub.add_parser("models", help="list the model zoo: name, size, cached or not, license, default layer")
    p.set_defaults(func=run_models)
