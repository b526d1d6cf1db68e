"""Choosing pseudo-labeled images: confidence threshold and per-class balancing (Xie et al. 2020)."""

import numpy as np


def select_pseudo_labels(probabilities, confidence_threshold=0.0, balance=False):
    """Which unlabeled images to keep, and how often, from a teacher's probabilities.

    Args:
        probabilities: (N, classes) teacher softmax outputs on clean images.
        confidence_threshold: drop images whose top probability is lower.
        balance: make every class count the same (Noisy Student: classes
            with more images keep their most confident ones, classes with
            fewer repeat theirs, to the mean count of the kept classes).

    Returns:
        (indices into the N images, possibly repeated; per-class counts as
        kept before balancing, as a list).
    """
    probabilities = np.asarray(probabilities)
    labels = probabilities.argmax(-1)
    confidence = probabilities.max(-1)
    kept = np.flatnonzero(confidence >= confidence_threshold)
    classes = probabilities.shape[-1]
    counts = np.bincount(labels[kept], minlength=classes)
    if not balance or not len(kept):
        return kept, counts.tolist()
    target = int(round(counts[counts > 0].mean()))
    chosen = []
    for c in range(classes):
        members = kept[labels[kept] == c]
        if not len(members):
            continue
        members = members[np.argsort(-confidence[members], kind="stable")]
        repeats = int(np.ceil(target / len(members)))
        chosen.append(np.tile(members, repeats)[:target])
    return np.concatenate(chosen), counts.tolist()
