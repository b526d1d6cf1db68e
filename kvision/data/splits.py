"""Seeded, stratified index splits: validation hold-out and label budgets."""

import numpy as np

from kvision.errors import DataError


def stratified_holdout(labels, fraction, seed):
    """Holds out `fraction` of each class.

    Args:
        labels: int array (N,).
        fraction: share of each class to hold out, in [0, 1).
        seed: the random seed.

    Returns:
        (kept_indices, held_out_indices), each sorted.
    """
    rng = np.random.default_rng(seed)
    kept, held = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n = int(round(len(idx) * fraction))
        held.append(idx[:n])
        kept.append(idx[n:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held))


def labeled_subset(labels, per_class, seed, num_classes=None):
    """Keeps `per_class` labels of each class; the rest is the unlabeled pool.

    Args:
        labels: int array (N,).
        per_class: labels kept per class.
        seed: the random seed.
        num_classes: classes expected (default: max label + 1).

    Returns:
        (labeled_indices, unlabeled_indices), each sorted.

    Raises:
        DataError: a class has fewer than `per_class` examples.
    """
    rng = np.random.default_rng(seed)
    num_classes = num_classes or int(labels.max()) + 1
    labeled, unlabeled = [], []
    for c in range(num_classes):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if len(idx) < per_class:
            raise DataError(f"labeled_per_class is {per_class} but class {c} has only {len(idx)} "
                            "training images (after the validation hold-out)")
        labeled.append(idx[:per_class])
        unlabeled.append(idx[per_class:])
    return np.sort(np.concatenate(labeled)), np.sort(np.concatenate(unlabeled))


def select_classes(split, classes):
    """Keeps the examples of `classes`, relabelled 0..len(classes)-1 in that order."""
    mapping = np.full(int(max(split.labels.max(), max(classes))) + 1, -1, dtype=np.int64)
    mapping[list(classes)] = np.arange(len(classes))
    keep = np.flatnonzero(mapping[split.labels] >= 0)
    out = split.take(keep)
    out.labels = mapping[out.labels]
    return out
