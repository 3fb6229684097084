"""A run's working directory: one configuration per folder, results written whole.

`claim(workdir, config)` writes `config.json` into a new or empty folder, or
checks that the folder already holds this same configuration (a restart, which
resumes). A folder holding another configuration is refused, so two runs are
never silently mixed.

Example:

>>> import tempfile
>>> from lit_tf.experiments import workdir
>>> folder = tempfile.mkdtemp()
>>> workdir.claim(folder, {"lr": 0.1})
>>> workdir.claim(folder, {"lr": 0.1})  # the same run again: resumes
>>> workdir.claim(folder, {"lr": 0.2})
Traceback (most recent call last):
...
ValueError: Workdir ... holds a run with another configuration (lr: 0.1 there, 0.2 now). Use a new --workdir, ...
"""

import csv
import json
import os

import keras

CONFIG_FILE = "config.json"
SHOWN = 3  # differences named in the refusal


RESULT_FILE = "result.json"
EPOCH_SECONDS_FILE = "epoch_seconds.csv"  # in each stage's folder: `epoch,seconds`, every process's epochs
TEST_ACCURACY_FILE = "test_accuracy.csv"  # in a stage's folder when asked for: `epoch,test_accuracy`, a report


def finished_result(workdir, config, assumed=None):
    """The result of this same run when `workdir` holds it finished, else `None`.

    Raises like `claim` when the workdir holds another configuration.
    """
    path = os.path.join(workdir, RESULT_FILE)
    if not os.path.exists(path):
        return None
    claim(workdir, config, assumed)
    result = read_json(path)
    print(f"[lit_tf] {workdir} holds this run, finished: {RESULT_FILE} is left as it is "
          "(delete it to evaluate and export again).", flush=True)
    return result


def claim(workdir, config, assumed=None):
    """Makes `workdir` this run's folder, or raises `ValueError` if another run owns it.

    Args:
        workdir: str.
        config: JSON-serialisable dict of everything that defines the run.
        assumed: dict of settings added to the configuration after some runs were
            started, each with the value those runs used: a `config.json` without
            the key is read as having that value.
    """
    config = json.loads(json.dumps(config))  # tuples -> lists, as they come back from disk
    path = os.path.join(workdir, CONFIG_FILE)
    if os.path.exists(path):
        with open(path) as f:
            previous = {**json.loads(json.dumps(assumed or {})), **json.load(f)}
        changed = sorted((k for k in set(previous) | set(config) if previous.get(k) != config.get(k)),
                         key=lambda k: (k not in previous or k not in config, k))  # changed values first
        if changed:
            details = ", ".join(f"{k}: {previous.get(k)!r} there, {config.get(k)!r} now" for k in changed[:SHOWN])
            if len(changed) > SHOWN:
                details += f", and {len(changed) - SHOWN} more"
            raise ValueError(
                f"Workdir {workdir} holds a run with another configuration ({details}). "
                "Use a new --workdir, or delete this one to start over."
            )
        return
    if os.path.isdir(workdir) and os.listdir(workdir):
        raise ValueError(
            f"Workdir {workdir} is not empty and holds no {CONFIG_FILE}, so it is not a run of "
            f"this trainer: {sorted(os.listdir(workdir))[:5]}. Use a new or empty --workdir."
        )
    os.makedirs(workdir, exist_ok=True)
    write_json_atomically(path, config)


def read_json(path):
    """The JSON value in `path`, or `None` when there is no such file."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_json_atomically(path, value):
    """Writes JSON so a reader (or a restart after `kill -9`) never sees half a file."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".tmp", path)


def save_weights_atomically(model, path):
    """`model.save_weights(path)` through a temporary file and `os.replace`."""
    temporary = path[: -len(".weights.h5")] + ".tmp.weights.h5"
    model.save_weights(temporary)
    os.replace(temporary, path)


def check_stage_files(folder):
    """Raises one clear `ValueError` when a checkpoint or state file under `folder` is damaged.

    A file cut short (a full disk, a copy interrupted) would otherwise end a resumed run in an
    HDF5 traceback or, worse, let it start over unseen. `.h5` files must open and `.json`
    files parse; files being written (`*.tmp*`) are skipped.
    """
    import h5py

    for root, _, names in os.walk(folder):
        for name in sorted(names):
            path = os.path.join(root, name)
            if ".tmp" in name or not name.endswith((".h5", ".json")):
                continue
            try:
                if name.endswith(".h5"):
                    h5py.File(path, "r").close()
                else:
                    read_json(path)
            except (OSError, ValueError) as error:
                raise ValueError(
                    f"{path} is damaged ({type(error).__name__}: {error}), so this stage cannot continue from "
                    f"it. Delete the folder {folder} to train the stage again from its start, or run in a new "
                    "workdir.") from error


def history_from_csv(path):
    """A `keras.callbacks.History` rebuilt from a `CSVLogger` file (all runs of a stage).

    Columns `CSVLogger` filled with "NA" throughout (the `val_*` names it adds when
    a stage has no validation data) are left out.
    """
    history = keras.callbacks.History()
    history.history = {}
    if os.path.exists(path):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        by_epoch = {int(row["epoch"]): row for row in rows}  # a resumed epoch replaces the killed one
        history.epoch = sorted(by_epoch)
        for key in rows[0] if rows else []:
            values = [by_epoch[e][key] for e in history.epoch]
            if key != "epoch" and any(value != "NA" for value in values):
                history.history[key] = [float("nan") if value == "NA" else float(value) for value in values]
    else:
        history.epoch = []
    return history


def training_seconds(workdir):
    """Seconds of every epoch trained in `workdir`'s stages, summed over every process that ran them.

    A run resumed after a kill counts the epochs of each process (its `wall_seconds` counts
    only the last process). The epoch a kill interrupted is not counted, nor are epochs
    trained by a lit_tf that did not yet record them (0.2 and earlier).

    Example:

    >>> import os, tempfile
    >>> from lit_tf.experiments import workdir
    >>> folder = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(folder, "lit"))
    >>> path = os.path.join(folder, "lit", workdir.EPOCH_SECONDS_FILE)
    >>> _ = open(path, "w").write("epoch,seconds\\n0,60.5\\n1,59.5\\n")  # two epochs of the LIT stage
    >>> workdir.training_seconds(folder)
    120.0
    """
    total = 0.0
    for stage in sorted(os.listdir(workdir)):
        path = os.path.join(workdir, stage, EPOCH_SECONDS_FILE)
        if os.path.exists(path):
            with open(path, newline="") as f:
                total += sum(float(row["seconds"]) for row in csv.DictReader(f))
    return round(total, 1)


def epochs_done(workdir):
    """How many epochs `workdir`'s stages have finished (an epoch a restart trained again counts once).

    >>> import os, tempfile
    >>> from lit_tf.experiments import workdir
    >>> folder = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(folder, "lit"))
    >>> path = os.path.join(folder, "lit", workdir.EPOCH_SECONDS_FILE)
    >>> _ = open(path, "w").write("epoch,seconds\\n0,6\\n1,5\\n1,5\\n")  # epoch 1 trained twice
    >>> workdir.epochs_done(folder), workdir.epochs_done(os.path.join(folder, "nowhere"))
    (2, 0)
    """
    if not os.path.isdir(workdir):
        return 0
    return sum(len(_last_per_epoch(os.path.join(workdir, stage, EPOCH_SECONDS_FILE), "seconds"))
               for stage in sorted(os.listdir(workdir)))


def _last_per_epoch(path, column):
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {int(row["epoch"]): float(row[column]) for row in csv.DictReader(f)}  # a redone epoch wins


def read_curve(stage_folder):
    """A stage's learning curve: `[(epoch, seconds, test_accuracy), ...]` in epoch order.

    Read from `<stage>/test_accuracy.csv` and `<stage>/epoch_seconds.csv`; an epoch that a
    restart trained again counts once, with its last values; `seconds` is `None` where the
    time was not recorded.

    Example:

    >>> import os, tempfile
    >>> from lit_tf.experiments import workdir
    >>> stage = tempfile.mkdtemp()
    >>> _ = open(os.path.join(stage, workdir.TEST_ACCURACY_FILE), "w").write(
    ...     "epoch,test_accuracy\\n0,0.5\\n1,0.6\\n1,0.65\\n")  # epoch 1 again after a restart
    >>> _ = open(os.path.join(stage, workdir.EPOCH_SECONDS_FILE), "w").write("epoch,seconds\\n0,60\\n1,61\\n1,62\\n")
    >>> workdir.read_curve(stage)
    [(0, 60.0, 0.5), (1, 62.0, 0.65)]
    """
    accuracies = _last_per_epoch(os.path.join(stage_folder, TEST_ACCURACY_FILE), "test_accuracy")
    seconds = _last_per_epoch(os.path.join(stage_folder, EPOCH_SECONDS_FILE), "seconds")
    return [(epoch, seconds.get(epoch), accuracies[epoch]) for epoch in sorted(accuracies)]
