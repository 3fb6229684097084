"""Turns benchmark measurements into tables, ratios, report.md and the plot; times calls.

Example:

>>> from bench import report
>>> runs = [{"teacher": {"arch": "resnet20", "accuracy": a + 0.1, "params": 9, "flops": 90},
...          "students": {"lit": {"arch": "resnet8", "accuracy": a, "params": 3, "flops": 30}}}
...         for a in (0.5, 0.7)]
>>> rows = report.rows(runs)
>>> [(r["row"], round(r["mean"], 2), round(r["std"], 3), r["runs"]) for r in rows]
[('teacher', 0.7, 0.141, 2), ('lit', 0.6, 0.141, 2)]
>>> report.ratio_line(rows)
'ratios: lit/teacher accuracy 0.857, teacher/student params 3.00x, teacher/student FLOPs 3.00x'
"""

import os

import numpy as np

ORDER = ("teacher", "teacher before adaptation", "lit", "kd", "fitnets", "scratch", "student before training",
         "context", "context before adaptation")


def _entries(result):
    entries = [("teacher", result["teacher"])] if "teacher" in result else []
    entries += list(result["students"].items())
    entries += [("student before training", result["student_start"])] if "student_start" in result else []
    entries += [("context", result["context"])] if "context" in result else []
    for name, summary in list(entries):
        if "accuracy_before_adaptation" in summary:
            before = {**summary, "accuracy": summary["accuracy_before_adaptation"]}
            entries.append((f"{name} before adaptation", before))
    return entries


def rows(results):
    """One row per method over all runs: arch, params, flops, mean/std test accuracy, runs.

    A teacher (or context model) adapted to the data also gives a "<name> before adaptation" row.
    """
    by_name = {}
    for result in results:
        for name, summary in _entries(result):
            by_name.setdefault(name, []).append(summary)
    table = []
    for name in sorted(by_name, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
        summaries = by_name[name]
        accuracies = np.array([s["accuracy"] for s in summaries])
        table.append({
            "row": name, "arch": summaries[0]["arch"], "params": summaries[0]["params"],
            "flops": summaries[0]["flops"], "mean": float(accuracies.mean()),
            "std": float(accuracies.std(ddof=1)) if len(accuracies) > 1 else 0.0,
            "runs": len(accuracies), "accuracies": accuracies.tolist(),
        })
    return table


def markdown_table(table):
    """The table: mean ± std over runs, then each run's accuracy, params and FLOPs."""
    runs = max((r["runs"] for r in table), default=0)
    lines = ["| row | arch | test accuracy (mean ± std) | " + "".join(f"run {k} | " for k in range(runs))
             + "params | FLOPs |", "|---|---|---|" + "---|" * runs + "---|---|"]
    for r in table:
        per_run = "".join(f"{a:.4f} | " for a in r["accuracies"]) + "| " * (runs - len(r["accuracies"]))
        lines.append(f"| {r['row']} | {r['arch']} | {r['mean']:.4f} ± {r['std']:.4f} | {per_run}"
                     f"{r['params']:,} | {r['flops'] / 1e6:.1f} M |")
    return "\n".join(lines)


def ratio_line(table):
    """The last line a benchmark prints: LIT against the other rows, and the compression."""
    by_row = {r["row"]: r for r in table}
    parts = []
    lit = by_row.get("lit")
    if lit:
        for other in ("kd", "fitnets", "scratch", "teacher"):
            if other in by_row:
                parts.append(f"lit/{other} accuracy {lit['mean'] / by_row[other]['mean']:.3f}")
    student = lit or next((r for r in table if not r["row"].startswith("teacher")), None)
    if student and "teacher" in by_row:
        teacher = by_row["teacher"]
        parts.append(f"teacher/student params {teacher['params'] / student['params']:.2f}x")
        parts.append(f"teacher/student FLOPs {teacher['flops'] / student['flops']:.2f}x")
    return "ratios: " + ", ".join(parts)


def plot(table, path):
    """Test accuracy against parameters, one point per method (error bar: std), teacher marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 4))
    students = [r for r in table if r["row"] != "teacher" and "before adaptation" not in r["row"]]
    for i, r in enumerate(students):  # same size: spread the points a little so each is seen
        axes.errorbar(r["params"] * (1 + 0.04 * (i - len(students) / 2)), r["mean"], yerr=r["std"], fmt="o",
                      capsize=3, label=f"{r['row']} ({r['arch']})")
    for r in table:
        if r["row"] == "teacher":
            axes.errorbar(r["params"], r["mean"], yerr=r["std"], fmt="*", markersize=14, color="black",
                          capsize=3, label=f"teacher ({r['arch']})")
    axes.set_xscale("log")
    axes.set_xlabel("parameters")
    axes.set_ylabel("test accuracy")
    axes.set_title("Compression: accuracy against size")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def machine():
    """This machine in a line: architecture, cores, CPU model and whether it has AVX-512."""
    import platform

    model, flags = platform.processor() or platform.machine(), ""
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            info = f.read()
        model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                     model)
        flags = "AVX-512" if "avx512f" in info else "AVX2" if "avx2" in info else ""
    return f"{platform.machine()}, {os.cpu_count()} cores ({model}{', ' + flags if flags else ''})"


def write(folder, table, markdown, command, machine=None):
    """Writes `report.md` (command, machine, table with per-run accuracies) and `compression.png`."""
    os.makedirs(folder, exist_ok=True)
    where = f"Machine: {machine}.\n\n" if machine else ""
    with open(os.path.join(folder, "report.md"), "w") as f:
        f.write(f"# Compression report\n\n`python -m bench.reproduce {command}`\n\n{where}{markdown}\n\n"
                f"{ratio_line(table)}\n\n![accuracy against parameters](compression.png)\n")
    plot(table, os.path.join(folder, "compression.png"))


def step_time_ratios(median):
    """LIT against KD, the student alone, the distillation floor and LIT's own floor."""
    floor = median["teacher_forward"] + median["student"]
    lit_floor = median["teacher_forward"] + 2 * median["student"]
    return {
        "lit/kd": median["lit"] / median["kd"],
        "lit/student": median["lit"] / median["student"],
        "lit/(teacher_fwd+student)": median["lit"] / floor,
        "kd/(teacher_fwd+student)": median["kd"] / floor,
        "lit/lit_floor": median["lit"] / lit_floor,
    }


