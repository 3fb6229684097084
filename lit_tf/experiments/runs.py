"""The skeleton every experiment's `run` follows, written once (CIFAR's and StarGAN's).

A run in a workdir: return the result if the workdir holds this configuration's finished
run; else prepare (data and models: bad input fails here, before anything is written),
claim the workdir, seed, train (each stage resumes what the workdir holds), report, save the
trained models under `models/`, and write `result.json` with the run's wall and training
seconds. Only the chief (`distribute.is_chief`) writes; other workers return the same result.

Example: a run whose training is a note, run twice in one workdir:

>>> import dataclasses, tempfile, json, os
>>> from lit_tf.experiments import runs
>>> @dataclasses.dataclass(frozen=True)
... class Config:
...     seed: int = 0
>>> steps = runs.Steps(prepare=lambda: "data", train=lambda data: {},
...                    report=lambda data, trained: {"trained_on": data})
>>> folder = tempfile.mkdtemp()
>>> runs.run(Config(), folder, steps)["trained_on"]
'data'
>>> sorted(json.load(open(os.path.join(folder, "result.json"))))
['trained_on', 'training_seconds', 'wall_seconds']
>>> runs.run(Config(), folder, runs.Steps(None, None, None))["trained_on"]  # finished: read back
[lit_tf] ... holds this run, finished: result.json is left as it is (delete it to evaluate and export again).
'data'
"""

import dataclasses
import os
import time
from typing import Any
from typing import Callable

import keras

from lit_tf.experiments import workdir as workdirs
from lit_tf.training import distribute


@dataclasses.dataclass(frozen=True)
class Steps:
    """What one experiment does at each point of the skeleton.

    Attributes:
        prepare: `() -> prepared`: data and models. Raise here on bad input: nothing is written yet.
        train: `(prepared) -> {name: keras.Model}`: the trained models to save (loaded when done).
        report: `(prepared, trained) -> dict`: the result (scores, exports).
    """

    prepare: Callable[[], Any]
    train: Callable[[Any], dict]
    report: Callable[[Any, dict], dict]


def run(config, workdir, steps, assumed_in_older_runs=None):
    """Runs `steps` for `config` (a dataclass with a `seed`) in `workdir`, resuming; returns the result.

    Args:
        config: the experiment's frozen dataclass; the workdir records it (`workdir.claim`).
        workdir: str, a new or empty folder, or one holding this same configuration.
        steps: `Steps`.
        assumed_in_older_runs: settings a workdir written before they existed ran with.
    """
    recorded = dataclasses.asdict(config)
    finished = workdirs.finished_result(workdir, recorded, assumed_in_older_runs)
    if finished is not None:
        return finished
    start = time.time()
    prepared = steps.prepare()  # makes the distribution strategy first, if any: before any TF op
    chief = distribute.is_chief()
    if chief:
        workdirs.claim(workdir, recorded, assumed_in_older_runs)
    keras.utils.set_random_seed(config.seed)
    trained = steps.train(prepared)
    result = steps.report(prepared, trained)
    if chief:
        save_models(trained, os.path.join(workdir, "models"))
        result["wall_seconds"] = round(time.time() - start, 1)
        result["training_seconds"] = workdirs.training_seconds(workdir)
        workdirs.write_json_atomically(os.path.join(workdir, workdirs.RESULT_FILE), result)
    return result


def save_models(models, folder):
    """Saves each model as `<folder>/<name>.keras`."""
    if models:
        os.makedirs(folder, exist_ok=True)
    for name, model in models.items():
        model.save(os.path.join(folder, f"{name}.keras"))
