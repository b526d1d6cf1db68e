"""Discriminative learning rates: some variables move by a fraction of the usual step.

Keras optimizers have one learning rate for every variable. Scaling the
gradients instead would be wrong for Adam-style optimizers, whose steps do
not depend on the gradient's scale; so kvision scales the *update*: it keeps
each chosen variable's value before the optimizer's weight decay and update
step and then moves it only `multiplier` of the way to the new value. That is
exactly a learning rate x multiplier for SGD (with momentum), Adam and AdamW
(decoupled decay included) at any schedule. It hooks the two optimizer
methods every Keras backend calls (`_apply_weight_decay`,
`_backend_update_step`); tests pin the update size so that a Keras change
shows up.
"""

import keras


def scale_updates(optimizer, variables, multiplier):
    """Makes `optimizer` move `variables` by `multiplier` times its usual step.

    Args:
        optimizer: a Keras optimizer (built or not).
        variables: the variables to slow down (e.g. a backbone's weights).
        multiplier: the fraction of the step they take; 1 changes nothing,
            0 keeps them fixed.

    Returns:
        The optimizer, modified in place.
    """
    if multiplier == 1.0:
        return optimizer
    chosen = {id(v) for v in variables}
    for method in ("_apply_weight_decay", "_backend_update_step"):
        original = getattr(optimizer, method)
        setattr(optimizer, method, _scaled(original, chosen, float(multiplier)))
    optimizer._kvision_update_multiplier = float(multiplier)
    return optimizer


def _scaled(original, chosen, multiplier):
    def method(*args):
        variables = args[1] if original.__name__ == "_backend_update_step" else args[0]
        slow = [v for v in variables if id(v) in chosen]
        before = [keras.ops.copy(v.value) for v in slow]
        result = original(*args)
        for variable, old in zip(slow, before):
            variable.assign(old + multiplier * (variable.value - old))
        return result

    return method
