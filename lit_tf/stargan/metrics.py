"""Inception score and FID from an injected classifier, with TF-GAN's math.

The classifier is any callable `images -> (logits, activations)`: Keras InceptionV3 from a
local weights file for the paper's numbers (`inception_classifier`), a small model in tests.
The scores are TF-GAN's `classifier_score_from_logits` and
`frechet_classifier_distance_from_activations` (through `lit_tf.stargan.tfgan_compat`).

Example:

>>> import numpy as np
>>> from lit_tf.stargan import metrics
>>> rng = np.random.default_rng(0)
>>> round(metrics.inception_score(np.eye(4) * 50.0), 3)  # four sure, different classes
4.0
>>> real = rng.normal(size=(200, 3))
>>> round(metrics.frechet_distance(real, real + 1.0), 4)  # same spread, means 1 apart in 3 dims
3.0
"""

import os

import numpy as np

from lit_tf.experiments.stargan_config import no_inception_weights
from lit_tf.stargan import tfgan_compat


def inception_score(logits):
    """exp(E_x KL(p(y|x) || p(y))) of a `(n, classes)` array of logits; float."""
    metrics = tfgan_compat.classifier_metrics()
    return float(metrics.classifier_score_from_logits(np.asarray(logits, dtype="float64")))


def frechet_distance(activations1, activations2):
    """Fréchet distance between Gaussians fitted to two `(n, features)` activation arrays; float."""
    metrics = tfgan_compat.classifier_metrics()
    return float(metrics.frechet_classifier_distance_from_activations(
        np.asarray(activations1, dtype="float64"), np.asarray(activations2, dtype="float64")))


def classify(classifier, images, batch_size=50):
    """Runs `classifier` over `images` in batches; returns `(logits, activations)` as arrays."""
    images = np.asarray(images, dtype="float32")
    if len(images) == 0:
        raise ValueError("classify needs at least one image. Received: images of shape "
                         f"{images.shape}")
    outputs = [classifier(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    return tuple(np.concatenate([np.asarray(o[k]) for o in outputs]) for k in range(2))


def scores(classifier, real_images, generated_images, batch_size=50):
    """`{"inception_score", "fid"}` of generated images against real ones."""
    generated_logits, generated_activations = classify(classifier, generated_images, batch_size)
    _, real_activations = classify(classifier, real_images, batch_size)
    return {"inception_score": inception_score(generated_logits),
            "fid": frechet_distance(real_activations, generated_activations)}


def inception_classifier(weights_path, image_size=299):
    """Keras InceptionV3 from a local weights file: `images in [-1, 1] -> (logits, pool features)`.

    Args:
        weights_path: str, an ImageNet InceptionV3 `.h5`/`.weights.h5` file with the top
            (e.g. `inception_v3_weights_tf_dim_ordering_tf_kernels.h5`).
        image_size: int, the side images are resized to (299 for InceptionV3).
    """
    if not weights_path or not os.path.isfile(weights_path):
        raise FileNotFoundError(no_inception_weights(weights_path))
    import keras

    model = keras.applications.InceptionV3(weights=weights_path, include_top=True)
    pool = model.get_layer("avg_pool").output
    top = model.get_layer("predictions")
    features = keras.Model(model.inputs, pool)
    kernel, bias = top.kernel, top.bias

    def classifier(images):
        resized = keras.ops.image.resize(images, (image_size, image_size))
        activations = features(resized, training=False)
        return keras.ops.matmul(activations, kernel) + bias, activations

    return classifier
