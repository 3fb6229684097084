"""A frozen model's inference pass with each BatchNormalization folded into the convolution before it.

In inference a BatchNormalization is a per-channel `x·a + b` (`a = γ/√(σ²+ε)`, `b = β − μ·a`
from its moving statistics). After a convolution without activation, `conv(x, W)·a + b` is
`conv(x, W·a) + b`: one convolution with a bias, which TensorFlow runs as one fused op, in place of
a convolution and two element-wise passes over its output. The results agree to float32 rounding
(a few 1e-7 relative), not to the bit, so lit_tf folds only where a teacher's outputs go straight
into a smooth loss: the KD teacher's logits (`lit_tf.KDDistiller`). LIT's teacher boundaries feed
the student's sections, whose ReLUs would see the rounding; they stay unfolded.

`fold_batch_norm(model)` gives a new functional model on the same inputs that calls the model's
own layers, except that each Conv2D whose only consumer is a BatchNormalization (each called once,
the convolution without activation) becomes one `FoldedConvolution`: the pair's own variables,
folded on every call (kernel-sized arithmetic), so the folded model always follows the original's
weights and holds none of its own. It is for inference: the original is what trains.

>>> import keras, numpy as np
>>> from lit_tf.structure.folding import fold_batch_norm
>>> inputs = keras.Input((8, 8, 3))
>>> x = keras.layers.Conv2D(4, 3, use_bias=False, name="conv")(inputs)
>>> x = keras.layers.BatchNormalization(name="bn")(x)
>>> model = keras.Model(inputs, keras.layers.ReLU()(x))
>>> _ = model.get_layer("bn").moving_variance.assign([2.0, 3.0, 4.0, 5.0])
>>> folded = fold_batch_norm(model)
>>> [type(layer).__name__ for layer in folded.layers][1:]
['FoldedConvolution', 'ReLU']
>>> x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
>>> bool(np.allclose(folded(x), model(x, training=False), atol=1e-6))
True
"""

import collections

import keras

from lit_tf.structure import graph


def fold_batch_norm(model):
    """`model`'s inference pass with Conv2D -> BatchNormalization pairs folded; `model` if there are none."""
    calls = graph.calls(model)
    pairs = _foldable_pairs(model, calls)
    if not pairs:
        return model
    folded_batch_norms = {id(batch_norm_call) for batch_norm_call in pairs.values()}
    tensors = {id(tensor): tensor for tensor in model.inputs}
    for call in calls:
        if id(call) in folded_batch_norms:
            continue
        if id(call) in pairs:
            batch_norm_call = pairs[id(call)]
            (output,) = call.replay(FoldedConvolution(call.layer, batch_norm_call.layer), tensors)
            tensors[id(batch_norm_call.outputs[0])] = output
            continue
        outputs = call.replay(call.layer, tensors)
        tensors.update((id(old), new) for old, new in zip(call.outputs, outputs))
    # `inputs`/`outputs`, not `input`/`output`: a built Sequential has the lists, not always the single ones.
    outputs = [tensors[id(tensor)] for tensor in model.outputs]
    inputs = model.inputs if len(model.inputs) > 1 else model.inputs[0]
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0], name=f"{model.name}_folded")


def _foldable_pairs(model, calls):
    """`{id(conv call): batch norm call}` for each convolution whose one consumer is a foldable BatchNorm."""
    consumers = collections.defaultdict(list)
    for call in calls:
        for tensor in call.inputs:
            consumers[id(tensor)].append(call)
    times_called = collections.Counter(id(call.layer) for call in calls)
    model_outputs = {id(tensor) for tensor in keras.tree.flatten(model.outputs)}
    pairs = {}
    for call in calls:
        layer = call.layer
        if type(layer) is not keras.layers.Conv2D or layer.activation not in (None, keras.activations.linear):
            continue
        (output,) = call.outputs
        users = consumers[id(output)]
        if len(users) != 1 or id(output) in model_outputs or times_called[id(layer)] != 1:
            continue
        batch_norm = users[0].layer
        if (isinstance(batch_norm, keras.layers.BatchNormalization) and times_called[id(batch_norm)] == 1
                and batch_norm.axis in (-1, len(output.shape) - 1) and not batch_norm.renorm
                and layer.data_format == "channels_last"):
            pairs[id(call)] = users[0]
    return pairs


class FoldedConvolution(keras.layers.Layer):
    """`batch_norm(convolution(x))` in inference as one convolution with a bias, folded on each call.

    Args:
        convolution: the `keras.layers.Conv2D` (channels last, no activation).
        batch_norm: the `keras.layers.BatchNormalization` on its output (last axis).
    """

    def __init__(self, convolution, batch_norm, **kwargs):
        super().__init__(name=f"{convolution.name}_folded", trainable=False, **kwargs)
        self.convolution, self.batch_norm = convolution, batch_norm

    def call(self, inputs):
        ops, convolution, batch_norm = keras.ops, self.convolution, self.batch_norm

        def float32(value):  # the folding in float32, whatever the layers compute in
            return ops.cast(value, "float32")

        a = ops.rsqrt(float32(batch_norm.moving_variance) + batch_norm.epsilon)
        if batch_norm.scale:
            a = a * float32(batch_norm.gamma)
        bias = -float32(batch_norm.moving_mean)
        if convolution.use_bias:
            bias = bias + float32(convolution.bias)
        bias = bias * a + (float32(batch_norm.beta) if batch_norm.center else 0.0)
        kernel = ops.cast(float32(convolution.kernel) * a, inputs.dtype)
        return ops.add(convolution.convolution_op(inputs, kernel), ops.cast(bias, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return self.convolution.compute_output_shape(input_shape)
