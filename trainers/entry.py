"""How every command starts: flags -> a checked configuration -> TensorFlow -> the run -> its result lines.

`lit-cifar`, `lit-stargan` and `lit-convert` are each a `Command`: its flags, how a configuration
is built from them (checked there, before TensorFlow is imported, so a bad flag or a missing
path is one `error:` line within a second or two), and what runs it. `main(command)`:

- `--help` prints the module's doc and its flags, exit 0; a bad flag, a bad value or a path that
  does not exist is one `error:` line in the command line's words (`--teacher_weights=...`), exit 1;
- then TensorFlow starts quietly (`lit_tf.startup`) and the command runs;
- Ctrl-C (SIGINT) or SIGTERM during a run ends with one line naming the epochs done and the
  command that resumes, exit 130 or 143; the workdir keeps every finished epoch.

Importing this module, or a trainer, starts nothing: no TensorFlow, no change to stderr.

Example:

>>> from absl import flags
>>> values = flags.FlagValues()
>>> _ = flags.DEFINE_integer("epochs", 1, "Epochs.", flag_values=values)
>>> command = Command("lit-demo", "trainers.demo", "Demo.", values, lambda v: v.epochs, lambda c, v: print(c) or 0)
>>> main(command, ["lit-demo", "--epochs=3"])
3
0
>>> main(command, ["lit-demo", "--epochs=three"])
1
"""

import dataclasses
import os
import shlex
import signal
import sys

from absl import flags

if __package__:  # trainers.* in a checkout, lit_tf_trainers.* when installed
    from . import config_flags
else:  # run as a file
    from trainers import config_flags

HELP_FLAGS = {"-h", "--help", "--helpshort", "--helpfull"}


@dataclasses.dataclass(frozen=True)
class Command:
    """One command line tool.

    Attributes:
        name: str, the installed command (`lit-cifar`).
        module: str, the module a checkout runs with `python -m` (`trainers.cifar`).
        doc: str, what `--help` prints before the flags.
        flags: the `absl.flags.FlagValues` it parses.
        config_from_flags: `flags -> configuration`, raising `ValueError`/`FileNotFoundError` on bad values;
            runs before TensorFlow is imported.
        execute: `(configuration, flags) -> exit status`, the work (imports TensorFlow as it needs).
        progress: `(configuration, flags) -> (epochs done, epochs planned)` or `None`, for the line
            printed when a run is stopped.
        required: `(flag, what it is for)` pairs of flags that must be given.
        flag_help: `() -> str`, the flags' listing for `--help`; default `flags.get_help()`.
    """

    name: str
    module: str
    doc: str
    flags: flags.FlagValues
    config_from_flags: object
    execute: object
    progress: object = None
    required: tuple = ()
    flag_help: object = None


class Stopped(Exception):
    """SIGTERM arrived: unwinds the run like Ctrl-C's `KeyboardInterrupt`."""


def _on_sigterm(signum, frame):
    del signum, frame
    raise Stopped()


def _error(command, message):
    print(f"error: {config_flags.as_flags(' '.join(str(message).split()), command.flags)}", file=sys.stderr)
    return 1


def _parse(command, argv):
    """The flags parsed, or an exit status after `--help` (0) or an `error:` line (1)."""
    if HELP_FLAGS & set(argv[1:]):
        print(command.doc + "\nFlags:\n" + (command.flag_help or command.flags.get_help)())
        return 0
    command.flags.unparse_flags()  # every value from this command line or its default, also in a second call
    try:
        remaining = command.flags(config_flags.resolve_flagfiles(argv))
    except (flags.Error, ValueError) as error:
        return _error(command, error)
    if not flags.FLAGS.is_parsed():  # a command with its own flags: absl's logging reads the global ones
        flags.FLAGS.mark_as_parsed()
    if len(remaining) > 1:
        return _error(command, f"unexpected arguments {remaining[1:]}; flags are written --name=value.")
    for name, why in command.required:
        if not command.flags[name].value:
            return _error(command, f"--{name} is required: {why}.")
    return None


def resume_command(command, argv):
    """The command line that continues this run: the same arguments, as the user started it."""
    program = command.name if os.path.basename(argv[0]) == command.name else f"python -m {command.module}"
    return " ".join([program, *map(shlex.quote, argv[1:])])


def _stopped(command, config, argv, status):
    done = command.progress(config, command.flags) if command.progress else None
    where = f"after {done[0]} of {done[1]} epochs" if done else "before its next epoch"
    print(f"[lit_tf] stopped {where}; the workdir keeps every finished epoch. Resume with: "
          f"{resume_command(command, argv)}", file=sys.stderr, flush=True)
    return status


def main(command, argv=None):
    """Runs `command` on `argv` (default `sys.argv`); returns the exit status."""
    argv = list(sys.argv if argv is None else argv)
    status = _parse(command, argv)
    if status is not None:
        return status
    try:
        config = command.config_from_flags(command.flags)
    except (ValueError, FileNotFoundError) as error:
        return _error(command, error)
    from lit_tf import startup

    startup.import_tensorflow(argv)  # quiet, oneDNN on; only now, the flags and paths checked
    from absl import logging

    logging.set_verbosity(logging.WARNING)  # the SavedModel writer logs every file at INFO
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return command.execute(config, command.flags)
    except (ValueError, FileNotFoundError, FloatingPointError, ImportError) as error:
        return _error(command, error)
    except KeyboardInterrupt:
        return _stopped(command, config, argv, 130)
    except Stopped:
        return _stopped(command, config, argv, 143)
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(command):
    """An installed command's entry point: `main`, then exit with its status."""
    sys.exit(main(command))
