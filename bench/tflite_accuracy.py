"""Test accuracy of an exported TFLite classifier run with LiteRT on raw pixels, against a run's result.

    python -m bench.tflite_accuracy --tflite=docs/results/cifar10_jpeg/lit_student.tflite \
        --images=../shared/data/cifar10-jpeg --result=docs/results/cifar10_jpeg/seed0/result.json

The file must take RGB pixels in [0, 255] (the trainers' exports do: normalisation is
inside). Every image of `<images>/test` goes through the LiteRT interpreter, one at a
time, as a deployment would run it; the accuracy is printed next to `--row`'s test accuracy
in `--result` (what Keras measured in the run), and the last line is their difference.
"""

import json
import sys

from lit_tf import startup

startup.import_tensorflow()

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

flags.DEFINE_string("tflite", None, "The exported classifier (pixels in, logits out).")
flags.DEFINE_string("images", None, "Folder holding test/<class>/* images (an image_folder root).")
flags.DEFINE_string("result", None, "A run's result.json to compare with (optional).")
flags.DEFINE_string("row", "lit", "The row of result.json's 'students' (or 'teacher') to compare with.")
flags.DEFINE_integer("limit", 0, "Score only the first N test images (0: all).")
FLAGS = flags.FLAGS


def tflite_accuracy(path, images, labels):
    """Top-1 accuracy of the TFLite file at `path` on uint8 `images` with int `labels`."""
    import numpy as np

    from lit_tf import export

    logits = export.run_tflite(path, images.astype("float32"))
    return float(np.mean(np.argmax(logits, axis=-1) == labels))


def main(argv):
    del argv
    if not (FLAGS.tflite and FLAGS.images):
        print("error: pass --tflite=FILE and --images=DIR.", file=sys.stderr)
        return 1
    from lit_tf.data import image_folder

    images, labels = image_folder.load_split(FLAGS.images, "test")
    if FLAGS.limit:
        images, labels = images[:FLAGS.limit], labels[:FLAGS.limit]
    accuracy = tflite_accuracy(FLAGS.tflite, images, labels)
    print(f"| file | images | LiteRT test accuracy |\n|---|---|---|\n| {FLAGS.tflite} | {len(labels):,} | "
          f"{accuracy:.4f} |")
    if FLAGS.result:
        with open(FLAGS.result) as f:
            result = json.load(f)
        keras_accuracy = (result["teacher"] if FLAGS.row == "teacher" else result["students"][FLAGS.row])["accuracy"]
        print(f"ratios: litert {accuracy:.4f} vs keras {keras_accuracy:.4f} in {FLAGS.result} ({FLAGS.row}), "
              f"difference {100 * (accuracy - keras_accuracy):+.2f} points")
    return 0


if __name__ == "__main__":
    app.run(main)
