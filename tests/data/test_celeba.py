"""lit_tf.data.celeba on tensorflow-datasets' mock data: shapes, ranges, targets, errors."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from lit_tf.data import celeba
from lit_tf.data import cifar
from lit_tf.data import epochs


def _batches(split="train", count=2, **kwargs):
    with tfds.testing.mock_data(num_examples=16):
        return list(celeba.provide_dataset(split, 4, image_size=16, **kwargs).take(count).as_numpy_iterator())


def test_batches_hold_scaled_images_binary_labels_and_targets_from_the_same_batch():
    for image, label, target in _batches(attributes=("Male", "Young", "Smiling")):
        assert image.shape == (4, 16, 16, 3) and image.dtype == np.float32
        assert image.min() >= -1.0 and image.max() <= 1.0
        assert label.shape == target.shape == (4, 3) and set(np.unique(label)) <= {0.0, 1.0}
        assert sorted(map(tuple, target)) == sorted(map(tuple, label))  # a permutation of the batch's labels


def test_same_seed_same_batches_and_evaluation_is_not_flipped():
    first, second = _batches(seed=3), _batches(seed=3)
    for a, b in zip(first, second):
        for x, y in zip(a, b):
            np.testing.assert_array_equal(x, y)
    plain = _batches("test", augment=False)
    again = _batches("test")
    np.testing.assert_array_equal(plain[0][0], again[0][0])
    flipped, unflipped = _batches(seed=3), _batches(seed=3, augment=False)
    assert not np.array_equal(flipped[0][0], unflipped[0][0])  # training images are flipped at random
    np.testing.assert_array_equal(flipped[0][1], unflipped[0][1])  # the same images, in the same order


def test_the_training_stream_starts_at_the_epochs_first_batch_so_a_resumed_run_sees_the_same_data():
    steps = 2
    with tfds.testing.mock_data(num_examples=12):  # 3 batches of 4 a pass: the stream crosses passes
        epochs.set_epoch(0)
        from_start = list(celeba.provide_dataset("train", 4, image_size=16, seed=3, steps_per_epoch=steps)
                          .take(3 * steps).as_numpy_iterator())
        epochs.set_epoch(2)
        resumed = list(celeba.provide_dataset("train", 4, image_size=16, seed=3, steps_per_epoch=steps)
                       .take(steps).as_numpy_iterator())
    for uninterrupted, again in zip(from_start[2 * steps:], resumed):
        for x, y in zip(uninterrupted, again):
            np.testing.assert_array_equal(x, y)
    assert not np.array_equal(from_start[0][0], resumed[0][0])


@pytest.mark.parametrize("kwargs, message", [
    (dict(attributes=("Black_Hair", "Purple_Hair")), r"CelebA has no attribute \['Purple_Hair'\]; choose from"),
    (dict(split="holdout"), "split must be one of"),
    (dict(batch_size=0), "batch_size and image_size must be > 0"),
])
def test_bad_arguments_are_refused(kwargs, message):
    kwargs = {"split": "train", "batch_size": 4, **kwargs}
    with pytest.raises(ValueError, match=message):
        celeba.provide_dataset(**kwargs)


def test_offline_without_prepared_data_fails_fast_naming_the_way_out(tmp_path, monkeypatch):
    monkeypatch.setattr(cifar, "reachable", lambda host, timeout=5.0: False)
    with pytest.raises(FileNotFoundError, match="celeb_a is not prepared in data_dir=.*download_and_prepare"):
        celeba.provide_dataset("train", 4, data_dir=str(tmp_path))
