"""The paper's comparison, several seeds: teacher, LIT, KD, FitNets and scratch rows, mean ± std.

    python -m bench.reproduce --flagfile=trainers/configs/cifar10_subset.flags --seeds=0,1,2 \
        --out=runs/reproduce

Each seed is one `lit_tf.experiments.cifar.run` in `<out>/seed<k>` (resumable, like the trainer:
run the same command again to continue). Then it prints the table, writes `<out>/report.md`
and `<out>/compression.png` (test accuracy against parameters, one point per method, the
teacher marked), and ends with a line of ratios. The full-scale comparison is the same
command with `--flagfile=trainers/configs/resnet110_to_resnet20.flags`.

`--context_weights=PATH --context_arch=resnet20` adds a context row per seed: that
pretrained checkpoint adapted to the data with the teacher's recipe (`--adapt_*`), in
`<out>/seed<k>/context`: what ordinary training of the student's architecture reaches.
"""

import dataclasses
import os
import sys

from lit_tf import startup

startup.import_tensorflow()

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from bench import report  # noqa: E402
from trainers import cifar  # noqa: E402,F401  (defines the trainer's flags, parsed from --flagfile)

flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds; one run each.")
flags.DEFINE_string("out", None, "Folder of the runs and the report.")
flags.DEFINE_string("context_weights", None, "A pretrained checkpoint of --context_arch, adapted like the teacher "
                    "and reported as a context row.")
flags.DEFINE_string("context_arch", "resnet20", "Architecture of --context_weights.")
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    import keras

    from lit_tf.experiments import cifar as experiment

    results = []
    base = cifar.config_from_flags()
    for seed in [int(s) for s in FLAGS.seeds]:
        config = dataclasses.replace(base, seed=seed)
        print(f"[reproduce] seed {seed}: {config.teacher_arch} -> {config.student_arch}, mode {config.mode}",
              flush=True)
        try:
            results.append(experiment.run(config, os.path.join(FLAGS.out, f"seed{seed}")))
            if FLAGS.context_weights:
                context = dataclasses.replace(config, mode="teacher", teacher_arch=FLAGS.context_arch,
                                              teacher_weights=FLAGS.context_weights, export=False)
                print(f"[reproduce] seed {seed}: context row, {FLAGS.context_arch} from {FLAGS.context_weights}",
                      flush=True)
                results[-1]["context"] = experiment.run(context, os.path.join(FLAGS.out, f"seed{seed}",
                                                                               "context"))["teacher"]
        except (ValueError, FileNotFoundError, FloatingPointError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        keras.backend.clear_session()
    rows = report.rows(results)
    table = report.markdown_table(rows)
    print(table)
    machine = report.machine()
    seconds = [result.get("training_seconds") for result in results]
    if None not in seconds:  # runs finished by lit_tf 0.2 and earlier did not record it
        machine += "; training time per seed (every epoch, across restarts): " + ", ".join(
            f"{value:,.0f} s" for value in seconds)
    report.write(FLAGS.out, rows, table, " ".join(sys.argv[1:]), machine=machine)
    print(report.ratio_line(rows))
    return 0


if __name__ == "__main__":
    app.run(main)
