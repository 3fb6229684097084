"""Inference cost of teacher and student: parameters, FLOPs, Keras and TFLite latency.

    python -m bench.inference                                  # ResNet-110 teacher, ResNet-20 student
    python -m bench.inference --teacher=resnet20 --student=resnet8 --runs=5 --batch_sizes=1   # smoke

For each model: parameters, FLOPs counted from the graph (`lit_tf.export.flops`), and the median
latency over `--runs` calls of the Keras model (`tf.function`, inference mode) and of its
TFLite float32 and int8 exports in the `ai_edge_litert` interpreter with `--threads`
threads, at each batch size. Models are untrained (latency does not depend on the weights),
so the exports are not parity-checked here; `lit_tf.export` checks trained ones. The last line
compares each student speed-up with the FLOP ratio (goal: TFLite >= 0.9 of it).
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

flags.DEFINE_string("teacher", "resnet110", "Teacher architecture.")
flags.DEFINE_string("student", "resnet20", "Student architecture.")
flags.DEFINE_list("batch_sizes", ["1", "32"], "Batch sizes to time.")
flags.DEFINE_integer("runs", 50, "Timed calls a measurement (after 3 warm-up calls).")
flags.DEFINE_integer("threads", 2, "TFLite interpreter threads.")
FLAGS = flags.FLAGS


def keras_latency(model, batch, runs):
    import numpy as np
    import tensorflow as tf

    from lit_tf.export import latency

    x = tf.constant(np.random.default_rng(0).normal(size=(batch, *model.input_shape[1:])).astype("float32"))
    forward = tf.function(lambda images: model(images, training=False))
    return latency.median_seconds(lambda: forward(x).numpy(), runs)


def profile(arch, folder):
    """`{"params", "flops", "<backend>@<batch>": seconds}` of one architecture."""
    import numpy as np

    from lit_tf import export
    from lit_tf import models
    from lit_tf.export import latency
    from lit_tf.export.flops import count_flops

    model = models.get(arch)
    row = {"params": model.count_params(), "flops": count_flops(model)}
    calibration = np.random.default_rng(0).normal(size=(32, *model.input_shape[1:])).astype("float32")
    paths = {}
    for quantize, name in (("none", "tflite_f32"), ("int8", "tflite_int8")):
        paths[name] = os.path.join(folder, f"{arch}_{quantize}.tflite")
        export.to_tflite(model, paths[name], quantize=quantize, representative_data=calibration, check=False)
    for batch in [int(b) for b in FLAGS.batch_sizes]:
        row[f"keras@{batch}"] = keras_latency(model, batch, FLAGS.runs)
        for name, path in paths.items():
            row[f"{name}@{batch}"] = latency.interpreter_latency(path, batch, FLAGS.runs, FLAGS.threads)
    return row


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    with tempfile.TemporaryDirectory() as folder:
        teacher, student = profile(FLAGS.teacher, folder), profile(FLAGS.student, folder)
    timings = [key for key in teacher if "@" in key]
    print(f"latency: median of {FLAGS.runs} calls, TFLite with {FLAGS.threads} threads\n")
    print("| | " + " | ".join([FLAGS.teacher, FLAGS.student, "teacher/student"]) + " |\n|---|---|---|---|")
    print(f"| params | {teacher['params']:,} | {student['params']:,} | {teacher['params'] / student['params']:.2f}x |")
    flop_ratio = teacher["flops"] / student["flops"]
    print(f"| FLOPs | {teacher['flops'] / 1e6:.1f} M | {student['flops'] / 1e6:.1f} M | {flop_ratio:.2f}x |")
    for key in timings:
        speedup = teacher[key] / student[key]
        print(f"| {key} ms | {teacher[key] * 1e3:.2f} | {student[key] * 1e3:.2f} | {speedup:.2f}x |")
    shares = ", ".join(f"{key} {teacher[key] / student[key] / flop_ratio:.2f}" for key in timings)
    print(f"\nratios: FLOPs {flop_ratio:.2f}x; speed-up / FLOP ratio: {shares}")


if __name__ == "__main__":
    app.run(main)
