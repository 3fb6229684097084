"""Tests for lit_tf.data.registry, and CIFAR through tensorflow-datasets (mocked, never the network)."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from lit_tf.data import cifar
from lit_tf.data import registry


@pytest.fixture(autouse=True)
def _fresh_tfds_cache():
    cifar.load_tfds.cache_clear()
    yield
    cifar.load_tfds.cache_clear()


def test_describes_every_dataset_and_refuses_others():
    named = [n for n in registry.DATASETS if n != "image_folder"]  # tests/data/test_image_folder.py has it
    assert [registry.describe(n) for n in named] == [(10, (32, 32, 3)), (100, (32, 32, 3)), (10, (32, 32, 3))]
    with pytest.raises(ValueError, match="dataset must be one of \\('cifar10', 'cifar100', 'digits', "
                                         "'image_folder'\\). Received: dataset='mnist'"):
        registry.provide_dataset("mnist", "train", 4)


def test_cifar100_comes_from_tfds_with_validation_carved_from_train():
    with tfds.testing.mock_data(num_examples=16):
        train = [y for _, y in registry.provide_dataset("cifar100", "train", 4, validation_fraction=0.25).unbatch()]
        validation = list(registry.provide_dataset("cifar100", "validation", 4, validation_fraction=0.25).unbatch())
        test_images, test_labels = next(iter(registry.provide_dataset("cifar100", "test", 16)))
    assert (len(train), len(validation), len(test_labels)) == (12, 4, 16)
    assert test_images.shape == (16, 32, 32, 3) and np.all((test_labels >= 0) & (test_labels < 100))


def test_cifar_dir_is_only_for_cifar10():
    with pytest.raises(ValueError, match="cifar_dir holds the CIFAR-10 python archive"):
        registry.provide_dataset("cifar100", "train", 4, cifar_dir="/somewhere")


def test_offline_without_prepared_data_fails_fast_naming_the_ways_out(tmp_path, monkeypatch):
    probes = []
    monkeypatch.setattr(cifar, "reachable", lambda host, timeout=5.0: probes.append(timeout) or False)
    with pytest.raises(FileNotFoundError) as error:
        registry.provide_dataset("cifar10", "train", 4, data_dir=str(tmp_path))
    assert probes == [5.0]  # one short probe instead of tfds' ~200-second retries
    message = str(error.value)
    assert f"cifar10 is not prepared in data_dir='{tmp_path}'" in message
    assert "download_and_prepare()" in message and "point cifar_dir= at" in message
