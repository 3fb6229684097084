"""Which layers and weights of a model train: the freezing LIT's stages need, done so it holds.

Keras 3.15 skips an attribute assignment that does not change the value, and restores a
model saved frozen with trainable layers inside; these helpers set every flag explicitly.

Example:

>>> import keras
>>> from lit_tf.structure import trainability
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2), keras.layers.Dense(1)])
>>> trainability.freeze(model)
>>> len(model.trainable_weights)
0
>>> trainability.set_trainable(model, True)
>>> trainability.set_layers_trainable(model.layers, True)
>>> trainability.freeze_weights_only(model.layers[:1])
>>> len(model.trainable_weights), model.layers[0].trainable   # its kernel and bias frozen, the layer not
(2, True)
"""

import keras


def set_trainable(layer, value):
    """`layer.trainable = value` that always reaches the layer's variables.

    Keras 3.15 on TensorFlow skips an attribute assignment that does not change the
    value (`self.x = self.x`), so `layer.trainable = True` on a trainable layer leaves
    variables frozen one by one (`freeze_weights_only`) frozen.
    """
    layer.trainable = not value
    layer.trainable = value


def set_layers_trainable(layers, value):
    """`set_trainable(layer, value)` for each layer. Frozen BatchNormalization runs in inference mode."""
    for layer in layers:
        set_trainable(layer, value)


def freeze_weights_only(layers):
    """Stops the layers' weights from training while the layers stay in training mode.

    The LIT reference's fine-tune: `requires_grad=False` left from the LIT stage keeps the
    stem and head weights unchanged (no gradient, no weight decay), while `student.train()`
    puts every BatchNorm in training mode, so the stem's normalises with batch statistics
    and updates its moving ones. `set_layers_trainable(layers, True)` undoes it.
    """
    for layer in layers:
        set_trainable(layer, True)
        for variable in layer.trainable_weights:
            variable.trainable = False


def freeze(model):
    """Makes every layer and weight of `model` non-trainable, whatever state it came in.

    `model.trainable = False` alone is not enough for a model loaded from a
    `.keras` file that was saved frozen: Keras 3.15 restores it with
    `trainable == False` on the model but trainable layers and weights, and
    setting `False` again changes nothing, so a distiller's optimizer would
    train the "frozen" teacher. Each layer is set explicitly.
    """
    set_trainable(model, False)
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            freeze(layer)
        else:
            set_trainable(layer, False)
