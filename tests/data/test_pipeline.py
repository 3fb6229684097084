"""Tests for lit_tf.data.pipeline."""

import numpy as np
import pytest

from lit_tf.data import epochs
from lit_tf.data import pipeline


def _images(n=12):
    images = np.random.default_rng(0).integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    return images, np.arange(n) % 3


def test_validation_is_disjoint_from_train_and_seeded():
    x, y = _images()
    (tx, _), (vx, _) = pipeline.split_validation(x, y, 0.25, seed=1)
    assert len(tx) == 9 and len(vx) == 3
    assert not {v.tobytes() for v in vx} & {t.tobytes() for t in tx}
    (tx2, _), _ = pipeline.split_validation(x, y, 0.25, seed=1)
    np.testing.assert_array_equal(tx, tx2)


def test_training_batches_are_a_function_of_seed_and_epoch_and_eval_ones_are_plain():
    x, y = _images()
    make = lambda training: pipeline.make_dataset(x, y, 4, [0.0] * 3, [1.0] * 3, training, True, seed=3)  # noqa: E731
    images = lambda dataset: np.concatenate([b[0] for b in dataset])  # noqa: E731
    epochs.set_epoch(5)
    dataset = make(True)
    fifth, sixth = images(dataset), images(dataset)  # each pass takes the next epoch
    assert not np.array_equal(fifth, sixth)
    epochs.set_epoch(5)
    np.testing.assert_array_equal(images(make(True)), fifth)  # another dataset (a resumed run), same epoch
    evaluation = images(make(False))
    np.testing.assert_array_equal(evaluation, x.astype("float32"))
    assert not np.array_equal(np.sort(fifth.ravel()), np.sort(evaluation.ravel()))  # cropped/flipped


def test_a_training_epoch_holds_every_image_once():
    x, y = _images()
    labels = np.concatenate([b[1] for b in pipeline.make_dataset(x, y, 3, [0.0] * 3, [1.0] * 3, True, False, seed=0)])
    assert sorted(labels.tolist()) == sorted(y.tolist()) and labels.tolist() != y.tolist()


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be > 0"),
])
def test_bad_arguments_are_refused(kwargs, message):
    x, y = _images()
    with pytest.raises(ValueError, match=message):
        pipeline.make_dataset(x, y, mean=[0] * 3, std=[1] * 3, training=True, augment=False, seed=0, **kwargs)
    with pytest.raises(ValueError, match="split must be one of"):
        pipeline.check_split("val")


@pytest.mark.parametrize("crop_padding, black_pixels", [("zeros", True), ("reflect", False)])
def test_crop_padding_fills_the_border_with_black_pixels_or_a_reflection(crop_padding, black_pixels):
    x, y = np.full((32, 8, 8, 3), 200, np.uint8), np.zeros(32, int)
    mean, std = [100.0] * 3, [50.0] * 3
    dataset = pipeline.make_dataset(x, y, 32, mean, std, training=True, augment=True, seed=0,
                                    crop_padding=crop_padding)
    images = next(iter(dataset))[0].numpy()
    # A zero pixel normalises to (0 - 100) / 50 = -2: padding before normalisation, as torchvision.
    assert np.any(np.isclose(images, -2.0)) == black_pixels
    assert np.all(np.isclose(images, -2.0) | np.isclose(images, 2.0))
    with pytest.raises(ValueError, match="crop_padding must be one of"):
        pipeline.make_dataset(x, y, 4, mean, std, True, True, 0, crop_padding="edge")


def test_imagenet_normalisation_is_the_references():
    from lit_tf.data import cifar

    mean, std = cifar.normalization_stats("imagenet")
    np.testing.assert_allclose(np.array(mean) / 255, [0.485, 0.456, 0.406])
    np.testing.assert_allclose(np.array(std) / 255, [0.229, 0.224, 0.225])
    assert cifar.normalization_stats("cifar", "cifar10") == (cifar.MEAN["cifar10"], cifar.STD["cifar10"])
    with pytest.raises(ValueError, match="normalization must be one of"):
        cifar.normalization_stats("torch")
