"""lit_tf.stargan.tfgan_compat loads TF-GAN's eval math on this TensorFlow and matches a scipy reference."""

import sys

import numpy as np

from lit_tf.stargan import tfgan_compat
from tests import test_case


def test_loads_without_leaving_stub_packages_behind():
    metrics = tfgan_compat.classifier_metrics()
    assert hasattr(metrics, "frechet_classifier_distance_from_activations")
    assert "tensorflow_gan" not in sys.modules or hasattr(sys.modules["tensorflow_gan"], "__version__")


def test_classifier_score_and_frechet_distance_match_scipy():
    metrics = tfgan_compat.classifier_metrics()
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (64, 10))
    assert abs(float(metrics.classifier_score_from_logits(logits)) - test_case.scipy_inception_score(logits)) < 1e-4
    a, b = rng.normal(0, 1, (300, 8)), rng.normal(0.5, 1.5, (200, 8))
    fid = float(metrics.frechet_classifier_distance_from_activations(a, b))
    assert abs(fid - test_case.scipy_fid(a, b)) < 1e-4 and fid > 1.0
