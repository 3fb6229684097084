"""The paper's comparison, several seeds: teacher, LIT, KD, FitNets and scratch rows, mean ± std.

    python -m bench.reproduce --flagfile=trainers/configs/cifar10_subset.flags --seeds=0,1,2 \
        --out=runs/reproduce

Each seed is one `lit_tf.experiment.run` in `<out>/seed<k>` (resumable, like the trainer:
run the same command again to continue). Then it prints the table, writes `<out>/report.md`
and `<out>/compression.png` (test accuracy against parameters, one point per method, the
teacher marked), and ends with a line of ratios. The full-scale comparison is the same
command with `--flagfile=trainers/configs/resnet110_to_resnet20.flags`.
"""

import dataclasses
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from bench import report  # noqa: E402
from trainers import cifar  # noqa: E402,F401  (defines the trainer's flags, parsed from --flagfile)

flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; one run each.")
flags.DEFINE_string("out", None, "Folder of the runs and the report.")
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    import keras

    from lit_tf import experiment

    results = []
    base = cifar.config_from_flags()
    for seed in [int(s) for s in FLAGS.seeds]:
        config = dataclasses.replace(base, seed=seed)
        print(f"[reproduce] seed {seed}: {config.teacher_arch} -> {config.student_arch}, mode {config.mode}",
              flush=True)
        try:
            results.append(experiment.run(config, os.path.join(FLAGS.out, f"seed{seed}")))
        except (ValueError, FileNotFoundError, FloatingPointError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        keras.backend.clear_session()
    rows = report.rows(results)
    table = report.markdown_table(rows)
    print(table)
    report.write(FLAGS.out, rows, table, " ".join(sys.argv[1:]))
    print(report.ratio_line(rows))
    return 0


if __name__ == "__main__":
    app.run(main)
