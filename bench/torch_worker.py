"""One process that times PyTorch's training steps on request: `bench.vs_pytorch`'s PyTorch side.

    python bench/torch_worker.py --teacher=resnet56 --student=resnet20 --weights_dir=DIR --threads=2

Loads `DIR/teacher.npz`, `DIR/student.npz` and `DIR/batch.npz` (written by `bench.vs_pytorch`, the
weights lit_tf's worker starts from too), builds `bench.torch_steps.step_functions` and answers
on stdin/stdout as `bench/step_worker.py` does (its `serve`). Run by path.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--student", required=True)
    parser.add_argument("--weights_dir", required=True)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: PyTorch's default).")
    args = parser.parse_args()
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.dirname(HERE))
    import numpy as np
    import torch
    from step_worker import serve

    from bench import torch_steps

    if args.threads:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(args.threads)
    states = {}
    for name in ("teacher", "student"):
        with np.load(os.path.join(args.weights_dir, f"{name}.npz")) as archive:
            states[name] = {key: archive[key] for key in archive.files}
    with np.load(os.path.join(args.weights_dir, "batch.npz")) as batch:
        x, y = batch["x"], batch["y"]
    depth = {name: int(arch.removeprefix("resnet")) for name, arch in (("teacher", args.teacher),
                                                                        ("student", args.student))}
    functions = torch_steps.step_functions(states["teacher"], states["student"], depth["teacher"], depth["student"],
                                           x, y)
    serve(functions, sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
