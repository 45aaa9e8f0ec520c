"""Training with minidream's own backprop: the loop, optimizers, data (image folders, augmentation, the generated
patterns), evaluation, checkpoints and reports, fine-tuning and curation."""
