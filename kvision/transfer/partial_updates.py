"""Letting an optimizer built over many variables update only some of them, on every backend.

A transfer learner builds its optimizer once over every variable any phase
trains, so that checkpoints keep one layout across phases; during a linear
probe only the head is trainable. TensorFlow's and torch's train steps call
`optimizer.apply(grads, variables)`, which accepts such a subset. Keras'
JAX train step calls `optimizer.stateless_apply`, which insists on the
full list it was built with; `allow_partial_updates` makes it accept the
subset that is trainable now.
"""

import keras


def allow_partial_updates(optimizer, active_variables):
    """Wraps `optimizer.stateless_apply` (JAX) to update only the variables trainable now.

    Args:
        optimizer: a built Keras optimizer.
        active_variables: a function giving the `keras.Variable`s trainable now, in the order
            the train step passes their values (the model's `trainable_variables`).

    Returns:
        The same optimizer.
    """
    full_apply = optimizer.stateless_apply

    def stateless_apply(optimizer_variables, grads, trainable_variables):
        if len(trainable_variables) == len(optimizer._trainable_variables):
            return full_apply(optimizer_variables, grads, trainable_variables)
        active = list(active_variables())
        if len(active) != len(trainable_variables):
            raise ValueError(f"the train step passed {len(trainable_variables)} variables, but "
                             f"{len(active)} are trainable now")
        mapping = list(zip(active, trainable_variables)) + list(zip(optimizer.variables,
                                                                    optimizer_variables))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            optimizer.apply(grads, active)

        def current(variable, value):
            new = scope.get_current_value(variable)
            return value if new is None else new

        return ([current(v, value) for v, value in zip(active, trainable_variables)],
                [current(v, value) for v, value in zip(optimizer.variables, optimizer_variables)])

    optimizer.stateless_apply = stateless_apply
    return optimizer
