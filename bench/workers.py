"""Worker processes that time training steps on request, and the interleaved measurement over them.

`bench.step_time` starts one `bench/step_worker.py` a tree; `bench.vs_pytorch` one a framework
(`bench/torch_worker.py` for PyTorch). Each serves `step_worker.serve`'s protocol: `ready <methods>`,
then one line answered per request.
"""

import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Worker:
    """A worker process serving `step_worker.serve`'s protocol; `time(method)` runs one step there.

    `Worker.for_tree(tree, ...)` starts `bench/step_worker.py` on a tree's lit_tf; `bench.vs_pytorch`
    also starts `bench/torch_worker.py` through `Worker(command)`.
    """

    def __init__(self, command, cwd=HERE, label="worker"):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd)
        ready = self.process.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise RuntimeError(f"The {label} did not start (exit {self.process.wait()}).")
        self.methods = ready[1].split(",")

    @classmethod
    def for_tree(cls, tree, teacher, student, image_size, batch_size, *extra):
        return cls([sys.executable, os.path.join(HERE, "bench", "step_worker.py"), f"--tree={tree}",
                    f"--teacher={teacher}", f"--student={student}", f"--image_size={image_size}",
                    f"--batch_size={batch_size}", *extra], cwd=tree, label=f"step worker for {tree}")

    def ask(self, request):
        """The worker's one-line answer to `request`."""
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def time(self, method):
        return float(self.ask(method))

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def measure(workers, methods, steps, warmup):
    """`{(tree label, method): median seconds}`, every worker and method called in turn."""
    seconds = {(label, method): [] for label in workers for method in methods[label]}
    for step in range(warmup + steps):
        for method in dict.fromkeys(m for label in workers for m in methods[label]):
            for label, worker in workers.items():
                if method in methods[label]:
                    value = worker.time(method)
                    if step >= warmup:
                        seconds[(label, method)].append(value)
    return {key: statistics.median(values) for key, values in seconds.items()}
