"""Tests for lit_tf.data.cifar on a synthetic archive and, when present, the real subset."""

import os
import pickle

import numpy as np
import pytest

from lit_tf.data import cifar
from tests import test_case

SUBSET = os.path.join(test_case.SHARED, "data", "cifar10-subset")


def _write_archive(folder, per_batch=6):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ["data_batch_1", "data_batch_2", "test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8), b"labels": list(range(per_batch))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    return folder


def test_reads_the_official_layout_channel_major(tmp_path):
    folder = _write_archive(tmp_path / "cifar-10-batches-py")
    archive = cifar.load_archive(str(tmp_path))  # the parent folder works too
    with open(folder / "test_batch", "rb") as f:
        raw = pickle.load(f, encoding="bytes")[b"data"]
    x, y = archive["test"]
    assert x.shape == (6, 32, 32, 3) and list(y) == list(range(6))
    np.testing.assert_array_equal(x[0, :, :, 1].ravel(), raw[0, 1024:2048])
    assert len(archive["train"][0]) == 12


def test_missing_folder_and_corrupt_batch_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Extract cifar-10-python.tar.gz"):
        cifar.load_archive(str(tmp_path / "nowhere"))
    folder = _write_archive(tmp_path / "cifar-10-batches-py")
    (folder / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="data_batch_2 is not a CIFAR-10 python-archive batch"):
        cifar.load_archive(str(folder))


@test_case.needs_shared("data/cifar10-subset")
def test_real_subset_loads_with_all_classes():
    images, labels = next(iter(cifar.provide_dataset("train", 64, SUBSET)))
    assert images.shape == (64, 32, 32, 3)
    x, y = cifar.load_split(SUBSET, "test")
    assert len(x) == 932 and set(y) == set(range(10))
    assert abs(float(np.mean(images))) < 0.5  # normalised with CIFAR statistics
