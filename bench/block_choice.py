"""Which blocks a student keeps: spread, the joint choice, single-block scores, block influence, a target.

    python -m bench.block_choice --out=runs/choice --image_dir=../shared/data/cifar10-jpeg \
        --publish=docs/results/cifar10_jpeg_block_choice
    python -m bench.block_choice --publish=docs/results/cifar10_jpeg_block_choice --report_only   # re-draw

The runs are `lit-cifar` runs of `trainers/configs/cifar10_jpeg_resnet56_to_resnet20.flags`
(1 + 1 epochs, the seed's teacher adapted once in `<out>/teacher_seed<k>`), one folder a row:
`<out>/<row>/<method>/seed<k>/`, `<row>` one of `ROWS` (the flags each row adds are in
docs/results.md). This module copies each finished run's `result.json` and `config.json` into
`--publish`, scores the teacher's blocks on the data the trainer weighs them on (the seed's first
128 validation images), and writes `scores.json` and `report.md`: per row the blocks kept, the
students' size, their start and their final test accuracy (mean ± std over seeds), and the joint
IR of the kept set on the teacher.
"""

import glob
import json
import os
import sys

import numpy as np
from absl import app
from absl import flags

from bench import curves_report
from bench import frontier_report
from bench import report

# Row folder -> what it is (the order of the table).
ROWS = {
    "spread_reference": "spread (0, 4, 8), the reference's rates",
    "spread_tenth": "spread (0, 4, 8), a tenth of the rates",
    "importance": "joint choice (`--student_choose=importance`)",
    "single": "best single-block IR (`--student_choose=single`)",
    "block_influence": "block influence (`--student_choose=block_influence`)",
    "target_params": "target: ResNet-20's parameters (`--target_params=0.3164`; ResNet-20 has 0.31630)",
}
METHODS = ("lit", "kd")
flags.DEFINE_string("out", None, "Folder of the runs: <out>/<row>/<method>/seed<k>, <out>/teacher_seed<k>.")
flags.DEFINE_string("image_dir", None, "The CIFAR-10 JPEG folder the runs trained on (for the blocks' scores).")
flags.DEFINE_string("publish", None, "Folder for report.md, scores.json and the runs' result and config.")
flags.DEFINE_bool("report_only", False, "Re-draw from --publish; copy and score nothing.")
flags.mark_flag_as_required("publish")
FLAGS = flags.FLAGS


def collect(out, publish):
    """Copies each finished run's result and config, and each seed teacher's."""
    for path in glob.glob(os.path.join(out, "*", "*", "seed*", "result.json")) + glob.glob(
            os.path.join(out, "teacher_seed*", "result.json")):
        run = os.path.relpath(os.path.dirname(path), out)
        for name in ("result.json", "config.json"):
            curves_report.copy_file(os.path.join(out, run, name), os.path.join(publish, run, name))


def score_teachers(out, image_dir):
    """`{seed: {"ir": [[...]], "block_influence": [[...]], "table": str}}` for every seed's teacher."""
    import keras

    from lit_tf import students
    from lit_tf.data import image_folder

    scores = {}
    for folder in sorted(glob.glob(os.path.join(out, "teacher_seed*"))):
        if not os.path.isdir(folder):  # teacher_seed0.log beside it
            continue
        seed = int(folder.rsplit("seed", 1)[1])
        teacher = keras.saving.load_model(os.path.join(folder, "models", "teacher.keras"))
        data = image_folder.provide_dataset("validation", 32, image_dir, seed=seed, augment=False)
        ir = students.block_importance(teacher, data, measure="ir")
        influence = students.block_importance(teacher, data, measure="block_influence")
        scores[seed] = {"ir": ir, "block_influence": influence,
                        "table": students.importance_table(teacher, ir),
                        "joint_ir": {}}
        probes = students.importance.section_probes(teacher, data)
        scores[seed]["kept"] = {}
        for path in glob.glob(os.path.join(out, "*", "lit", f"seed{seed}", "result.json")):
            kept = _kept_blocks(path, probes)
            if kept:
                row = path.split(os.sep)[-4]
                scores[seed]["kept"][row] = kept
                scores[seed]["joint_ir"][row] = [round(p.ir(k), 4) for p, k in zip(probes, kept)]
    return scores


def _kept_blocks(result_path, probes):
    """The blocks a run's student kept, a list a section: as its `result.json` records them, or, for a
    spread run of a tree that did not record them, the spread of its student's blocks a section."""
    from lit_tf.students import cut

    with open(result_path) as f:
        kept = json.load(f).get("student_start", {}).get("kept_blocks")
    if kept:
        return kept
    with open(os.path.join(os.path.dirname(result_path), "config.json")) as f:
        config = json.load(f)
    if config.get("student_blocks") or config.get("student_choose", "spread") != "spread":
        return None
    count = frontier_report.blocks_a_section(config["student_arch"])
    return [cut.spread(len(probe.blocks), count) for probe in probes]


def _runs(publish, row, method):
    found = []
    for path in sorted(glob.glob(os.path.join(publish, row, method, "seed*", "result.json"))):
        with open(path) as f:
            found.append(json.load(f))
    return found


def _mean_std(values):
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.4f} (one seed)"
    return f"{np.mean(values):.4f} ± {np.std(values, ddof=1):.4f} ({' / '.join(f'{v:.4f}' for v in values)})"


def markdown_table(publish, scores):
    lines = ["| row | kept blocks a stage (seed 0) | params | joint IR a stage (seed 0) | start (mean) "
             "| LIT | KD |", "|---" * 7 + "|"]
    for row, label in ROWS.items():
        runs = {method: _runs(publish, row, method) for method in METHODS}
        if not any(runs.values()):
            continue
        first = (runs["lit"] or runs["kd"])[0]
        start = first.get("student_start", {})
        seed0 = scores.get("0", scores.get(0, {}))
        kept = " / ".join(",".join(map(str, k)) for k in start.get("kept_blocks") or seed0.get("kept", {}).get(row, []))
        joint = seed0.get("joint_ir", {}).get(row)
        starts = [r["student_start"]["accuracy"] for rs in runs.values() for r in rs if "student_start" in r]
        finals = {m: [r["students"][m]["accuracy"] for r in rs] for m, rs in runs.items()}
        lines.append(f"| {label} | {kept} | {first['students'][next(iter(first['students']))]['params']:,} | "
                     f"{' / '.join(map(str, joint)) if joint else '–'} | "
                     f"{np.mean(starts):.4f} | {_mean_std(finals['lit'])} | {_mean_std(finals['kd'])} |")
    return "\n".join(lines)


def write(publish, scores, command):
    table = markdown_table(publish, scores)
    teacher_lines = ""
    for seed in sorted(scores, key=int):
        teacher_lines += (f"\n## The teacher's blocks, seed {seed}: relative IR with the block alone removed\n\n"
                          f"```\n{scores[seed]['table']}\n```\n\nBlock influence (1 - cos, the same blocks): "
                          + "; ".join(" ".join("–" if v is None else f"{v:.3f}" for v in section)
                                      for section in scores[seed]["block_influence"]) + "\n")
    with open(os.path.join(publish, "report.md"), "w") as f:
        f.write(f"# Which blocks to keep\n\n`python -m bench.block_choice {command}`\n\nMachine: {report.machine()}."
                f"\n\n{table}\n\nStudents are ResNet-20-sized cuts of the seed's adapted ResNet-56 (1 + 1 epochs, "
                "test accuracy of the epoch kept on validation; start: the cut before training), every row but "
                "the first at a tenth of the reference's rates (LIT 0.01, fine-tune 0.001: the default for a "
                "student cut from its teacher, measured by the first two rows). Joint IR: the "
                "kept set's relative IR on the teacher's activations, stage by stage.\n" + teacher_lines)
    return table


def main(argv):
    del argv
    publish = FLAGS.publish
    os.makedirs(publish, exist_ok=True)
    scores_path = os.path.join(publish, "scores.json")
    if not FLAGS.report_only:
        if not (FLAGS.out and FLAGS.image_dir):
            print("error: --out and --image_dir are required unless --report_only", file=sys.stderr)
            return 1
        collect(FLAGS.out, publish)
        with open(scores_path, "w") as f:
            json.dump(score_teachers(FLAGS.out, FLAGS.image_dir), f, indent=1)
    with open(scores_path) as f:
        scores = json.load(f)
    print(write(publish, scores, " ".join(sys.argv[1:])))
    return 0


if __name__ == "__main__":
    from lit_tf import startup

    startup.import_tensorflow()
    app.run(main)
