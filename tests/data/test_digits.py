"""Tests for lit_tf.data.digits (bundled with scikit-learn, no network)."""

import numpy as np

from lit_tf.data import digits


def test_splits_cover_the_dataset_once_and_test_is_fixed():
    sizes = {split: len(digits.load_split(split)[0]) for split in ("train", "validation", "test")}
    assert sum(sizes.values()) == 1797 and sizes["test"] == 359
    np.testing.assert_array_equal(digits.load_split("test", seed=0)[1], digits.load_split("test", seed=5)[1])


def test_batches_are_normalised_images_with_labels():
    images, labels = next(iter(digits.provide_dataset("validation", batch_size=8)))
    assert images.shape == (8, 32, 32, 3)
    assert -1.0 <= float(np.min(images)) and float(np.max(images)) <= 1.0
    assert set(np.asarray(labels)) <= set(range(10))
