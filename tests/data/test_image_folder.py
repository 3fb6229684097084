"""Tests for lit_tf.data.image_folder: class-per-folder images, and every bad folder refused clearly."""

import os

import numpy as np
import pytest
import tensorflow as tf

from lit_tf.data import image_folder
from lit_tf.data import registry

CLASSES = ("cat", "dog", "emu")


def make_folder(root, classes=CLASSES, test_classes=None, per_class=4, size=8):
    """`root/{train,test}/<class>/<i>.png`: class k's images have every pixel 40·k + i."""
    for split, names in (("train", classes), ("test", test_classes or classes)):
        for k, name in enumerate(names):
            os.makedirs(os.path.join(root, split, name), exist_ok=True)
            for i in range(per_class):
                pixels = np.full((size, size, 3), 40 * k + i, np.uint8)
                tf.io.write_file(os.path.join(root, split, name, f"{i}.png"), tf.io.encode_png(pixels))
    return str(root)


def test_images_and_labels_come_from_the_folders_exactly(tmp_path):
    root = make_folder(tmp_path / "data")
    assert image_folder.describe(root) == (3, (8, 8, 3), list(CLASSES))
    images, labels = image_folder.load_split(root, "test")
    assert images.dtype == np.uint8 and images.shape == (12, 8, 8, 3)
    np.testing.assert_array_equal(images[:, 0, 0, 0] // 40, labels)  # each image is its own class's
    assert sorted(labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    train, validation = (image_folder.load_split(root, s, validation_fraction=0.25) for s in ("train", "validation"))
    assert len(train[0]) == 9 and len(validation[0]) == 3


def test_the_registry_serves_normalised_batches(tmp_path):
    root = make_folder(tmp_path / "data")
    assert registry.describe("image_folder", root) == (3, (8, 8, 3))
    batch, _ = next(iter(registry.provide_dataset("image_folder", "test", 12, image_dir=root,
                                                  normalization="imagenet")))
    images, _ = image_folder.load_split(root, "test")
    mean, std = registry.normalization_stats("image_folder", "imagenet")
    np.testing.assert_allclose(batch, (images - np.array(mean)) / np.array(std), rtol=1e-5)
    with pytest.raises(ValueError, match="pass image_dir=DIR"):
        registry.describe("image_folder")


def test_bad_folders_are_refused_with_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No 'train' folder in image_dir=.*nowhere.*<class>/<image>"):
        image_folder.describe(str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    (empty / "train").mkdir(parents=True)
    (empty / "test").mkdir()
    with pytest.raises(ValueError, match=r"empty/train has no class folders"):
        image_folder.describe(str(empty))
    mismatched = make_folder(tmp_path / "mismatched", test_classes=("cat", "dog", "yak"))
    with pytest.raises(ValueError, match=r"differ: only in train \['emu'\], only in test \['yak'\]"):
        image_folder.describe(mismatched)


def test_an_unreadable_image_is_named(tmp_path):
    root = make_folder(tmp_path / "data")
    broken = os.path.join(root, "train", "dog", "2.png")
    with open(broken, "wb") as f:
        f.write(b"not an image")
    with pytest.raises(ValueError, match=r"Cannot read image .*train/dog/2.png"):
        image_folder.load_folder(root)


def test_max_per_class_reads_only_the_first_images_of_each_class(tmp_path):
    root = make_folder(tmp_path / "data", per_class=6)
    for split in ("train", "test"):  # a broken last file: decoding it would fail
        (tmp_path / "data" / split / "dog" / "9.png").write_bytes(b"not a png")
    images, labels = image_folder.load_split(root, "test", max_per_class=2)
    assert sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]
    assert sorted((images[:, 0, 0, 0] % 40).tolist()) == [0, 0, 0, 1, 1, 1]  # files 0.png and 1.png of each class
    batch = next(iter(image_folder.provide_dataset("train", 4, root, validation_fraction=0.25, max_per_class=4)))
    assert batch[0].shape == (4, 8, 8, 3)
    with pytest.raises(ValueError, match="Cannot read image .*9.png"):
        image_folder.load_split(root, "test")


def test_the_test_split_is_mixed_across_classes_in_one_fixed_order(tmp_path):
    root = make_folder(tmp_path / "data", per_class=8)
    first = next(iter(image_folder.provide_dataset("test", 8, root, augment=False)))[1].numpy()
    assert len(set(first.tolist())) == 3  # take(1) holds every class, not class 0 only
    again = next(iter(image_folder.provide_dataset("test", 8, root, augment=False, seed=5)))[1].numpy()
    np.testing.assert_array_equal(first, again)  # the same order for every seed
    validation = image_folder.load_split(root, "validation", validation_fraction=0.5)[1]
    assert len(set(validation[:6].tolist())) > 1
