"""Does LIT beat training the student from scratch? Real CIFAR-10, same epoch budget.

Trains a ResNet teacher briefly, compresses it into a smaller ResNet with
`lit_tf.compress` (LIT epochs + fine-tune epochs), and trains the same student
from scratch for the same total number of epochs. Every model keeps its best
epoch by *validation* accuracy (carved from the training batches); the test
split is read once, at the end. Prints a table and a last line of ratios.

    python -m bench.lit_vs_scratch --cifar_dir=../shared/data/cifar10-subset
"""

import time

from absl import app
from absl import flags
from absl import logging

# === Data ===
flags.DEFINE_string("cifar_dir", "../shared/data/cifar10-subset", "A cifar-10-batches-py folder.")
flags.DEFINE_integer("batch_size", 64, "Batch size of every run.")
# === Models and budget ===
flags.DEFINE_string("teacher_arch", "resnet20", "Teacher architecture.")
flags.DEFINE_string("student_arch", "resnet8", "Student architecture.")
flags.DEFINE_integer("teacher_epochs", 30, "Epochs of teacher training.")
flags.DEFINE_integer("lit_epochs", 10, "LIT-stage epochs; the scratch student gets lit + finetune.")
flags.DEFINE_integer("finetune_epochs", 10, "Fine-tune epochs.")
flags.DEFINE_float("learning_rate", 0.1, "Starting SGD rate (teacher, LIT, scratch); /10 at 2/3.")
flags.DEFINE_integer("seed", 0, "Random seed.")
FLAGS = flags.FLAGS


def _best_epoch():
    import keras

    return keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=10**6, restore_best_weights=True
    )


def train_supervised(model, data, epochs, learning_rate):
    """Plain supervised training with the reference optimiser, best validation epoch kept."""
    import keras

    from lit_tf.compression import piecewise_schedule

    model.compile(
        keras.optimizers.SGD(learning_rate, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    schedule = keras.callbacks.LearningRateScheduler(piecewise_schedule(learning_rate, [epochs * 2 // 3]))
    model.fit(data["train"], validation_data=data["validation"], epochs=epochs, verbose=2,
              callbacks=[schedule, _best_epoch()])
    return model


def accuracy(model, dataset):
    import numpy as np

    hits = [np.argmax(model(x, training=False), -1) == y.numpy() for x, y in dataset]
    return float(np.mean(np.concatenate(hits)))


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    import keras

    import lit_tf
    from lit_tf.data import cifar

    keras.utils.set_random_seed(FLAGS.seed)
    data = {
        split: cifar.provide_dataset(split, FLAGS.batch_size, FLAGS.cifar_dir, seed=FLAGS.seed)
        for split in ("train", "validation", "test")
    }
    budget = FLAGS.lit_epochs + FLAGS.finetune_epochs
    rows, start = [], time.time()

    teacher = train_supervised(lit_tf.models.get(FLAGS.teacher_arch), data, FLAGS.teacher_epochs, FLAGS.learning_rate)
    teacher_row = ("teacher " + FLAGS.teacher_arch, teacher.count_params(), FLAGS.teacher_epochs)
    rows.append((*teacher_row, accuracy(teacher, data["test"])))

    student = lit_tf.models.get(FLAGS.student_arch)
    lit_tf.compress(
        teacher, student, teacher.boundaries, data["train"], data["validation"],
        lit_epochs=FLAGS.lit_epochs, lit_learning_rate=FLAGS.learning_rate,
        lit_milestones=(FLAGS.lit_epochs * 2 // 3,), finetune_epochs=FLAGS.finetune_epochs,
        finetune_learning_rate=FLAGS.learning_rate / 10, finetune_milestones=(FLAGS.finetune_epochs * 2 // 3,),
        weight_decay=0.0,  # as the supervised runs, so only the method differs
        verbose=2,
    )
    rows.append(("LIT " + FLAGS.student_arch, student.count_params(), budget, accuracy(student, data["test"])))

    keras.utils.set_random_seed(FLAGS.seed)
    scratch = train_supervised(lit_tf.models.get(FLAGS.student_arch), data, budget, FLAGS.learning_rate)
    rows.append(("scratch " + FLAGS.student_arch, scratch.count_params(), budget, accuracy(scratch, data["test"])))

    print(f"\n{'model':<20}{'params':>10}{'epochs':>8}{'test acc':>10}")
    for name, params, epochs, acc in rows:
        print(f"{name:<20}{params:>10,}{epochs:>8}{acc:>10.4f}")
    (_, tp, _, ta), (_, sp, _, la), (_, _, _, sa) = rows
    print(f"wall {time.time() - start:.0f}s; LIT/scratch accuracy {la / sa:.3f}, "
          f"LIT/teacher accuracy {la / ta:.3f}, teacher/student params {tp / sp:.2f}x")


if __name__ == "__main__":
    app.run(main)
