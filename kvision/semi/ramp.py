"""The unlabeled-loss weight schedule of pseudo-labeling (Lee 2013, "Pseudo-label: the simple
and efficient semi-supervised learning method for deep neural networks", eq. 16)."""

from keras import ops


def rampup_weight(step, final_weight, start, length):
    """0 before `start`, rising linearly to `final_weight` over `length` steps, then flat.

    Args:
        step: the optimizer step (a number or a scalar tensor).
        final_weight: the weight after the ramp (Lee 2013: 3).
        start: the step at which the ramp begins (Lee 2013: T1).
        length: steps the ramp lasts (T2 - T1); 0 jumps to `final_weight` at `start`.

    Returns:
        A float32 scalar.
    """
    step = ops.cast(step, "float32")
    if length <= 0:
        return ops.where(step >= start, final_weight, 0.0) * ops.ones((), "float32")
    fraction = ops.clip((step - start) / float(length), 0.0, 1.0)
    return final_weight * fraction
