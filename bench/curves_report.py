"""Learning curves from finished runs: test accuracy against training hours and epochs, the table, report.md.

A curves folder holds one run a row and seed, `<row>/seed<k>/`, each a `lit_tf.experiments.cifar`
workdir (or the copy `collect` makes of its small files): `result.json` and each stage's
`test_accuracy.csv` and `epoch_seconds.csv` (the trainer's `--test_curve`). A row is a
student method (`lit`, `kd`, `fitnets`, `scratch`), optionally with its start
(`lit_teacher_blocks`). The test accuracies are a report: every kept epoch was chosen on
validation data.

Example:

>>> import json, os, tempfile
>>> from bench import curves_report
>>> out = tempfile.mkdtemp()
>>> for seed, accuracies in ((0, (0.5, 0.7)), (1, (0.6, 0.8))):
...     for stage, accuracy in zip(("lit", "finetune"), accuracies):
...         os.makedirs(os.path.join(out, "lit", f"seed{seed}", stage))
...         with open(os.path.join(out, "lit", f"seed{seed}", stage, "test_accuracy.csv"), "w") as f:
...             _ = f.write(f"epoch,test_accuracy\\n0,{accuracy}\\n")
...         with open(os.path.join(out, "lit", f"seed{seed}", stage, "epoch_seconds.csv"), "w") as f:
...             _ = f.write("epoch,seconds\\n0,1800\\n")
...     result = {"students": {"lit": {"accuracy": accuracies[1]}}, "training_seconds": 3600}
...     with open(os.path.join(out, "lit", f"seed{seed}", "result.json"), "w") as f:
...         json.dump(result, f)
>>> rows = curves_report.read_rows(out)
>>> [(r["row"], r["epochs"], [round(a, 2) for a in r["mean"]], r["hours"]) for r in rows]
[('lit', [1, 2], [0.55, 0.75], [0.5, 1.0])]
>>> curves_report.hours_to(rows[0], 0.7)
1.0
>>> curves_report.epochs_to(rows[0], 0.7)
2
>>> fastest = curves_report.fastest_epoch_seconds(out)
>>> fastest
{'finetune': 1800.0, 'lit': 1800.0}
>>> curves_report.fastest_hours_to(rows[0], 0.7, fastest)
1.0
>>> curves_report.common_level(rows), curves_report.axis_bottom(rows)
(0.75, 0.5)
"""

import glob
import json
import os
import shutil

import numpy as np

from lit_tf.experiments.workdir import EPOCH_SECONDS_FILE
from lit_tf.experiments.workdir import RESULT_FILE
from lit_tf.experiments.workdir import TEST_ACCURACY_FILE
from lit_tf.experiments.workdir import read_curve

# Each method's two stage folders, in training order (lit_tf.experiments.cifar.METHODS names them so).
STAGES = {
    "lit": ("lit", "finetune"),
    "kd": ("kd_stage1", "kd_stage2"),
    "fitnets": ("fitnets_hints", "fitnets_kd"),
    "scratch": ("scratch_stage1", "scratch_stage2"),
}
ROW_ORDER = ("lit", "kd", "fitnets", "scratch")
# FitNets' first stage trains the student's lower part to the teacher's hint; its head stays untrained.
HEADLESS_FIRST_STAGE = ("fitnets",)
METHOD_COLORS = {"lit": "tab:blue", "kd": "tab:green", "fitnets": "tab:orange", "scratch": "tab:purple"}
KEPT_FILES = (RESULT_FILE, "config.json")
KEPT_STAGE_FILES = (TEST_ACCURACY_FILE, EPOCH_SECONDS_FILE, "history.csv")


def method_of(row):
    """`"lit"` for the rows `lit` and `lit_teacher_blocks`; `None` for a folder that is no row."""
    return next((method for method in STAGES if row == method or row.startswith(method + "_")), None)


def run_curve(run_folder, method):
    """`(accuracies, cumulative hours)` over both stages' epochs of one finished run."""
    accuracies, hours, seconds = [], [], 0.0
    for stage in STAGES[method]:
        for _, epoch_seconds, accuracy in read_curve(os.path.join(run_folder, stage)):
            seconds += epoch_seconds or 0.0
            accuracies.append(accuracy)
            hours.append(seconds / 3600)
    return accuracies, hours


def _sort_key(row):
    method = method_of(row)
    return ROW_ORDER.index(method), row != method, row


def read_rows(out):
    """One dict a row over its finished seeds: per-epoch mean (and min/max) test accuracy and hours,
    the final (validation-kept) accuracies and the training hours of each seed."""
    rows = []
    rows_found = {os.path.basename(os.path.dirname(os.path.dirname(path)))
                  for path in glob.glob(os.path.join(out, "*", "seed*", RESULT_FILE))}
    for row in sorted((r for r in rows_found if method_of(r)), key=_sort_key):
        method, curves, finals, seconds, seeds, stage1 = method_of(row), [], [], [], [], 0
        for folder in sorted(glob.glob(os.path.join(out, row, "seed*"))):
            result_path = os.path.join(folder, RESULT_FILE)
            if not os.path.exists(result_path):
                continue  # still training
            with open(result_path) as f:
                result = json.load(f)
            curves.append(run_curve(folder, method))
            stage1 = len(read_curve(os.path.join(folder, STAGES[method][0])))
            finals.append(result["students"][method]["accuracy"])
            seconds.append(result.get("training_seconds", 0.0))
            seeds.append(int(os.path.basename(folder)[len("seed"):]))
        length = min(len(accuracies) for accuracies, _ in curves)
        accuracies = np.array([accuracies[:length] for accuracies, _ in curves])
        rows.append({
            "row": row, "seeds": seeds, "epochs": list(range(1, length + 1)),
            "mean": accuracies.mean(axis=0).tolist(), "low": accuracies.min(axis=0).tolist(),
            "high": accuracies.max(axis=0).tolist(),
            "hours": np.mean([hours[:length] for _, hours in curves], axis=0).round(3).tolist(),
            "finals": finals, "training_hours": [s / 3600 for s in seconds], "stage1_epochs": stage1,
        })
    return rows


def hours_to(row, level):
    """Training hours until the row's mean curve first reaches `level`, or `None`."""
    reached = [hours for accuracy, hours in zip(row["mean"], row["hours"]) if accuracy >= level]
    return reached[0] if reached else None


def epochs_to(row, level):
    """Epochs (both stages counted) until the row's mean curve first reaches `level`, or `None`."""
    return next((epoch for accuracy, epoch in zip(row["mean"], row["epochs"]) if accuracy >= level), None)


def fastest_epoch_seconds(out):
    """Each stage's fastest epoch over every finished run in `out`, in seconds: what an epoch costs
    on the least-shared cores (the runs' hours include times their cores were shared)."""
    fastest = {}
    for path in glob.glob(os.path.join(out, "*", "seed*", RESULT_FILE)):
        method = method_of(os.path.basename(os.path.dirname(os.path.dirname(path))))
        for stage in STAGES.get(method, ()):
            for _, seconds, _ in read_curve(os.path.join(os.path.dirname(path), stage)):
                if seconds:
                    fastest[stage] = min(fastest.get(stage, seconds), seconds)
    return dict(sorted(fastest.items()))


def fastest_hours_to(row, level, fastest):
    """Hours until the row's mean curve first reaches `level` with every epoch at its stage's
    fastest (`fastest_epoch_seconds`), or `None`."""
    epochs = epochs_to(row, level)
    if epochs is None:
        return None
    first, second = STAGES[method_of(row["row"])]
    in_first = min(epochs, row["stage1_epochs"])
    return (in_first * fastest[first] + (epochs - in_first) * fastest[second]) / 3600


def levels_of(rows, level=0.80):
    """`level`, and the highest level every row reaches (`common_level`) when that is lower."""
    common = common_level(rows) if rows else level
    return [level, common] if common < level else [level]


def fastest_line(rows, fastest, level=0.80):
    """One line: each stage's fastest epoch and, at those speeds, the hours each row needs to reach
    the table's levels (a cost comparison the shared cores' hours are not)."""
    parts = [f"{value:.2f}: " + ", ".join(f"{r['row']} {_hours(fastest_hours_to(r, value, fastest))}" for r in rows)
             for value in levels_of(rows, level)]
    stages = ", ".join(f"{stage} {seconds:.0f}" for stage, seconds in fastest.items())
    return (f"At each stage's fastest epoch over all runs (seconds: {stages}), the hours to reach "
            + "; ".join(parts) + ".")


def axis_bottom(rows):
    """The accuracy axis' lower end: under the lowest point of every curve but the stages that train
    no head (FitNets' hints, at chance), rounded down to a tenth."""
    lowest = min(min(r["mean"][r["stage1_epochs"]:] if method_of(r["row"]) in HEADLESS_FIRST_STAGE else r["mean"])
                 for r in rows)
    return float(np.floor(lowest * 10 - 0.5) / 10)


def _hours(hours):
    return "–" if hours is None else f"{hours:.2f}"


def _reach(row, level):
    """A table cell: hours (epochs) to `level`, or a dash."""
    return "–" if epochs_to(row, level) is None else f"{hours_to(row, level):.2f} ({epochs_to(row, level)})"


def common_level(rows):
    """The highest accuracy, in whole hundredths, that every row's mean curve reaches."""
    return float(np.floor(min(max(r["mean"]) for r in rows) * 100 + 1e-9) / 100)


def _mean_std(values):
    if len(values) < 2:  # no spread to give
        return f"{np.mean(values):.4f} (one seed)"
    return f"{np.mean(values):.4f} ± {float(np.std(values, ddof=1)):.4f}"


def markdown_table(rows, after_epochs=(2, 4, 10), level=0.80):
    """Final accuracy (mean ± std, per seed), the mean curve after some epochs, hours, and hours
    (epochs) to `level`; when some row never gets there, also to the highest level every row reaches."""
    levels = levels_of(rows, level)
    head = ("| row | seeds | final test accuracy (mean ± std) | per seed | "
            + "".join(f"after {e} epochs | " for e in after_epochs)
            + "training hours (mean) | " + "".join(f"hours (epochs) to {value:.2f} | " for value in levels))
    lines = [head.strip(), "|---" * (head.count("|") - 1) + "|"]
    for r in rows:
        at = "".join(f"{r['mean'][e - 1]:.4f} | " if e <= len(r["mean"]) else "– | " for e in after_epochs)
        reach = "".join(f"{_reach(r, value)} | " for value in levels)
        lines.append(f"| {r['row']} | {len(r['seeds'])} | {_mean_std(r['finals'])} | "
                     f"{' / '.join(f'{a:.4f}' for a in r['finals'])} | {at}{np.mean(r['training_hours']):.2f} | "
                     f"{reach.strip()}")
    return "\n".join(lines)


def plot(rows, path, lines=None):
    """Two panels, test accuracy against training hours and against epochs; `lines` maps a label
    to an accuracy drawn across both (the teacher, a reference model)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, panels = pyplot.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for r in rows:  # a method's colour; its start as the line's style
        style = "--" if r["row"] != method_of(r["row"]) else "-"
        color = METHOD_COLORS.get(method_of(r["row"]))
        for axes, x in zip(panels, (r["hours"], r["epochs"])):
            axes.plot(x, r["mean"], style, color=color, marker="o", markersize=3,
                      label=f"{r['row']} ({len(r['seeds'])} seed{'s' * (len(r['seeds']) > 1)})")
            if len(r["seeds"]) > 1:
                axes.fill_between(x, r["low"], r["high"], color=color, alpha=0.15)
    for label, value in (lines or {}).items():
        for axes in panels:
            axes.axhline(value, color="black" if "teacher" in label else "grey", linestyle=":", linewidth=1,
                         label=f"{label} {value:.3f}" if axes is panels[1] else None)
    if rows:
        panels[1].axvline(rows[0]["stage1_epochs"] + 0.5, color="grey", linestyle="--", linewidth=0.8)
        bottom = axis_bottom(rows)
        panels[0].set_ylim(bottom=bottom)
        for r in rows:
            if method_of(r["row"]) in HEADLESS_FIRST_STAGE:  # its stage 1 trains no head: chance, off the axis
                below = r["mean"][: r["stage1_epochs"]]
                panels[0].annotate(f"{r['row']} stage 1 (its head untrained): {min(below):.2f}-{max(below):.2f}, "
                                   "below the axis", (1, 0), xycoords="axes fraction", xytext=(-4, 4),
                                   textcoords="offset points", ha="right", fontsize=8,
                                   color=METHOD_COLORS.get(method_of(r["row"])))
    panels[0].set_xlabel("training hours (this machine, its 2 cores at times shared)")
    panels[1].set_xlabel("epochs (stage 1, then stage 2 after the dashed line)")
    panels[0].set_ylabel("test accuracy")
    panels[1].legend(fontsize=8, loc="lower right")
    for axes in panels:
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def collect(out, destination):
    """Copies each finished run's result, config and stage curves (no checkpoints) to `destination`."""
    for path in glob.glob(os.path.join(out, "*", "seed*", RESULT_FILE)):
        run = os.path.relpath(os.path.dirname(path), out)
        for name in KEPT_FILES:
            copy_file(os.path.join(out, run, name), os.path.join(destination, run, name))
        for stage in STAGES[method_of(run.split(os.sep)[0])]:
            for name in KEPT_STAGE_FILES:
                copy_file(os.path.join(out, run, stage, name), os.path.join(destination, run, stage, name))


def copy_file(source, target):
    """Copies `source` to `target` (making its folder) when `source` exists."""
    if os.path.exists(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(source, target)


def ratio_line(rows, lines):
    """The last line: each row's final accuracy against LIT's (paper start) and the teacher's."""
    finals = {r["row"]: float(np.mean(r["finals"])) for r in rows}
    parts = [f"lit/{row} final accuracy {finals['lit'] / value:.3f}" for row, value in finals.items()
             if "lit" in finals and row != "lit"]
    teacher = next((value for label, value in lines.items() if label.startswith("teacher")), None)
    if teacher:
        parts += [f"{row}/teacher {value / teacher:.3f}" for row, value in finals.items()]
    return "ratios: " + ", ".join(parts)


def write(folder, rows, table, command, machine, lines):
    """Writes `report.md` (command, machine, the lines, the table) and `curves.png` into `folder`."""
    os.makedirs(folder, exist_ok=True)
    plot(rows, os.path.join(folder, "curves.png"), lines)
    drawn = "".join(f"- {label}: {value:.4f}\n" for label, value in lines.items())
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write(f"# Learning curves\n\n`python -m bench.curves {command}`\n\nMachine: {machine}.\n\n"
                f"![test accuracy against training hours and epochs](curves.png)\n\n{drawn}\n{table}\n\n"
                f"{ratio_line(rows, lines)}\n\nTest accuracy after each epoch is a report: every run kept its "
                "epoch on validation data (the final column). Training hours exclude the curve's test passes.\n")
