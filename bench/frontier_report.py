"""The accuracy-against-size frontier from finished runs: the table, frontier.png, report.md.

A frontier folder holds one curves folder a student architecture, `<arch>/<row>/seed<k>/`
(`bench.curves` workdirs, or the copies `bench.curves_report.collect` makes), beside
`teacher/result.json`, `context/result.json` (a model trained conventionally, drawn for
context) and `latency.json` (`{arch: {"float32": s, "int8": s}}`, TFLite at batch 1, measured
in one run). A row is a method with its start, `lit_teacher_blocks` or `kd_teacher_blocks`.

Example:

>>> import json, os, tempfile
>>> from bench import frontier_report
>>> out = tempfile.mkdtemp()
>>> for arch, params, accuracies in (("resnet8", 78, (0.80, 0.70)), ("resnet20", 270, (0.86, 0.83))):
...     for row, accuracy in zip(("lit_teacher_blocks", "kd_teacher_blocks"), accuracies):
...         os.makedirs(os.path.join(out, arch, row, "seed0"))
...         result = {"students": {row[:row.index("_")]: {"accuracy": accuracy, "params": params, "flops": 9}}}
...         with open(os.path.join(out, arch, row, "seed0", "result.json"), "w") as f:
...             json.dump(result, f)
>>> points = frontier_report.read_points(out)
>>> [(p["arch"], p["blocks"], p["finals"]["lit"]) for p in points]
[('resnet8', 1, [0.8]), ('resnet20', 3, [0.86])]
>>> frontier_report.largest_within(points, "lit", teacher=0.864, points_lost=0.5)
'resnet20'
>>> frontier_report.largest_within(points, "kd", teacher=0.864, points_lost=0.5) is None
True
"""

import glob
import json
import os
import re

import numpy as np

from lit_tf.experiments.workdir import RESULT_FILE

ROWS = {"lit": "lit_teacher_blocks", "kd": "kd_teacher_blocks"}
COLORS = {"lit": "tab:blue", "kd": "tab:green"}
LATENCY_FILE = "latency.json"


def blocks_a_section(arch):
    """3 for `resnet20`: a CIFAR ResNet of depth 6n+2 has n blocks a stage."""
    return (int(re.fullmatch(r"resnet(\d+)", arch).group(1)) - 2) // 6


def _result(path):
    with open(path) as f:
        return json.load(f)


def read_points(folder):
    """One dict a student architecture with a finished run, fewest blocks first: its size and, per method,
    the seeds' final (validation-kept) test accuracies."""
    points = []
    for arch_folder in glob.glob(os.path.join(folder, "resnet*")):
        arch, finals, size = os.path.basename(arch_folder), {}, None
        for method, row in ROWS.items():
            for path in sorted(glob.glob(os.path.join(arch_folder, row, "seed*", RESULT_FILE))):
                summary = _result(path)["students"][method]
                finals.setdefault(method, []).append(summary["accuracy"])
                size = (summary["params"], summary["flops"])
        if size:
            points.append({"arch": arch, "blocks": blocks_a_section(arch), "params": size[0], "flops": size[1],
                           "finals": finals})
    return sorted(points, key=lambda p: p["blocks"])


def reference(folder, name):
    """`(arch, accuracy, params, flops)` of `<folder>/<name>/result.json`'s model, or `None`."""
    path = os.path.join(folder, name, RESULT_FILE)
    if not os.path.exists(path):
        return None
    summary = _result(path)["teacher"]
    return summary["arch"], summary["accuracy"], summary["params"], summary["flops"]


def read_latency(folder):
    path = os.path.join(folder, LATENCY_FILE)
    return _result(path) if os.path.exists(path) else {}


def _mean(values):
    return float(np.mean(values)) if values else None


def _mean_std(values):
    if not values:
        return "–"
    if len(values) < 2:
        return f"{values[0]:.4f} (one seed)"
    return f"{np.mean(values):.4f} ± {float(np.std(values, ddof=1)):.4f}"


def largest_within(points, method, teacher, points_lost):
    """The smallest student (most compressed) whose mean accuracy is within `points_lost` points of
    `teacher`, or `None`."""
    within = [p for p in points
              if p["finals"].get(method) and _mean(p["finals"][method]) >= teacher - points_lost / 100]
    return min(within, key=lambda p: p["params"])["arch"] if within else None


def markdown_table(points, teacher, latency):
    """Blocks a section, size, latency, LIT and KD (mean ± std), their gaps to the teacher and LIT's lead."""
    t_arch, t_accuracy, t_params, t_flops = teacher
    lines = ["| blocks a section | student | params (teacher / student) | FLOPs | TFLite float32 ms | TFLite int8 ms "
             "| LIT | KD | LIT − teacher | KD − teacher | LIT − KD |", "|---" * 11 + "|"]

    def timing(arch, kind):
        seconds = latency.get(arch, {}).get(kind)
        return f"{seconds * 1e3:.2f}" if seconds else "–"

    lines.append(f"| {blocks_a_section(t_arch)} (teacher) | {t_arch} | {t_params:,} (1.0x) | {t_flops / 1e6:.1f} M | "
                 f"{timing(t_arch, 'float32')} | {timing(t_arch, 'int8')} | {t_accuracy:.4f} | | | | |")
    for p in reversed(points):
        lit, kd = _mean(p["finals"].get("lit", [])), _mean(p["finals"].get("kd", []))
        gap = lambda value: f"{(value - t_accuracy) * 100:+.2f}" if value is not None else "–"  # noqa: E731
        lead = f"{(lit - kd) * 100:+.2f}" if lit is not None and kd is not None else "–"
        lines.append(f"| {p['blocks']} | {p['arch']} | {p['params']:,} ({t_params / p['params']:.1f}x) | "
                     f"{p['flops'] / 1e6:.1f} M | {timing(p['arch'], 'float32')} | {timing(p['arch'], 'int8')} | "
                     f"{_mean_std(p['finals'].get('lit', []))} | {_mean_std(p['finals'].get('kd', []))} | "
                     f"{gap(lit)} | {gap(kd)} | {lead} |")
    return "\n".join(lines)


def plot(points, path, teacher, context, latency):
    """Test accuracy against parameters (log scale) and against TFLite float32 latency: LIT and KD as
    lines through their seeds' means (bars: the seeds' range), the teacher as a star and a line, the
    conventionally trained context model as a grey point."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, panels = pyplot.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    axes_x = [("params", lambda arch, params: params), ("latency", lambda arch, params: latency.get(arch, {})
                                                        .get("float32", np.nan) * 1e3)]
    for axes, (_, x_of) in zip(panels, axes_x):
        for method, color in COLORS.items():
            drawn = [p for p in points if p["finals"].get(method)]
            xs = [x_of(p["arch"], p["params"]) for p in drawn]
            means = [_mean(p["finals"][method]) for p in drawn]
            spread = np.array([[m - min(p["finals"][method]), max(p["finals"][method]) - m]
                               for p, m in zip(drawn, means)]).T.reshape(2, -1)
            axes.errorbar(xs, means, yerr=spread, color=color, marker="o", capsize=3,
                          label=f"{method.upper()} from the teacher's blocks")
            for p, x, m in zip(drawn, xs, means):
                if method == "lit":
                    axes.annotate(p["arch"], (x, m), textcoords="offset points", xytext=(4, 6), fontsize=8)
        t_arch, t_accuracy, t_params, _ = teacher
        axes.axhline(t_accuracy, color="black", linestyle=":", linewidth=1)
        axes.plot([x_of(t_arch, t_params)], [t_accuracy], "*", color="black", markersize=14,
                  label=f"teacher {t_arch} {t_accuracy:.4f}")
        if context:
            c_arch, c_accuracy, c_params, _ = context
            axes.plot([x_of(c_arch, c_params)], [c_accuracy], "s", color="grey",
                      label=f"{c_arch} trained conventionally (182 epochs, adapted) {c_accuracy:.4f}")
        axes.grid(alpha=0.3)
    panels[0].set_xscale("log")
    panels[0].set_xlabel("parameters (log scale)")
    panels[1].set_xlabel("TFLite float32 latency, batch 1, this CPU (ms)")
    panels[0].set_ylabel("test accuracy (10,000 CIFAR-10 JPEG images)")
    panels[1].legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def summary_line(points, teacher):
    """The last line: the most compressed student within half a point and a point of the teacher, each method."""
    parts = []
    for method in ROWS:
        for lost in (0.5, 1.0):
            arch = largest_within(points, method, teacher[1], lost)
            parts.append(f"{method} within {lost} points: {arch or 'none'}")
    return "frontier: " + ", ".join(parts)


def write(folder, points, teacher, context, latency, command, machine):
    """Writes `report.md` (command, machine, table, summary) and `frontier.png` into `folder`."""
    os.makedirs(folder, exist_ok=True)
    plot(points, os.path.join(folder, "frontier.png"), teacher, context, latency)
    drawn = f"- teacher {teacher[0]}: {teacher[1]:.4f}\n"
    if context:
        drawn += f"- {context[0]} trained conventionally (182 epochs), adapted the same way: {context[1]:.4f}\n"
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write(f"# The frontier: accuracy against size\n\n`python -m bench.frontier {command}`\n\n"
                f"Machine: {machine}.\n\n![test accuracy against parameters and latency](frontier.png)\n\n{drawn}\n"
                f"{markdown_table(points, teacher, latency)}\n\n{summary_line(points, teacher)}\n\n"
                "Accuracies are each run's validation-kept epoch on the 10,000 test images; latency is the "
                "median of TFLite invocations at batch 1 with 2 threads, every architecture timed in one run.\n")
