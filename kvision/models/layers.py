"""Layers Keras core does not have: local response normalization and stochastic depth.

Both are written with `keras.ops`, so they run on every backend.
"""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="kvision")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalization across channels (Krizhevsky et al. 2012, section 3.3).

    b_c = a_c / (k + alpha * sum_{c' in window(c)} a_c'^2) ^ beta, the window
    holding `depth` neighbouring channels centred on c. Keras has no such
    layer (it was dropped with TF1's tf.nn.lrn wrapper), hence kvision's own.

    Args:
        depth: channels in the window (the paper's n = 5).
        bias: k (the paper's 2).
        alpha: the paper's 1e-4. Applied to the sum, as in the paper (not the mean).
        beta: the paper's 0.75.
    """

    def __init__(self, depth=5, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth = int(depth)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def build(self, input_shape):
        # The channel window as a band matrix: window = squares @ band, one
        # matmul instead of `depth` shifted slices (4x faster to train on CPU).
        channels = input_shape[-1]
        half = self.depth // 2
        index = np.arange(channels)
        offset = index[None, :] - index[:, None]  # column (output) minus row (input)
        self.band = ((offset >= -(self.depth - 1 - half)) & (offset <= half)).astype("float32")

    def call(self, inputs):
        window = ops.matmul(ops.square(inputs), ops.convert_to_tensor(self.band, inputs.dtype))
        return inputs / ops.power(self.bias + self.alpha * window, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "depth": self.depth, "bias": self.bias, "alpha": self.alpha,
                "beta": self.beta}


@keras.saving.register_keras_serializable(package="kvision")
class StochasticDepth(keras.layers.Layer):
    """Stochastic depth (Huang et al. 2016, "Deep networks with stochastic depth").

    Called on [shortcut, output]: in training, each sample keeps the block
    with probability 1 - rate (its residual, output - shortcut, scaled by
    1 / (1 - rate)) or skips it (returns the shortcut); at inference it
    returns `output`. On a plain layer whose input and output shapes match
    (a VGG convolution after the first of its stage) this drops the layer
    for that sample. Keras core has no such layer, hence kvision's own.

    Args:
        rate: probability of dropping the block.
        seed: random seed.
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        shortcut, output = inputs
        if not training or self.rate == 0.0:
            return output
        keep = 1.0 - self.rate
        batch = ops.shape(output)[0]
        mask = ops.cast(keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator) < keep,
                        output.dtype)
        return shortcut + (output - shortcut) * mask / keep

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
