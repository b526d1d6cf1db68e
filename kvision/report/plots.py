"""Pictures: training curves and confusion matrices (matplotlib, no display)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kvision.io import atomic_save  # noqa: E402


def plot_curves(history, path):
    """Loss and accuracy per epoch, train and validation, side by side.

    Args:
        history: Keras `History.history` ({"loss": [...], "val_loss": ...}).
        path: the PNG to write.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-o"), ("val_", "--s")):
            values = history.get(prefix + metric)
            if values:
                epochs = np.arange(1, len(values) + 1)
                ax.plot(epochs, values, style, label=(prefix or "train_").rstrip("_"))
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend()
    fig.tight_layout()
    atomic_save(path, fig.savefig)
    plt.close(fig)


def plot_confusion(counts, class_names, path, title="Confusion matrix"):
    """A confusion matrix as a heat map, rows normalised, counts written in.

    Args:
        counts: (C, C) array, rows are true classes.
        class_names: C names.
        path: the PNG to write.
        title: the figure title.
    """
    counts = np.asarray(counts)
    share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = max(5, 0.6 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45, ha="right")
    ax.set_yticks(ticks, class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if len(class_names) <= 20:
        for i in ticks:
            for j in ticks:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.5 else "black")
    fig.tight_layout()
    atomic_save(path, fig.savefig)
    plt.close(fig)


def plot_augment_grid(originals, augmented, path, class_names=None, labels=None):
    """Each row: an original image, then several augmented draws of it.

    Args:
        originals: (N, H, W, C) images in [0, 255].
        augmented: (D, N, H, W, C) draws.
        path: the PNG to write.
        class_names, labels: optional row titles.
    """
    originals = np.asarray(originals)
    augmented = np.asarray(augmented)
    rows, draws = originals.shape[0], augmented.shape[0]
    fig, axes = plt.subplots(rows, draws + 1, figsize=(1.4 * (draws + 1), 1.4 * rows), squeeze=False)
    for r in range(rows):
        for c in range(draws + 1):
            image = originals[r] if c == 0 else augmented[c - 1, r]
            ax = axes[r, c]
            cmap = "gray" if image.shape[-1] == 1 else None
            ax.imshow(np.clip(image.squeeze(-1) if image.shape[-1] == 1 else image, 0, 255)
                      .astype(np.uint8), cmap=cmap, vmin=0, vmax=255)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title("original" if c == 0 else f"draw {c}", fontsize=8)
            if c == 0 and labels is not None and class_names is not None:
                ax.set_ylabel(class_names[labels[r]], fontsize=7)
    fig.tight_layout()
    atomic_save(path, fig.savefig)
    plt.close(fig)


def plot_iterations(accuracies, path, title="Accuracy per iteration"):
    """Self-training progress: accuracy per iteration, the supervised baseline as a line.

    Args:
        accuracies: iteration 0 (the teacher trained on labels alone: the
            supervised baseline) first, then each student.
        path: the PNG to write.
        title: the plot's title.
    """
    fig, ax = plt.subplots(figsize=(6, 4))
    iterations = np.arange(len(accuracies))
    ax.plot(iterations, accuracies, "-o", label="teacher (0) and students")
    ax.axhline(accuracies[0], color="gray", linestyle="--", label="supervised baseline")
    for i, value in zip(iterations, accuracies):
        ax.annotate(f"{value:.3f}", (i, value), textcoords="offset points", xytext=(0, 6), ha="center")
    ax.set_xticks(iterations)
    ax.set_xlabel("iteration")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    atomic_save(path, fig.savefig)
    plt.close(fig)
