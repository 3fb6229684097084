"""`trainers.stargan` in a process of its own on tensorflow-datasets' mock CelebA (16 images).

For tests that kill the trainer: mock data reaches only the process that enters `mock_data`.

    python tests/trainers/stargan_on_mock_data.py --mode=teacher --workdir=... [flags]
"""

import tensorflow_datasets as tfds

from trainers import stargan

if __name__ == "__main__":
    with tfds.testing.mock_data(num_examples=16):
        stargan.run()
