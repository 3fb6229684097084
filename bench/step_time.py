"""Seconds per training step of LIT against KD, the student alone and the teacher's forward pass,
and against the same steps of an earlier commit.

    python -m bench.step_time                               # ResNet-110 and ResNet-56 -> ResNet-20
    python -m bench.step_time --before=e5a713f              # also that commit's steps: lit_vs_before
    python -m bench.step_time --pairs=resnet8:resnet8 --image_size=16 --steps=3 --warmup=1   # smoke

Each tree runs in its own worker process (`bench/step_worker.py`) on one fixed batch; the
methods and trees are interleaved step by step (so drifts of the machine hit all of them
alike, and only one worker computes at a time); the median of `--steps` steps after
`--warmup`. `--before` takes a git revision (checked out in a temporary worktree, removed
after) or a directory holding another checkout; its worker starts TensorFlow as that tree
does. The methods are `step_worker.step_functions`' five.

Per pair, the ratio line gives LIT/KD, LIT/student and LIT/(teacher forward + student step),
the floor of the work any distillation step does, and LIT's own floor (teacher forward + 2
student steps: LIT also trains the sections on the teacher's activations); with `--before`,
`lit_vs_before`, `kd_vs_before` and `student_vs_before` (now / before, below 1 is faster).
"""

import contextlib
import os
import subprocess
import tempfile

from absl import app
from absl import flags

from bench import report
from bench.workers import HERE
from bench.workers import Worker
from bench.workers import measure

flags.DEFINE_list("pairs", ["resnet110:resnet20", "resnet56:resnet20"], "teacher:student architectures.")
flags.DEFINE_integer("batch_size", 128, "Images a step.")
flags.DEFINE_integer("image_size", 32, "Image side.")
flags.DEFINE_integer("steps", 20, "Measured steps a method.")
flags.DEFINE_integer("warmup", 3, "Unmeasured steps a method first (tracing).")
flags.DEFINE_string("before", None, "A git revision or a checkout directory to compare with (lit_vs_before).")
FLAGS = flags.FLAGS

COMPARED = ("lit", "kd", "student")


@contextlib.contextmanager
def checkout(before):
    """The directory of `before`: itself if it is one, else a temporary git worktree of that revision."""
    if before is None or os.path.isdir(before):
        yield before
        return
    with tempfile.TemporaryDirectory() as parent:
        tree = os.path.join(parent, "before")
        subprocess.run(["git", "-C", HERE, "worktree", "add", "--detach", tree, before], check=True,
                       capture_output=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", HERE, "worktree", "remove", "--force", tree], capture_output=True)


def _pair(teacher, student, before_tree):
    trees = {"now": HERE, **({"before": before_tree} if before_tree else {})}
    workers = {}
    try:
        for label, tree in trees.items():
            workers[label] = Worker.for_tree(tree, teacher, student, FLAGS.image_size, FLAGS.batch_size)
        methods = {label: worker.methods if label == "now" else list(COMPARED) for label, worker in workers.items()}
        return measure(workers, methods, FLAGS.steps, FLAGS.warmup)
    finally:
        for worker in workers.values():
            worker.close()


def main(argv):
    del argv
    print(f"batch {FLAGS.batch_size}, {FLAGS.image_size}x{FLAGS.image_size}, median of {FLAGS.steps} steps "
          f"after {FLAGS.warmup}, interleaved" + (f"; before = {FLAGS.before}" if FLAGS.before else ""))
    lines = []
    with checkout(FLAGS.before) as before_tree:
        for pair in FLAGS.pairs:
            teacher, student = pair.split(":")
            median = _pair(teacher, student, before_tree)
            now = {method: value for (label, method), value in median.items() if label == "now"}
            header = "| method | s/step | img/s |" + (" before s/step | now/before |" if before_tree else "")
            print(f"\n{teacher} -> {student}\n{header}\n" + "|---" * (header.count("|") - 1) + "|")
            for method, value in now.items():
                row = f"| {method} | {value:.4f} | {FLAGS.batch_size / value:.0f} |"
                if ("before", method) in median:
                    row += f" {median[('before', method)]:.4f} | {value / median[('before', method)]:.2f} |"
                elif before_tree:
                    row += " | |"
                print(row)
            ratios = report.step_time_ratios(now)
            if before_tree:
                ratios.update({f"{m}_vs_before": now[m] / median[("before", m)] for m in COMPARED})
            lines.append(f"{pair}: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    print("\nratios: " + " | ".join(lines))


if __name__ == "__main__":
    app.run(main)
