"""Sample grids of a StarGAN generator: the input images, then one row per target domain.

`sample_grid(generator, images, labels, attributes)` returns an RGB `uint8` array with a
row of inputs and, below it, the generator's translation of each input to each target
domain (`lit_tf.data.celeba.target_domains`). `SampleGrid` writes one as a PNG every N
training steps.

Example:

>>> import numpy as np
>>> from lit_tf.stargan import samples
>>> from lit_tf.models import stargan
>>> generator = stargan.Generator(16, 3, 8, residual_blocks=2, sections=1)
>>> images = np.zeros((4, 16, 16, 3), "float32")
>>> labels = np.eye(4, 3, dtype="float32")
>>> grid = samples.sample_grid(generator, images, labels, ("Black_Hair", "Male", "Young"))
>>> grid.shape, grid.dtype  # 1 input row + 3 domain rows of 4 images, 16 px each
((64, 64, 3), dtype('uint8'))
"""

import os

import keras
import numpy as np
import tensorflow as tf

from lit_tf.data import celeba


def to_uint8(images):
    """Images in [-1, 1] -> uint8 in [0, 255]."""
    return np.clip(np.round((np.asarray(images) + 1.0) * 127.5), 0, 255).astype("uint8")


def sample_grid(generator, images, labels, attributes):
    """The input row, then `generator([images, target])` for each target domain; `(rows*H, n*W, 3)` uint8."""
    rows = [np.asarray(images)]
    for target in celeba.target_domains(labels, attributes):
        rows.append(np.asarray(generator([images, target], training=False)))
    tiles = to_uint8(np.stack(rows))  # (rows, n, H, W, 3)
    count, n, height, width, channels = tiles.shape
    return tiles.transpose(0, 2, 1, 3, 4).reshape(count * height, n * width, channels)


def write_png(path, grid):
    """Writes a `uint8` `(H, W, 3)` array as a PNG, atomically."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    partial = f"{path}.partial"
    tf.io.write_file(partial, tf.io.encode_png(grid))
    os.replace(partial, path)


class SampleGrid(keras.callbacks.Callback):
    """Writes `<folder>/step_<N>.png` every `every` training steps (and at the end of training).

    Args:
        generator: the generator being trained.
        images, labels: a fixed batch of inputs and their attribute labels.
        attributes: the attribute names of the labels.
        folder: str. every: int > 0, in steps.
    """

    def __init__(self, generator, images, labels, attributes, folder, every):
        super().__init__()
        if every <= 0:
            raise ValueError(f"The sample interval must be > 0 steps. Received: every={every}")
        self.generator, self.images, self.labels = generator, images, labels
        self.attributes, self.folder, self.every = tuple(attributes), folder, every
        self._step, self._epoch = 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch  # a resumed run starts past epoch 0

    def _write(self):
        grid = sample_grid(self.generator, self.images, self.labels, self.attributes)
        write_png(os.path.join(self.folder, f"step_{self._step:07d}.png"), grid)

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch * (self.params.get("steps") or 0) + batch + 1
        if self._step % self.every == 0:
            self._write()

    def on_train_end(self, logs=None):
        self._write()
