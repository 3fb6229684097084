"""Datasets as `tf.data` pipelines of `(image, label)` batches: digits, CIFAR."""
