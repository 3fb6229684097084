"""What a full CelebA StarGAN run costs here: seconds an iteration and peak memory, teacher vs LIT.

    python -m bench.stargan_step                                  # 128 px, batch 16, the paper's sizes
    python -m bench.stargan_step --image_size=16 --conv_dim=8 --d_strided_layers=2 --batch_size=2 \
        --cycles=1 --warmup=1                                      # smoke

Rows, each measured in its own process (so its peak resident memory is its own), on
random images (the input pipeline is not timed):

- `teacher`: StarGAN training with a `--teacher_blocks` generator; one iteration is a
  discriminator step, plus a generator step every `--n_critic`-th; timed over whole cycles
  of `n_critic` iterations and divided by `n_critic`.
- `scratch`: the same with a `--student_blocks` generator (the from-scratch baseline).
- `lit`: one `GeneratorDistiller` iteration (frozen teacher forward, IR loss on the trunk
  sections, beta 0: no discriminator), as the reference's LIT stage.
- `lit_gan`: LIT with StarGAN's loss added (beta 0.5), which trains the discriminator too.

The table gives s/iteration, peak RSS and the hours `--iterations` would take; the last line
gives each row's time over the teacher's.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402

flags.DEFINE_list("rows", ["teacher", "scratch", "lit", "lit_gan"], "Which rows to measure.")
flags.DEFINE_string("row", None, "Internal: measure this one row and print it as JSON.")
flags.DEFINE_integer("image_size", 128, "Image side.")
flags.DEFINE_integer("batch_size", 16, "Images an iteration.")
flags.DEFINE_integer("conv_dim", 64, "Generator's first width.")
flags.DEFINE_integer("d_strided_layers", 6, "Discriminator's stride-2 layers.")
flags.DEFINE_integer("teacher_blocks", 6, "Teacher generator's residual blocks.")
flags.DEFINE_integer("student_blocks", 2, "Student generator's residual blocks.")
flags.DEFINE_integer("num_domains", 5, "Attributes of the domain label.")
flags.DEFINE_integer("n_critic", 5, "Discriminator steps per generator step.")
flags.DEFINE_integer("cycles", 3, "Measured cycles of n_critic iterations (LIT: n_critic iterations each).")
flags.DEFINE_integer("warmup", 1, "Unmeasured cycles first (tracing).")
flags.DEFINE_integer("iterations", 200_000, "Iterations of a full run, for the projected hours.")
FLAGS = flags.FLAGS


def _model(row):
    import keras

    from lit_tf.models import stargan
    from lit_tf.stargan.distill import GeneratorDistiller
    from lit_tf.stargan.stargan_training import StarGAN
    from lit_tf.structure import weight_copy

    def generator(blocks):
        return stargan.Generator(FLAGS.image_size, FLAGS.num_domains, FLAGS.conv_dim, blocks, sections=1)

    def discriminator():
        return stargan.Discriminator(FLAGS.image_size, FLAGS.num_domains, FLAGS.conv_dim, FLAGS.d_strided_layers)

    def adam():
        return keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.999)

    if row in ("teacher", "scratch"):
        blocks = FLAGS.teacher_blocks if row == "teacher" else FLAGS.student_blocks
        model = StarGAN(generator(blocks), discriminator(), n_critic=FLAGS.n_critic)
        model.compile(adam(), adam())
        return model
    teacher, student = generator(FLAGS.teacher_blocks), generator(FLAGS.student_blocks)
    weight_copy.copy_stem_and_head(teacher, student, teacher.boundaries)
    beta = 0.5 if row == "lit_gan" else 0.0
    model = GeneratorDistiller(teacher, student, discriminator() if beta else None, beta=beta,
                               n_critic=FLAGS.n_critic)
    model.compile(adam(), adam() if beta else None)
    return model


def measure_row(row):
    """`{"row", "s_per_iteration", "peak_rss_mb"}` of one row, in this process."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    size, n = FLAGS.image_size, FLAGS.batch_size
    image = tf.constant(rng.uniform(-1, 1, (n, size, size, 3)).astype("float32"))
    label = tf.constant(rng.integers(0, 2, (n, FLAGS.num_domains)).astype("float32"))
    batch = (image, label, tf.reverse(label, [0]))
    model = _model(row)
    cycles = []
    for cycle in range(FLAGS.warmup + FLAGS.cycles):
        start = time.perf_counter()
        for _ in range(FLAGS.n_critic):
            logs = model.train_on_batch(batch, return_dict=True)
        float(next(iter(logs.values())))  # the step has finished
        if cycle >= FLAGS.warmup:
            cycles.append((time.perf_counter() - start) / FLAGS.n_critic)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    return {"row": row, "s_per_iteration": statistics.median(cycles), "peak_rss_mb": peak_kb / 1024}


def _measure_in_child(row, argv):
    passed = [a for a in argv[1:] if not a.startswith("--rows")]
    done = subprocess.run([sys.executable, "-m", "bench.stargan_step", *passed, f"--row={row}"],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"measuring {row!r} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv):
    if FLAGS.row:
        print(json.dumps(measure_row(FLAGS.row)))
        return 0
    print(f"StarGAN at {FLAGS.image_size}x{FLAGS.image_size}, batch {FLAGS.batch_size}, generator "
          f"{FLAGS.teacher_blocks} -> {FLAGS.student_blocks} blocks, n_critic {FLAGS.n_critic}; median of "
          f"{FLAGS.cycles} cycles of {FLAGS.n_critic} iterations after {FLAGS.warmup}; {os.cpu_count()} CPUs")
    print(f"\n| row | s/iteration | peak RSS (MiB) | hours for {FLAGS.iterations:,} iterations |\n|---|---|---|---|")
    rows = {}
    for row in FLAGS.rows:
        rows[row] = _measure_in_child(row, sys.argv)
        seconds = rows[row]["s_per_iteration"]
        print(f"| {row} | {seconds:.3f} | {rows[row]['peak_rss_mb']:,.0f} | {seconds * FLAGS.iterations / 3600:,.1f} |",
              flush=True)
    base = rows.get("teacher")
    ratios = [f"{row}/teacher {r['s_per_iteration'] / base['s_per_iteration']:.2f}"
              for row, r in rows.items() if base and row != "teacher"]
    print("\nratios: " + (", ".join(ratios) if ratios else "(no teacher row measured)"))
    return 0


if __name__ == "__main__":
    app.run(main)
