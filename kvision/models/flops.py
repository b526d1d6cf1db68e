"""Counting a model's floating-point operations per image (2 x multiply-adds)."""

import math

import keras


def _macs(layer):
    if isinstance(layer, keras.layers.Conv2D):
        kernel_h, kernel_w = layer.kernel_size
        channels_in = layer.input.shape[-1] // layer.groups
        out = layer.output.shape
        return math.prod(out[1:]) * kernel_h * kernel_w * channels_in
    if isinstance(layer, keras.layers.Dense):
        return layer.input.shape[-1] * layer.units
    return 0


def count_flops(model):
    """FLOPs of one forward pass of one image, counting convolutions and dense layers.

    Args:
        model: a built functional `keras.Model` (nested models are walked).

    Returns:
        2 x the multiply-adds of its Conv2D and Dense layers (the usual
        convention; normalisation, pooling and activations are left out).
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model) and hasattr(layer, "layers"):
            total += count_flops(layer)
        else:
            total += 2 * _macs(layer)
    return total


def human(number):
    """1234567 -> '1.23M'."""
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if number >= size:
            return f"{number / size:.3g}{unit}"
    return str(int(number))
