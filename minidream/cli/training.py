"""`train`, `finetune` and `curate`: handlers and their parsers."""
import argparse
import os


def _augmentations(text):
    """'rotate,zoom' -> ('rotate', 'zoom'), checked against minidream.training.augment."""
    from minidream.training.augment import parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _layer_names(text):
    return [name for name in text.split(",") if name]


def _solver_options(p, output):
    from minidream.training.optimizers import OPTIMIZERS, SCHEDULES

    p.add_argument("data_dir", metavar="DATA_DIR",
                   help="one sub-folder of images per class; optional DATA_DIR/val/ for validation")
    p.add_argument("-o", "--output", default=output,
                   help=f"model file to write after every epoch, reports beside it (default: {output})")
    p.add_argument("--epochs", type=int, default=10, help="passes over the training set (default: 10)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default: 64)")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default="sgd",
                   help="update rule: SGD with momentum, Nesterov, Adagrad or Adam (default: sgd)")
    p.add_argument("--lr", type=float, default=0.01, help="base learning rate (default: 0.01; Adam: try 0.001)")
    p.add_argument("--schedule", choices=SCHEDULES, default="cosine", help="learning-rate schedule (default: cosine)")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum of sgd and nesterov (default: 0.9)")
    p.add_argument("--weight-decay", type=float, default=5e-4, help="L2 weight decay, not on biases (default: 5e-4)")
    p.add_argument("--val-fraction", type=float, default=0.1,
                   help="share of each class held out for validation when DATA_DIR has no val/ (default: 0.1)")
    p.add_argument("--seed", type=int, default=0,
                   help="seeds initialization, shuffling, augmentation and dropout (default: 0)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where to compute (default: cpu)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")


def _solver_kwargs(args):
    return dict(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, schedule=args.schedule,
                optimizer=args.optimizer, momentum=args.momentum, weight_decay=args.weight_decay,
                val_fraction=args.val_fraction, seed=args.seed, device=args.device, progress=args.progress)


def _report_training(result, output):
    last = result.history[-1] if result.history else {}
    accuracy = ("no validation images" if last.get("val_accuracy") is None else
                f"val top-1 {last['val_accuracy']:.3f}, top-5 {last['val_top5']:.3f}")
    print(f"wrote {output} ({accuracy}; classes: {', '.join(result.net.meta['class_names'])})")
    return 0


def run_train(args):
    from minidream.architectures.builtin import architecture
    from minidream.training import augment, image_folder
    from minidream.training.loop import train

    if args.preview_augment:
        size = args.input_size or architecture(args.arch)[1]["input_size"][0]
        train_set, _ = image_folder.load_folder(args.data_dir, image_folder.load_size(size), 0.0, args.seed,
                                                args.progress)
        first = {}  # the first image of each class, for up to six classes
        for i, label in enumerate(train_set.labels.tolist()):
            first.setdefault(label, i)
        picks = list(first.values())[:6]
        os.makedirs(args.preview_augment, exist_ok=True)
        path = os.path.join(args.preview_augment, "augment.png")
        augment.preview(train_set.images[picks], args.augment or tuple(augment.AUGMENTATIONS), args.seed).save(path)
        print(f"wrote {path}")
        return 0
    result = train(args.data_dir, args.arch, args.output, augment=args.augment, input_size=args.input_size,
                   resume=args.resume, **_solver_kwargs(args))
    return _report_training(result, args.output)


def run_finetune(args):
    from minidream.training.finetuning import finetune

    result = finetune(args.model, args.data_dir, args.output, train_from=args.train_from, bn_stats=args.bn_stats,
                      **_solver_kwargs(args))
    return _report_training(result, args.output)


def run_curate(args):
    from minidream.training.curation import curate

    report = curate(args.data_dir, args.model, args.output, layers=args.layers, per_class=args.per_class,
                    steps=args.steps, seed=args.seed, device=args.device, progress=args.progress)
    print(f"wrote {report.path}")
    return 0


def add_commands(sub):
    from minidream.architectures.builtin import ARCHITECTURES

    p = sub.add_parser("train", help="train a network from scratch on an image folder",
                       description="Train a network from scratch on DATA_DIR/<class>/<images>. After every "
                                   "epoch it writes the model and, beside it, MODEL.history.csv/.png (loss and "
                                   "accuracy per epoch), MODEL.confusion.csv/.png (validation) and "
                                   "MODEL.optimizer.npz (for --resume).")
    p.add_argument("--arch", default="mini", choices=sorted(ARCHITECTURES), help="architecture (default: mini)")
    p.add_argument("--input-size", type=int, metavar="S",
                   help="train on S x S crops (default: the architecture's input size)")
    p.add_argument("--augment", type=_augmentations, default=(), metavar="NAMES",
                   help="augmentations besides crop and flip, comma-separated: rotate,zoom,color,noise")
    p.add_argument("--preview-augment", metavar="DIR",
                   help="write DIR/augment.png (a few training images under each augmentation) and exit")
    p.add_argument("--resume", metavar="MODEL.h5",
                   help="go on from a checkpoint of this command (same options; the weights end up as if "
                        "it had never stopped)")
    _solver_options(p, "model.h5")
    p.set_defaults(func=run_train)

    p = sub.add_parser("finetune", help="retrain the top layers of a model for new classes",
                       description="Replace the classifier of a model for the classes of DATA_DIR and train its "
                                   "top layers, the others frozen. Reports are written beside the model as for "
                                   "train.")
    p.add_argument("--model", default="alexnet", help="built-in model name or .h5 file (default: alexnet)")
    p.add_argument("--train-from", metavar="LAYER",
                   help="first layer to train (default: the fully connected layers at the top)")
    p.add_argument("--bn-stats", choices=("frozen", "reestimate"), default="frozen",
                   help="BatchNorm statistics of the frozen layers: kept as trained, or recomputed on DATA_DIR's "
                        "images first (default: frozen)")
    _solver_options(p, "finetuned.h5")
    p.set_defaults(func=run_finetune)

    p = sub.add_parser("curate", help="report what each class taught a model and which images look wrong",
                       description="Dream one representative image per class at a few layers, classify every "
                                   "training image, and write REPORT_DIR/index.html listing per class the "
                                   "images the model gets wrong or is least sure about.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="one sub-folder of images per class (the training set)")
    p.add_argument("--model", required=True, help="a model trained on these classes: name or .h5 file")
    p.add_argument("-o", "--output", required=True, metavar="REPORT_DIR", help="folder for the report")
    p.add_argument("--layers", type=_layer_names, metavar="L1,L2,...",
                   help="layers to dream at (default: three convolution layers from low to high)")
    p.add_argument("--per-class", type=int, default=8, help="suspects listed per class (default: 8)")
    p.add_argument("--steps", type=int, default=10, help="dream steps per octave (default: 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the dreams (default: 0)")
    p.add_argument("--device", choices=("cpu", "gpu"), default="cpu", help="where to compute (default: cpu)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bars")
    p.set_defaults(func=run_curate)
