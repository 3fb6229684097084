"""lit_tf.stargan.metrics: scores from an injected classifier equal the scipy reference; clear errors."""

import keras
import numpy as np
import pytest

from lit_tf.stargan import metrics as gan_metrics
from tests import test_case


def _tiny_classifier():
    """`images -> (logits, activations)`: a 16-feature conv net with a 5-way head."""
    images = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(images)
    features = keras.layers.Dense(16)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(images, [keras.layers.Dense(5)(features), features])
    return lambda batch: model(batch, training=False)


def test_scores_equal_the_scipy_reference_on_the_classifier_outputs():
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (40, 16, 16, 3)).astype("float32")
    generated = np.clip(real[:30] + rng.normal(0, 0.5, real[:30].shape), -1, 1).astype("float32")
    classifier = _tiny_classifier()
    result = gan_metrics.scores(classifier, real, generated, batch_size=16)
    logits, generated_activations = (np.asarray(o, "float64") for o in classifier(generated))
    real_activations = np.asarray(classifier(real)[1], "float64")
    assert result["inception_score"] == pytest.approx(test_case.scipy_inception_score(logits), abs=1e-4)
    assert result["fid"] == pytest.approx(test_case.scipy_fid(real_activations, generated_activations), abs=1e-4)


def test_batched_classification_equals_one_pass():
    images = np.random.default_rng(1).uniform(-1, 1, (10, 16, 16, 3)).astype("float32")
    classifier = _tiny_classifier()
    logits, activations = gan_metrics.classify(classifier, images, batch_size=3)
    np.testing.assert_allclose(logits, classifier(images)[0], atol=1e-5)
    assert activations.shape == (10, 16)


def test_missing_inception_weights_and_no_images_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No InceptionV3 weights at .*\(inception_weights=PATH\)"):
        gan_metrics.inception_classifier(str(tmp_path / "inception.h5"))
    with pytest.raises(ValueError, match="at least one image"):
        gan_metrics.classify(_tiny_classifier(), np.zeros((0, 16, 16, 3)))


@pytest.mark.slow  # InceptionV3 built and run
def test_inception_classifier_gives_the_pre_softmax_logits_of_inception_v3(tmp_path):
    path = str(tmp_path / "inception.weights.h5")
    reference = keras.applications.InceptionV3(weights=None)
    reference.save_weights(path)
    images = np.random.default_rng(2).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    logits, activations = gan_metrics.inception_classifier(path)(images)
    expected = reference(keras.ops.image.resize(images, (299, 299)), training=False)
    np.testing.assert_allclose(keras.ops.softmax(logits), expected, atol=1e-5)
    assert tuple(activations.shape) == (2, 2048)
