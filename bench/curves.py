"""The learning curves: how close each method gets to the teacher as the budget grows.

    python -m bench.curves --flagfile=trainers/configs/cifar10_jpeg_curves.flags --out=runs/curves \
        --runs=lit/0,kd/0,scratch/0,lit/1,kd/1,scratch/1,fitnets/0 \
        --context_results=docs/results/cifar10_jpeg/seed0/context_result.json \
        --publish=docs/results/cifar10_jpeg_curves

A teacher given with `--adapt_epochs` is adapted once, in `<out>/teacher`, and every run
distils from that one model. Each run `<row>/<seed>` is one `lit_tf.experiments.cifar.run` in
`<out>/<row>/seed<k>` (resumable: run the same command again to continue; runs are taken in
the order given). A row is a method (`lit`, `kd`, `fitnets`, `scratch`) or a method and a
student start (`lit_teacher_blocks`). The flagfile should set `--test_curve`: the curves are
each stage's test accuracy after every epoch, a report; epochs are kept on validation.
Then it writes `report.md` and `curves.png` (test accuracy against training hours and against
epochs, the teacher and the `--context_results` models as lines) into `--publish` (with each
finished run's result and curves, no checkpoints) or `--out`, and prints the table.
`--report_only` draws from what is finished without training.
"""

import dataclasses
import json
import os
import sys

from lit_tf import startup

startup.import_tensorflow()

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl import logging  # noqa: E402

from bench import curves_report  # noqa: E402
from bench import report  # noqa: E402
from trainers import cifar  # noqa: E402,F401  (defines the trainer's flags, parsed from --flagfile)

flags.DEFINE_string("out", None, "Folder of the runs (workdirs with checkpoints).")
flags.DEFINE_list("runs", [], "Runs in the order to train them, each <row>/<seed>, e.g. lit/0,kd/0,lit/1.")
flags.DEFINE_list("context_results", [], "result.json files of reference models (mode teacher) drawn as lines.")
flags.DEFINE_string("publish", None, "Folder for report.md, curves.png and the runs' small files; default --out.")
flags.DEFINE_bool("report_only", False, "Draw from the finished runs; train nothing.")
flags.mark_flag_as_required("out")
FLAGS = flags.FLAGS


def _parse_run(spec):
    row, _, seed = spec.partition("/")
    if not curves_report.method_of(row) or not seed.isdigit():
        raise ValueError(f"A run is <row>/<seed> with a row of {list(curves_report.STAGES)} (optionally "
                         f"<method>_<student start>) and an integer seed. Received: {spec!r}")
    method = curves_report.method_of(row)
    return row, method, row[len(method) + 1:] or None, int(seed)


def _teacher(base, out):
    """The teacher's path, adapted once in `<out>/teacher` when the flags adapt it."""
    from lit_tf.experiments import cifar as experiment

    if not base.adapt_epochs:
        return base, None
    config = dataclasses.replace(base, mode="teacher", export=False)
    print(f"[curves] teacher: {config.teacher_arch} from {config.teacher_weights}, adapted once", flush=True)
    result = experiment.run(config, os.path.join(out, "teacher"))
    adapted = os.path.join(out, "teacher", "models", "teacher.keras")
    return dataclasses.replace(base, teacher_weights=adapted, adapt_epochs=0), result["teacher"]


def _train(base, runs, out):
    import keras

    from lit_tf.experiments import cifar as experiment

    base, teacher = _teacher(base, out)
    for row, method, start, seed in runs:
        config = dataclasses.replace(base, mode=method, seed=seed, export=False)
        if start:
            config = dataclasses.replace(config, student_init=start)
        print(f"[curves] {row} seed {seed}: {config.teacher_arch} -> {config.student_arch}", flush=True)
        experiment.run(config, os.path.join(out, row, f"seed{seed}"))
        keras.backend.clear_session()
    return teacher


def _lines(out, context_results):
    lines = {}
    teacher = os.path.join(out, "teacher", "result.json")
    if os.path.exists(teacher):
        with open(teacher) as f:
            summary = json.load(f)["teacher"]
        lines[f"teacher {summary['arch']}"] = summary["accuracy"]
    context = {}
    for path in context_results:
        with open(path) as f:
            summary = json.load(f)["teacher"]
        context.setdefault(f"{summary['arch']} trained conventionally", []).append(summary["accuracy"])
    lines.update({label: sum(values) / len(values) for label, values in context.items()})  # mean over the files
    return lines


def main(argv):
    del argv
    logging.set_verbosity(logging.WARNING)
    try:
        runs = [_parse_run(spec) for spec in FLAGS.runs]
        if not FLAGS.report_only:
            _train(cifar.config_from_flags(), runs, FLAGS.out)
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    publish = FLAGS.publish or FLAGS.out
    if publish != FLAGS.out:
        curves_report.collect(FLAGS.out, publish)
        for name in ("result.json", "config.json"):
            curves_report.copy_file(os.path.join(FLAGS.out, "teacher", name), os.path.join(publish, "teacher", name))
    rows = curves_report.read_rows(publish)
    if not rows:
        print(f"error: no finished run in {publish}", file=sys.stderr)
        return 1
    lines = _lines(publish, FLAGS.context_results)
    table = (curves_report.markdown_table(rows) + "\n\n"
             + curves_report.fastest_line(rows, curves_report.fastest_epoch_seconds(publish)))
    curves_report.write(publish, rows, table, " ".join(sys.argv[1:]), report.machine(), lines)
    print(table)
    print(curves_report.ratio_line(rows, lines))
    return 0


if __name__ == "__main__":
    app.run(main)
