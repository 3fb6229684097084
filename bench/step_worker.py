"""One process that times training steps on request: `bench.step_time`'s worker.

    python bench/step_worker.py --tree=DIR --teacher=resnet56 --student=resnet20

Imports `lit_tf` from `--tree` (this checkout, or a worktree of an older commit), builds
the step functions of `step_functions` on one fixed batch, prints `ready <methods>` and
then answers each method name read from stdin with the seconds one call took. Run by
path, not as `-m bench.step_worker`, so that an older tree's own `bench` cannot shadow
this file. `bench.step_time` starts one worker per tree and alternates between them.

`step_functions` is public for in-process use (`bench.input_pipeline`):

>>> functions = step_functions("resnet8", "resnet8", image_size=8, batch_size=2)
>>> sorted(functions)
['kd', 'lit', 'lit_ir_only', 'lit_losses', 'student', 'teacher_forward']
>>> _ = functions["lit"]()  # one LIT step
"""

import argparse
import os
import sys
import time

BOUNDARIES = ["stem", "section_1", "section_2", "section_3"]


def step_functions(teacher_arch, student_arch, image_size, batch_size, weights_dir=None):
    """`{method: () -> None}`, each one synchronous training step (or forward pass) on one batch.

    With `weights_dir` (`bench.vs_pytorch`), the models start from its `teacher.npz` and `student.npz`
    (PyTorch state dicts) and the batch is its `batch.npz`, so another framework can start alike;
    `lit_losses` then gives a fresh LIT step's `{"kd_loss", "ir_loss"}` as a check.

    - `lit`: one `LITDistiller` step (teacher forward once, student sections on the
      teacher's activations, the full student for KD; section weights updated), the
      student's stem and head copied from the teacher's as `compress` starts it;
    - `lit_ir_only`: the same with beta 0 (IR losses only, as the StarGAN setting);
    - `kd`: one `KDDistiller` step (teacher forward, student forward and backward);
    - `student`: one supervised step of the student alone;
    - `teacher_forward`: the teacher's inference pass alone.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    from lit_tf import KDDistiller
    from lit_tf import LITDistiller
    from lit_tf import models
    try:
        from lit_tf.structure import sections
    except ImportError:  # a tree from before lit_tf.structure (`--before`)
        from lit_tf import sections

    # A tree from before lit_tf.weight_copy (`--before`) has it in sections; ask that first, since the
    # editable install would find a newer checkout's weight_copy for an older tree.
    copy_stem_and_head = getattr(sections, "copy_stem_and_head", None)
    if copy_stem_and_head is None:
        try:
            from lit_tf.structure.weight_copy import copy_stem_and_head
        except ImportError:  # before lit_tf.structure
            from lit_tf.weight_copy import copy_stem_and_head

    shape = (image_size, image_size, 3)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(batch_size, *shape)).astype("float32"))
    y = tf.constant(rng.integers(0, 10, batch_size))
    if weights_dir:
        with np.load(os.path.join(weights_dir, "batch.npz")) as batch:
            x, y = tf.constant(batch["x"]), tf.constant(batch["y"])

    def model(arch, name):
        built = models.get(arch, image_shape=shape)
        if weights_dir:
            models.load_torch_weights(built, os.path.join(weights_dir, f"{name}.npz"))
        return built

    teacher = model(teacher_arch, "teacher")

    def sgd():
        return keras.optimizers.SGD(0.01, momentum=0.9)

    def student():
        return model(student_arch, "student")

    def lit_student():  # as `compress` and the trainers start it: stem and head copied from the teacher
        model = student()
        copy_stem_and_head(teacher, model, BOUNDARIES)
        return model

    lit = LITDistiller(teacher, lit_student(), BOUNDARIES, weight_decay=1e-4)
    lit.compile(sgd())
    ir_only = LITDistiller(teacher, lit_student(), BOUNDARIES, beta=0.0, weight_decay=1e-4)
    ir_only.compile(sgd())
    kd = KDDistiller(teacher, student(), weight_decay=1e-4)
    kd.compile(sgd())
    alone = _student_alone(student(), sgd)
    forward = tf.function(lambda images: tf.reduce_sum(teacher(images, training=False)))

    def lit_losses():
        fresh = LITDistiller(teacher, lit_student(), BOUNDARIES, weight_decay=1e-4)
        fresh.compile(sgd())
        logs = fresh.train_on_batch(x, y, return_dict=True)
        return {name: float(logs[name]) for name in ("kd_loss", "ir_loss")}

    return {
        "lit_losses": lit_losses,
        "lit": lambda: lit.train_on_batch(x, y),
        "lit_ir_only": lambda: ir_only.train_on_batch(x, y),
        "kd": lambda: kd.train_on_batch(x, y),
        "student": lambda: alone.train_on_batch(x, y),
        "teacher_forward": lambda: forward(x).numpy(),
    }


def _student_alone(model, sgd):
    """`model` compiled for supervised steps with coupled L2 1e-4, as the tree's `train_supervised` does."""
    import keras

    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    try:
        from lit_tf.training.optimizers import with_coupled_weight_decay
    except ImportError:
        try:  # a tree from before lit_tf.training (`--before`)
            from lit_tf.optimizers import with_coupled_weight_decay
        except ImportError:  # a tree from before the decay moved into the optimizer
            from lit_tf.baselines import L2Regularized

            alone = L2Regularized(model, 1e-4)
            alone.compile(sgd(), cross_entropy)
            return alone
    model.compile(with_coupled_weight_decay(sgd(), 1e-4), cross_entropy)
    return model


def _import_tensorflow_as_the_tree_does():
    """The tree's own start-up (quiet import, settings such as oneDNN), if it has one."""
    for module in ("startup", "quiet"):
        try:
            start = __import__(f"lit_tf.{module}", fromlist=["import_tensorflow"])
        except ImportError:
            continue
        start.import_tensorflow([""])
        return


def peak_resident_mib():
    """This process's peak resident memory in MiB: `VmHWM` of `/proc/self/status` on Linux.

    Not `getrusage`'s `ru_maxrss`, which Linux carries across `exec` from the parent: a worker
    started by a process that had built models would report the parent's peak.
    """
    import resource

    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def serve(functions, requests, replies):
    """Answers each method name on `requests` with the seconds one call took (`lit_losses`: its JSON, and
    `peak_rss`: this process's peak resident memory in MiB)."""
    import json

    replies.write(f"ready {','.join(name for name in functions if name != 'lit_losses')}\n")
    replies.flush()
    for line in requests:
        method = line.strip()
        if method == "lit_losses":
            replies.write(json.dumps(functions[method]()) + "\n")
        elif method == "peak_rss":
            replies.write(f"{peak_resident_mib():.1f}\n")
        else:
            start = time.perf_counter()
            functions[method]()
            replies.write(f"{time.perf_counter() - start:.6f}\n")
        replies.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", required=True, help="The checkout whose lit_tf is timed.")
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--student", required=True)
    parser.add_argument("--image_size", type=int, default=32)
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--weights_dir", default=None, help="teacher.npz, student.npz, batch.npz to start from.")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow's intra- and inter-op threads (0: all).")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.tree))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    _import_tensorflow_as_the_tree_does()
    from absl import logging

    logging.set_verbosity(logging.ERROR)  # several models traced once each: retracing warnings expected
    if args.threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    functions = step_functions(args.teacher, args.student, args.image_size, args.batch_size, args.weights_dir)
    serve(functions, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
