"""CIFAR-10 and CIFAR-100: through tensorflow-datasets, or a local CIFAR-10 archive.

- tensorflow-datasets (`cifar10`, `cifar100`): read from `data_dir`, downloaded
  there when this machine is online. Offline with no prepared copy, it fails at
  once with what to do, instead of tfds' ~200-second retry hang.
- A local copy of the official python archive (`cifar_dir`): a
  `cifar-10-batches-py` folder of `data_batch_*` and `test_batch` pickles of
  `{b"data": uint8 (N, 3072) channel-major, b"labels": [int]}`. It is what a
  user behind a firewall has, and what `../shared/data/cifar10-subset` is.

Either way the validation split is carved from the training data, and only the
test split is the official test set.

Example:

>>> import os
>>> from lit_tf.data import cifar
>>> folder = "../shared/data/cifar10-subset/cifar-10-batches-py"
>>> if os.path.isdir(folder):
...     images, labels = cifar.load_split(folder, "test")
...     assert images.shape[1:] == (32, 32, 3)
"""

import functools
import glob
import os
import pickle
import socket

import numpy as np

from lit_tf.data import pipeline
from lit_tf.options import NORMALIZATIONS
from lit_tf.options import check_choice

NUM_CLASSES = {"cifar10": 10, "cifar100": 100}
IMAGE_SHAPE = (32, 32, 3)
# Training-set channel statistics.
MEAN = {"cifar10": [125.31, 122.95, 113.87], "cifar100": [129.30, 124.07, 112.43]}
STD = {"cifar10": [62.99, 62.09, 66.70], "cifar100": [68.17, 65.39, 70.42]}
DOWNLOAD_HOST = ("www.cs.toronto.edu", 443)  # where tfds downloads CIFAR from


def _read_batch(path):
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype="uint8")
        labels = np.asarray(batch[b"labels"], dtype="int64")
        images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    except Exception as error:  # a truncated or foreign file fails in many ways
        raise ValueError(
            f"CIFAR batch file {path} is not a CIFAR-10 python-archive batch ({error}). "
            "Re-extract cifar-10-python.tar.gz into that folder."
        ) from error
    if len(images) != len(labels):
        raise ValueError(f"CIFAR batch file {path} has {len(images)} images but {len(labels)} labels.")
    return images, labels


@functools.lru_cache(maxsize=2)
def load_archive(cifar_dir):
    """Reads a `cifar-10-batches-py` folder into `{"train": (x, y), "test": (x, y)}`.

    Cached: the train, validation and test pipelines of one run read it once.
    """
    if os.path.isdir(os.path.join(cifar_dir, "cifar-10-batches-py")):
        cifar_dir = os.path.join(cifar_dir, "cifar-10-batches-py")
    train_files = sorted(glob.glob(os.path.join(cifar_dir, "data_batch_*")))
    test_file = os.path.join(cifar_dir, "test_batch")
    if not train_files or not os.path.exists(test_file):
        raise FileNotFoundError(
            f"No CIFAR-10 python archive in cifar_dir={cifar_dir!r}: expected data_batch_1.. and "
            "test_batch there. Extract cifar-10-python.tar.gz (from the CIFAR-10 page) "
            "into it, or use the tensorflow-datasets copy."
        )
    train = [_read_batch(path) for path in train_files]
    return {
        "train": (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])),
        "test": _read_batch(test_file),
    }


def reachable(host, timeout=5.0):
    """Whether a TCP connection to `(hostname, port)` opens: the offline probe before a tfds download."""
    try:
        socket.create_connection(host, timeout=timeout).close()
        return True
    except OSError:
        return False


def _as_arrays(dataset):
    import tensorflow_datasets as tfds

    batches = list(tfds.as_numpy(dataset.batch(4096)))
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches]).astype("int64")


@functools.lru_cache(maxsize=2)
def load_tfds(name="cifar10", data_dir=None):
    """Reads `cifar10`/`cifar100` from tensorflow-datasets into `{"train": (x, y), "test": (x, y)}`.

    Prepares (downloads) it into `data_dir` first when it is missing and the
    download host answers; offline, raises `FileNotFoundError` within seconds.
    """
    import tensorflow_datasets as tfds

    check_dataset(name)
    builder = tfds.builder(name, data_dir=data_dir)
    try:
        return {split: _as_arrays(builder.as_dataset(split=split, as_supervised=True)) for split in ("train", "test")}
    except AssertionError:  # tfds: "could not find data in <data_dir>"
        pass
    if not reachable(DOWNLOAD_HOST):
        folder = str(builder.data_dir_root)
        raise FileNotFoundError(
            f"{name} is not prepared in data_dir={folder!r} and "
            f"{DOWNLOAD_HOST[0]} cannot be reached to download it. Either run once online "
            f"(`python -c \"import tensorflow_datasets as tfds; tfds.builder('{name}', "
            f"data_dir='{folder}').download_and_prepare()\"`) or copy a prepared "
            "tensorflow_datasets folder there, or (CIFAR-10) point cifar_dir= at an extracted "
            "cifar-10-python.tar.gz."
        )
    builder.download_and_prepare()
    return {split: _as_arrays(builder.as_dataset(split=split, as_supervised=True)) for split in ("train", "test")}


def check_dataset(name):
    check_choice("dataset", name, sorted(NUM_CLASSES))


def load_split(cifar_dir, split, validation_fraction=0.1, seed=0, dataset="cifar10", data_dir=None):
    """Returns `(images, labels)` of one split: from `cifar_dir` when given, else tfds."""
    pipeline.check_split(split)
    check_dataset(dataset)
    if cifar_dir and dataset != "cifar10":
        raise ValueError(f"cifar_dir holds the CIFAR-10 python archive; dataset={dataset!r} comes from tfds. "
                         "Drop cifar_dir or use dataset='cifar10'.")
    archive = load_archive(cifar_dir) if cifar_dir else load_tfds(dataset, data_dir)
    if split == "test":
        return archive["test"]
    train, validation = pipeline.split_validation(*archive["train"], validation_fraction, seed)
    return train if split == "train" else validation




def normalization_stats(normalization="auto", dataset="cifar10"):
    """`(mean, std)` per channel in [0, 255] pixels: the dataset's own ("auto", "cifar"), or ImageNet's."""
    check_choice("normalization", normalization, NORMALIZATIONS)
    if normalization == "imagenet":
        return pipeline.IMAGENET_MEAN, pipeline.IMAGENET_STD
    return MEAN[dataset], STD[dataset]


def provide_dataset(split, batch_size, cifar_dir=None, validation_fraction=0.1, augment=True, seed=0,
                    dataset="cifar10", data_dir=None, normalization="auto", crop_padding="reflect"):
    """A `tf.data.Dataset` of normalised CIFAR batches; training batches augmented.

    Args:
        split: "train", "validation" (carved from train) or "test".
        batch_size: int > 0.
        cifar_dir: str, a local `cifar-10-batches-py` folder, or `None` for tfds.
        validation_fraction: float, the share of the training data held out.
        augment: bool, pad-4 random crop and horizontal flip of training batches.
        seed: int, fixes the validation carve, shuffling and augmentation.
        dataset: "cifar10" or "cifar100" (tfds).
        data_dir: str or `None`, the tensorflow-datasets folder.
        normalization: "cifar" (the dataset's channel statistics) or "imagenet"
            (the LIT reference's, and the PyTorch CIFAR ResNets').
        crop_padding: "reflect" or "zeros" (the reference's) for the random crop.
    """
    mean, std = normalization_stats(normalization, dataset)
    images, labels = load_split(cifar_dir, split, validation_fraction, seed, dataset, data_dir)
    return pipeline.make_dataset(
        images, labels, batch_size, mean, std, training=split == "train", augment=augment, seed=seed,
        crop_padding=crop_padding,
    )
