"""Tests for lit_tf.data.pipeline."""

import numpy as np
import pytest

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


def test_training_batches_are_augmented_deterministically_and_eval_ones_are_not():
    x, y = _images()
    make = lambda training: pipeline.make_dataset(x, y, 4, [0.0] * 3, [1.0] * 3, training, True, seed=3)  # noqa: E731
    first, second = [np.concatenate([b[0] for b in make(True)]) for _ in range(2)]
    np.testing.assert_array_equal(first, second)
    evaluation = np.concatenate([b[0] for b in make(False)])
    np.testing.assert_array_equal(evaluation, x.astype("float32"))
    assert not np.array_equal(np.sort(first.ravel()), np.sort(evaluation.ravel()))  # cropped/flipped


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be > 0"),
])
def test_bad_arguments_are_refused(kwargs, message):
    x, y = _images()
    with pytest.raises(ValueError, match=message):
        pipeline.make_dataset(x, y, mean=[0] * 3, std=[1] * 3, training=True, augment=False, seed=0, **kwargs)
    with pytest.raises(ValueError, match="split must be one of"):
        pipeline.check_split("val")
