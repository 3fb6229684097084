"""StarGAN's generator and discriminator (Choi et al. 2018), the generator cut into LIT sections.

The generator maps an image and a target-domain label (tiled over the image) to an
image: a 7x7 convolution, two stride-2 down-samplings, a trunk of residual blocks with
instance norm, two stride-2 up-samplings and a 7x7 convolution with tanh. Its last
down-sampling layer is named `stem` and the trunk is cut into `sections` equal parts whose
last layers are `section_1..section_K`, so a 6-block teacher and a 2-block student with two
sections each (3 -> 1 blocks a section) are LIT-compatible. The discriminator is the
PatchGAN with a domain-classification head.

Example:

>>> from lit_tf.models import stargan
>>> teacher = stargan.Generator(residual_blocks=6, sections=2)
>>> teacher.boundaries
['stem', 'section_1', 'section_2']
>>> teacher.count_params()  # 8.43 M, as the reference prints for c_dim=5
8430528
>>> stargan.Generator(residual_blocks=2, sections=2).count_params()
3707840
"""

import keras
from keras import layers

from lit_tf.options import check_image_size


def instance_norm(name):
    # PyTorch's InstanceNorm2d(affine=True): per-sample, per-channel, learned scale and shift.
    return layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def conv_norm_relu(x, filters, kernel_size, strides, name, output_name=None, transpose=False):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    # "same" with a 4x4 kernel and stride 2 on an even grid pads 1 on every side, exactly
    # PyTorch's padding=1, for the convolution and its transpose (tests/models/test_stargan_models.py).
    x = conv(filters, kernel_size, strides=strides, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.ReLU(name=output_name or f"{name}_relu")(instance_norm(f"{name}_norm")(x))


def residual_block(x, name, output_name=None):
    """Conv-IN-ReLU-Conv-IN with an identity shortcut, as in StarGAN."""
    filters = x.shape[-1]
    y = conv_norm_relu(x, filters, 3, 1, f"{name}_a")
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_b_conv")(y)
    y = instance_norm(f"{name}_b_norm")(y)
    return layers.Add(name=output_name or f"{name}_add")([x, y])


@keras.saving.register_keras_serializable(package="lit_tf")
class TileLabel(layers.Layer):
    """Concatenates a `(batch, domains)` label, tiled over the grid, to an image."""

    def call(self, image, label):
        height, width = keras.ops.shape(image)[1], keras.ops.shape(image)[2]
        tiled = keras.ops.tile(label[:, None, None, :], [1, height, width, 1])
        return keras.ops.concatenate([image, keras.ops.cast(tiled, image.dtype)], axis=-1)

    def compute_output_shape(self, image_shape, label_shape):
        return (*image_shape[:-1], image_shape[-1] + label_shape[-1])


@keras.saving.register_keras_serializable(package="lit_tf")
class Generator(keras.Model):
    """StarGAN's generator with named LIT boundaries `stem, section_1..section_K`.

    Args:
        image_size: int, the image side; a multiple of 4 (two down-samplings).
        num_domains: int, the length of the target-domain label (5 attributes in the paper).
        conv_dim: int, the first convolution's width (64); the trunk is 4x wider.
        residual_blocks: int, the trunk's depth (6 in StarGAN).
        sections: int, how many equal LIT sections the trunk is cut into.
    """

    def __init__(self, image_size=128, num_domains=5, conv_dim=64, residual_blocks=6, sections=2, name=None,
                 **kwargs):
        check_image_size(image_size, 4, "the generator down-samples twice")
        if sections <= 0 or residual_blocks % sections:
            raise ValueError(f"residual_blocks must be a positive multiple of sections, so each section holds "
                             f"the same number of blocks. Received: residual_blocks={residual_blocks}, "
                             f"sections={sections}")
        # === Layers ===
        image = keras.Input((image_size, image_size, 3), name="image")
        label = keras.Input((num_domains,), name="target_domain")
        x = TileLabel(name="tile_label")(image, label)
        x = conv_norm_relu(x, conv_dim, 7, 1, "input")
        x = conv_norm_relu(x, conv_dim * 2, 4, 2, "down1")
        x = conv_norm_relu(x, conv_dim * 4, 4, 2, "down2", output_name="stem")
        per_section = residual_blocks // sections
        for block in range(residual_blocks):
            last = (block + 1) % per_section == 0
            x = residual_block(x, f"res{block + 1}",
                               output_name=f"section_{(block + 1) // per_section}" if last else None)
        x = conv_norm_relu(x, conv_dim * 2, 4, 2, "up1", transpose=True)
        x = conv_norm_relu(x, conv_dim, 4, 2, "up2", transpose=True)
        x = layers.Conv2D(3, 7, padding="same", use_bias=False, name="output_conv")(x)
        outputs = layers.Activation("tanh", name="output")(x)

        # === Functional model ===
        super().__init__([image, label], outputs, name=name or f"stargan_generator{residual_blocks}", **kwargs)

        # === Config ===
        self.image_size = image_size
        self.num_domains = num_domains
        self.conv_dim = conv_dim
        self.residual_blocks = residual_blocks
        self.sections = sections
        self.boundaries = ["stem"] + [f"section_{k + 1}" for k in range(sections)]

    def get_config(self):
        return {"image_size": self.image_size, "num_domains": self.num_domains, "conv_dim": self.conv_dim,
                "residual_blocks": self.residual_blocks, "sections": self.sections, "name": self.name,
                "trainable": self.trainable}


@keras.saving.register_keras_serializable(package="lit_tf")
class Discriminator(keras.Model):
    """StarGAN's PatchGAN discriminator: `image -> [real/fake patch map, domain logits]`.

    Args:
        image_size: int, a multiple of `2 ** strided_layers`.
        num_domains: int, the number of domain logits.
        conv_dim: int, the first convolution's width; each stride-2 layer doubles it.
        strided_layers: int, 6 at 128 px (a 2x2 patch map).
    """

    def __init__(self, image_size=128, num_domains=5, conv_dim=64, strided_layers=6, name=None, **kwargs):
        check_image_size(image_size, 2**strided_layers, f"the discriminator halves it {strided_layers} times")
        # === Layers ===
        image = keras.Input((image_size, image_size, 3), name="image")
        x = image
        for k in range(strided_layers):
            x = layers.Conv2D(conv_dim * 2**k, 4, strides=2, padding="same", name=f"down{k + 1}_conv")(x)
            x = layers.LeakyReLU(0.01, name=f"down{k + 1}_lrelu")(x)
        source = layers.Conv2D(1, 3, padding="same", use_bias=False, name="source")(x)
        grid = image_size // 2**strided_layers
        domains = layers.Conv2D(num_domains, grid, padding="valid", use_bias=False, name="domain_conv")(x)
        domains = layers.Reshape((num_domains,), name="domain")(domains)

        # === Functional model ===
        super().__init__(image, [source, domains], name=name or "stargan_discriminator", **kwargs)

        # === Config ===
        self.image_size = image_size
        self.num_domains = num_domains
        self.conv_dim = conv_dim
        self.strided_layers = strided_layers

    def get_config(self):
        return {"image_size": self.image_size, "num_domains": self.num_domains, "conv_dim": self.conv_dim,
                "strided_layers": self.strided_layers, "name": self.name, "trainable": self.trainable}
