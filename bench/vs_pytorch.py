"""lit_tf against PyTorch, step for step: LIT, KD and the student alone on the same networks and weights.

    python -m bench.vs_pytorch                                  # ResNet-20 -> 8 and ResNet-110 -> 20, 1 and 2 threads
    python -m bench.vs_pytorch --pairs=resnet8:resnet8 --image_size=8 --batch_size=4 --steps=2 --warmup=1  # smoke

What a user would write instead of lit_tf is PyTorch (the paper's own code is). For each pair the
Keras models are built once and written as PyTorch state dicts with the batch; lit_tf's worker
(`bench/step_worker.py`) and PyTorch's (`bench/torch_worker.py`, `bench.torch_steps`) start from
them, each in its own process with the same thread count, so the first LIT step's losses agree
(printed as the check) and each process's peak resident memory is its own. Steps are
interleaved (lit_tf, PyTorch, method by method), median of `--steps` after `--warmup`. Same
arithmetic both sides: SGD momentum 0.9, weight decay 1e-4, the paper's KD and LIT losses.
The last line: `ratios: <pair> <threads>t lit/torch X, kd/torch Y, student/torch Z | ...`
(below 1: lit_tf is faster). Needs torch (`pip install '.[torch]'`).
"""

import json
import os
import sys
import tempfile

from absl import app
from absl import flags

from bench.workers import HERE
from bench.workers import Worker
from bench.workers import measure

flags.DEFINE_list("pairs", ["resnet20:resnet8", "resnet110:resnet20"], "teacher:student CIFAR ResNets.")
flags.DEFINE_list("threads", ["1", "2"], "Thread counts, each with its own pair of worker processes.")
flags.DEFINE_integer("batch_size", 128, "Images a step.")
flags.DEFINE_integer("image_size", 32, "Image side.")
flags.DEFINE_integer("steps", 10, "Measured steps a method.")
flags.DEFINE_integer("warmup", 3, "Unmeasured steps a method first (tracing, allocation).")
FLAGS = flags.FLAGS

COMPARED = ("lit", "kd", "student")


def write_start(folder, teacher, student, image_size, batch_size, seed=0):
    """Writes `teacher.npz`, `student.npz` (PyTorch state dicts of seeded Keras models) and `batch.npz`."""
    import keras
    import numpy as np

    from lit_tf import models

    keras.utils.set_random_seed(seed)
    shape = (image_size, image_size, 3)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch_size, *shape)).astype("float32")
    for name, arch in (("teacher", teacher), ("student", student)):
        model = models.get(arch, image_shape=shape)
        for _ in range(10):  # BatchNorm statistics of this batch: a deep random net's activations stay in range
            model(x, training=True)
        np.savez(os.path.join(folder, f"{name}.npz"), **models.torch_state_dict(model))
    np.savez(os.path.join(folder, "batch.npz"), x=x, y=rng.integers(0, 10, batch_size))


def _workers(folder, teacher, student, threads):
    common = [f"--teacher={teacher}", f"--student={student}", f"--weights_dir={folder}", f"--threads={threads}"]
    lit_tf = Worker.for_tree(HERE, teacher, student, FLAGS.image_size, FLAGS.batch_size, *common[2:])
    torch = Worker([sys.executable, os.path.join(HERE, "bench", "torch_worker.py"), *common], label="PyTorch worker")
    return {"lit_tf": lit_tf, "torch": torch}


def _run_pair(teacher, student, threads):
    """`(median seconds {(framework, method)}, first-step losses, peak RSS MiB)` for one pair and thread count."""
    with tempfile.TemporaryDirectory() as folder:
        write_start(folder, teacher, student, FLAGS.image_size, FLAGS.batch_size)
        workers = _workers(folder, teacher, student, threads)
        try:
            losses = {name: json.loads(worker.ask("lit_losses")) for name, worker in workers.items()}
            median = measure(workers, {name: list(COMPARED) for name in workers}, FLAGS.steps, FLAGS.warmup)
            memory = {name: float(worker.ask("peak_rss")) for name, worker in workers.items()}
        finally:
            for worker in workers.values():
                worker.close()
    return median, losses, memory


def main(argv):
    del argv
    print(f"batch {FLAGS.batch_size}, {FLAGS.image_size}x{FLAGS.image_size}, median of {FLAGS.steps} steps after "
          f"{FLAGS.warmup}, interleaved; each framework in its own process")
    ratios = []
    for pair in FLAGS.pairs:
        teacher, student = pair.split(":")
        for threads in [int(t) for t in FLAGS.threads]:
            median, losses, memory = _run_pair(teacher, student, threads)
            check = ", ".join(f"{name} lit_tf {losses['lit_tf'][name]:.6f} torch {losses['torch'][name]:.6f}"
                              for name in ("kd_loss", "ir_loss"))
            print(f"\n{teacher} -> {student}, {threads} thread{'s' * (threads > 1)}; first LIT step: {check}")
            print("| step | lit_tf s | PyTorch s | lit_tf/PyTorch |\n|---|---|---|---|")
            for method in COMPARED:
                tf_time, torch_time = median[("lit_tf", method)], median[("torch", method)]
                print(f"| {method} | {tf_time:.4f} | {torch_time:.4f} | {tf_time / torch_time:.2f} |")
            print(f"peak RSS: lit_tf {memory['lit_tf']:,.0f} MiB, PyTorch {memory['torch']:,.0f} MiB")
            ratios.append(f"{pair} {threads}t " + ", ".join(
                f"{method}/torch {median[('lit_tf', method)] / median[('torch', method)]:.2f}" for method in COMPARED))
    print("\nratios: " + " | ".join(ratios))
    return 0


if __name__ == "__main__":
    app.run(main)
