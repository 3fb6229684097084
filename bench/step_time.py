"""Seconds per training step of LIT against KD, the student alone and the teacher's forward pass.

    python -m bench.step_time                       # ResNet-110 -> ResNet-20 and ResNet-20 -> ResNet-8
    python -m bench.step_time --pairs=resnet8:resnet8 --image_size=16 --steps=3 --warmup=1   # smoke

One process, one batch, the methods interleaved step by step (so drifts of the machine hit
all of them alike); the median of `--steps` steps after `--warmup`. Rows:

- `lit`: one `LITDistiller` step (teacher forward once, student sections on the teacher's
  activations, the full student for KD; section weights updated);
- `lit_ir_only`: the same with beta 0 (IR losses only, as the StarGAN setting);
- `kd`: one `KDDistiller` step (teacher forward, student forward and backward);
- `student`: one supervised step of the student alone;
- `teacher_forward`: the teacher's inference pass alone.

The last line gives LIT/KD, LIT/student and LIT/(teacher forward + student step), the
floor of the work any distillation step does; LIT also trains the student's sections a
second time on the teacher's activations, which `lit_floor` (teacher forward + 2 student
steps) accounts for.
"""

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from bench import report  # noqa: E402

flags.DEFINE_list("pairs", ["resnet110:resnet20", "resnet20:resnet8"], "teacher:student architectures.")
flags.DEFINE_integer("batch_size", 128, "Images a step.")
flags.DEFINE_integer("image_size", 32, "Image side.")
flags.DEFINE_integer("steps", 20, "Measured steps a method.")
flags.DEFINE_integer("warmup", 3, "Unmeasured steps a method first (tracing).")
FLAGS = flags.FLAGS

BOUNDARIES = ["stem", "section_1", "section_2", "section_3"]


def _step_functions(teacher_arch, student_arch, image_size):
    """`{method: () -> None}`, each one synchronous training step (or forward pass) on one batch."""
    import keras
    import numpy as np
    import tensorflow as tf

    from lit_tf import KDDistiller
    from lit_tf import LITDistiller
    from lit_tf import models
    from lit_tf.baselines import L2Regularized

    shape = (image_size, image_size, 3)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(FLAGS.batch_size, *shape)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, FLAGS.batch_size))
    teacher = models.get(teacher_arch, image_shape=shape)

    def sgd():
        return keras.optimizers.SGD(0.01, momentum=0.9)

    def student():
        return models.get(student_arch, image_shape=shape)

    lit = LITDistiller(teacher, student(), BOUNDARIES, weight_decay=1e-4)
    lit.compile(sgd())
    ir_only = LITDistiller(teacher, student(), BOUNDARIES, beta=0.0, weight_decay=1e-4)
    ir_only.compile(sgd())
    kd = KDDistiller(teacher, student(), weight_decay=1e-4)
    kd.compile(sgd())
    alone = L2Regularized(student(), 1e-4)
    alone.compile(sgd(), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    forward = tf.function(lambda images: tf.reduce_sum(teacher(images, training=False)))
    return {
        "lit": lambda: lit.train_on_batch(x, y),
        "lit_ir_only": lambda: ir_only.train_on_batch(x, y),
        "kd": lambda: kd.train_on_batch(x, y),
        "student": lambda: alone.train_on_batch(x, y),
        "teacher_forward": lambda: forward(x).numpy(),
    }


def measure(functions, steps, warmup):
    """Median seconds of each function, called in turn `warmup + steps` times."""
    seconds = {name: [] for name in functions}
    for step in range(warmup + steps):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            if step >= warmup:
                seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def main(argv):
    del argv
    # Five models a pair, each traced once: TensorFlow's "excessive retracing" warning is expected.
    logging.set_verbosity(logging.ERROR)
    print(f"batch {FLAGS.batch_size}, {FLAGS.image_size}x{FLAGS.image_size}, median of {FLAGS.steps} steps "
          f"after {FLAGS.warmup}, interleaved")
    lines = []
    for pair in FLAGS.pairs:
        teacher_arch, student_arch = pair.split(":")
        median = measure(_step_functions(teacher_arch, student_arch, FLAGS.image_size), FLAGS.steps, FLAGS.warmup)
        print(f"\n{teacher_arch} -> {student_arch}\n| method | s/step | img/s |\n|---|---|---|")
        for name, value in median.items():
            print(f"| {name} | {value:.4f} | {FLAGS.batch_size / value:.0f} |")
        lines.append(f"{pair}: " + ", ".join(f"{k} {v:.2f}" for k, v in report.step_time_ratios(median).items()))
    print("\nratios: " + " | ".join(lines))


if __name__ == "__main__":
    app.run(main)
