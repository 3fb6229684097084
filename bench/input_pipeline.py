"""Images a second the CIFAR input pipeline delivers, against what a LIT step consumes.

    python -m bench.input_pipeline --cifar_dir=../shared/data/cifar10-subset
    python -m bench.input_pipeline --batches=5 --teacher=resnet8 --student=resnet8 --steps=2   # smoke

The pipeline is `lit_tf.data.cifar.provide_dataset("train", ...)` with augmentation (pad-4
crop, flip, normalisation, `cache -> shuffle -> batch -> prefetch`), timed over `--batches`
batches after one warm-up pass has filled the cache. Without `--cifar_dir` it reads a
synthetic archive of `--images` random images in the official layout. The LIT side is the
median `LITDistiller` step of `bench.step_worker` on the same batch size. Measured one after
the other on the same cores; the last line is pipeline/LIT (goal: >= 3).
"""

import os
import pickle
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

from bench import step_time  # noqa: E402,F401  (its flags: --batch_size, --image_size, --steps, --warmup)
from bench import step_worker  # noqa: E402
from lit_tf.export import latency  # noqa: E402

flags.DEFINE_string("cifar_dir", None, "A cifar-10-batches-py folder; default: a synthetic one.")
flags.DEFINE_integer("images", 5000, "Images in the synthetic archive.")
flags.DEFINE_integer("batches", 100, "Timed batches (the pipeline repeats as needed).")
flags.DEFINE_string("teacher", "resnet110", "Teacher of the LIT step.")
flags.DEFINE_string("student", "resnet20", "Student of the LIT step.")
FLAGS = flags.FLAGS


def synthetic_archive(folder, images):
    """Writes `images` random CIFAR-sized images as `data_batch_1` and `test_batch`."""
    import numpy as np

    rng = np.random.default_rng(0)
    os.makedirs(folder, exist_ok=True)
    for name, count in (("data_batch_1", images), ("test_batch", 100)):
        batch = {b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, count).tolist()}
        with open(os.path.join(folder, name), "wb") as f:
            pickle.dump(batch, f)
    return folder


def pipeline_images_per_second(cifar_dir, batch_size, batches):
    from lit_tf.data import cifar

    dataset = cifar.provide_dataset("train", batch_size, cifar_dir, augment=True).repeat()
    iterator = iter(dataset)
    steps_per_pass = -(-len(cifar.load_split(cifar_dir, "train")[0]) // batch_size)
    for _ in range(steps_per_pass):  # one pass: the cache is filled
        next(iterator)
    start, images = time.perf_counter(), 0
    for _ in range(batches):
        images += int(next(iterator)[0].shape[0])
    return images / (time.perf_counter() - start)


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as folder:
        cifar_dir = FLAGS.cifar_dir or synthetic_archive(folder, FLAGS.images)
        pipeline = pipeline_images_per_second(cifar_dir, FLAGS.batch_size, FLAGS.batches)
    functions = step_worker.step_functions(FLAGS.teacher, FLAGS.student, FLAGS.image_size, FLAGS.batch_size)
    lit_seconds = latency.median_seconds(functions["lit"], FLAGS.steps, FLAGS.warmup)
    lit = FLAGS.batch_size / lit_seconds
    source = FLAGS.cifar_dir or f"synthetic archive of {FLAGS.images} images"
    print(f"batch {FLAGS.batch_size}; data: {source}\n")
    print("| side | images/s |\n|---|---|")
    print(f"| input pipeline (augmented, {FLAGS.batches} batches) | {pipeline:.0f} |")
    print(f"| LIT step {FLAGS.teacher} -> {FLAGS.student} (median of {FLAGS.steps}) | {lit:.0f} |")
    print(f"\nratios: pipeline/LIT {pipeline / lit:.1f}")


if __name__ == "__main__":
    app.run(main)
