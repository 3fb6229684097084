"""How far LIT compresses: test accuracy against size and deployed latency, from the frontier's runs.

    python -m bench.frontier --out=runs/frontier --publish=docs/results/cifar10_jpeg_frontier
    python -m bench.frontier --publish=docs/results/cifar10_jpeg_frontier --report_only   # re-draw

The runs are `bench.curves` runs, one `--out` folder a student architecture (`<out>/<arch>`,
`--student_arch=<arch> --student_init=teacher_blocks`), beside the teacher's workdir
(`<out>/teacher`) and the context model's (`<out>/context_resnet20`); the flagfile's comment
(`trainers/configs/cifar10_jpeg_curves.flags`) and docs/results.md give the commands. This module
copies each finished run's small files into `--publish`, times every architecture's TFLite export
at batch 1 in one run (float32 and int8, `lit_tf.export.latency`; untrained weights time the same), and
writes `report.md` and `frontier.png` there. `--report_only` re-draws from the published files.
"""

import json
import os
import sys

from absl import app
from absl import flags

from bench import curves_report
from bench import frontier_report
from bench import report

flags.DEFINE_string("out", None, "Folder of the runs: <out>/<arch>/<row>/seed<k>, <out>/teacher, "
                    "<out>/context_resnet20.")
flags.DEFINE_string("publish", None, "Folder for report.md, frontier.png, latency.json and the runs' small files.")
flags.DEFINE_bool("report_only", False, "Re-draw from --publish; copy and time nothing.")
flags.DEFINE_integer("runs", 100, "Timed TFLite invocations an architecture (after 3 untimed).")
flags.mark_flag_as_required("publish")
FLAGS = flags.FLAGS


def collect(out, publish):
    """Copies every finished run (result, config, stage curves) and the teacher's and context's results."""
    for arch_folder in sorted(os.listdir(out)):
        if arch_folder.startswith("resnet"):
            curves_report.collect(os.path.join(out, arch_folder), os.path.join(publish, arch_folder))
    for source, name in (("teacher", "teacher"), ("context_resnet20", "context")):
        for file in ("result.json", "config.json"):
            curves_report.copy_file(os.path.join(out, source, file), os.path.join(publish, name, file))
        curves_report.copy_file(os.path.join(out, source, "teacher_adapt", "history.csv"),
                                os.path.join(publish, name, "teacher_adapt", "history.csv"))


def measure_latency(archs, runs):
    """`{arch: {"float32": s, "int8": s}}`, each TFLite export timed at batch 1 with 2 threads."""
    from lit_tf import models
    from lit_tf.export import latency

    return {arch: {kind: latency.tflite_latency(models.get(arch), runs=runs, quantize=quantize)
                   for kind, quantize in (("float32", "none"), ("int8", "int8"))} for arch in archs}


def main(argv):
    del argv
    publish = FLAGS.publish
    if not FLAGS.report_only:
        if not FLAGS.out:
            print("error: --out (the runs) is required unless --report_only", file=sys.stderr)
            return 1
        collect(FLAGS.out, publish)
    points = frontier_report.read_points(publish)
    teacher = frontier_report.reference(publish, "teacher")
    if not points or teacher is None:
        print(f"error: no finished run or no teacher/result.json in {publish}", file=sys.stderr)
        return 1
    latency = frontier_report.read_latency(publish)
    if not FLAGS.report_only:
        latency = measure_latency([teacher[0]] + [p["arch"] for p in points], FLAGS.runs)
        with open(os.path.join(publish, frontier_report.LATENCY_FILE), "w") as f:
            json.dump(latency, f, indent=1)
    context = frontier_report.reference(publish, "context")
    frontier_report.write(publish, points, teacher, context, latency, " ".join(sys.argv[1:]), report.machine())
    print(frontier_report.markdown_table(points, teacher, latency))
    print(frontier_report.summary_line(points, teacher))
    return 0


if __name__ == "__main__":
    app.run(main)
