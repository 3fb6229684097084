"""Offline LIT quickstart: teacher -> LIT -> fine-tune -> TFLite, on bundled digits.

Trains a ResNet-14 teacher on scikit-learn's digits (resized to 32x32x3),
compresses it into a ResNet-8 with `lit_tf.compress`, exports the student to
SavedModel and TFLite with parity checks, and writes `result.json`.

    python -m examples.digits_quickstart --workdir=/tmp/lit_quickstart
"""

import json
import os
import time

from absl import app
from absl import flags
from absl import logging

# === Run ===
flags.DEFINE_string("workdir", "/tmp/lit_quickstart", "Where result.json and the exports go.")
flags.DEFINE_integer("teacher_epochs", 12, "Epochs of teacher training.")
flags.DEFINE_integer("lit_epochs", 6, "Epochs of the LIT stage.")
flags.DEFINE_integer("finetune_epochs", 6, "Epochs of the fine-tune stage.")
flags.DEFINE_integer("batch_size", 64, "Batch size of every stage.")
flags.DEFINE_integer("seed", 0, "Random seed.")
FLAGS = flags.FLAGS


def evaluate(model, dataset):
    correct = total = 0
    for images, labels in dataset:
        predictions = model(images, training=False).numpy().argmax(-1)
        correct += int((predictions == labels.numpy()).sum())
        total += len(predictions)
    return correct / total


def run(workdir, teacher_epochs, lit_epochs, finetune_epochs, batch_size, seed):
    """Runs the whole pipeline and returns the result dict written to `workdir`."""
    import keras

    import lit_tf
    from lit_tf import export
    from lit_tf.data import digits

    keras.utils.set_random_seed(seed)
    os.makedirs(workdir, exist_ok=True)
    data = {s: digits.provide_dataset(s, batch_size, seed=seed) for s in ("train", "validation", "test")}
    build = lambda depth: lit_tf.models.CifarResNet(depth=depth, num_classes=10)  # noqa: E731
    start = time.time()

    print(f"[quickstart] Training the teacher (ResNet-14) for {teacher_epochs} epochs")
    teacher = build(14)
    teacher.compile(
        keras.optimizers.SGD(0.05, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    teacher.fit(data["train"], validation_data=data["validation"], epochs=teacher_epochs, verbose=2)

    student = build(8)
    lit_tf.compress(
        teacher, student, teacher.boundaries, data["train"], data["validation"],
        lit_epochs=lit_epochs, lit_learning_rate=0.05, lit_milestones=(lit_epochs * 2 // 3,),
        finetune_epochs=finetune_epochs, finetune_learning_rate=0.01,
        finetune_milestones=(finetune_epochs * 2 // 3,), verbose=2,
    )

    samples = next(iter(data["validation"]))[0].numpy()
    saved = export.to_saved_model(student, os.path.join(workdir, "export", "student_savedmodel"), samples)
    tflite = export.to_tflite(student, os.path.join(workdir, "export", "student.tflite"), sample_data=samples)
    result = {
        "dataset": "digits",
        "teacher": {"arch": "resnet14", "params": teacher.count_params(), "accuracy": evaluate(teacher, data["test"])},
        "student": {"arch": "resnet8", "params": student.count_params(), "accuracy": evaluate(student, data["test"])},
        "export": {"saved_model_max_abs_diff": saved.max_abs_diff, "tflite_max_abs_diff": tflite.max_abs_diff},
        "epochs": {"teacher": teacher_epochs, "lit": lit_epochs, "finetune": finetune_epochs},
        "wall_seconds": round(time.time() - start, 1),
    }
    with open(os.path.join(workdir, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    ratio = result["teacher"]["params"] / result["student"]["params"]
    print(
        f"[quickstart] test accuracy: teacher {result['teacher']['accuracy']:.3f}, "
        f"LIT student {result['student']['accuracy']:.3f} ({ratio:.1f}x fewer parameters); "
        f"wrote {workdir}/result.json and {workdir}/export/"
    )
    return result


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    run(FLAGS.workdir, FLAGS.teacher_epochs, FLAGS.lit_epochs, FLAGS.finetune_epochs, FLAGS.batch_size, FLAGS.seed)


if __name__ == "__main__":
    app.run(main)
