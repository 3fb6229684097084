"""absl flags whose defaults are a config dataclass's: each default is written once, in the config.

Both trainers define their flags through `definer`: `define(kind, name, help)` makes the flag
`--name` of absl type `kind` ("string", "integer", "float", "bool", "list", "enum") with the
config's default; a tuple default becomes a list flag's list of strings.

Example:

>>> import dataclasses
>>> from absl import flags
>>> @dataclasses.dataclass(frozen=True)
... class Config:
...     epochs: int = 3
...     milestones: tuple = (1, 2)
>>> values = flags.FlagValues()
>>> define = definer(values, Config())
>>> define("integer", "epochs", "Epochs.")
>>> define("list", "milestones", "Rate drops.")
>>> _ = values(["prog"])
>>> values.epochs, values.milestones
(3, ['1', '2'])
"""

import os
import re
import sys

from absl import flags

CONFIGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")  # shipped with the package


def shipped_flagfiles():
    """The names of the flagfiles shipped in `configs/` (without `.flags`)."""
    return sorted(name[: -len(".flags")] for name in os.listdir(CONFIGS) if name.endswith(".flags"))


def resolve_flagfiles(argv):
    """`argv` with each `--flagfile=NAME` of a shipped flagfile (`quickstart`, `resnet110_to_resnet20`, or
    `trainers/configs/NAME.flags` from a checkout) made the path of the installed file.

    A path that exists is left alone. An unknown name raises `ValueError` listing the shipped ones.

    >>> resolved = resolve_flagfiles(["prog", "--flagfile=quickstart"])[1]
    >>> resolved == "--flagfile=" + os.path.join(CONFIGS, "quickstart.flags")
    True
    """
    resolved = []
    for arg in argv:
        if arg.startswith("--flagfile=") and not os.path.exists(arg[len("--flagfile="):]):
            name = os.path.basename(arg[len("--flagfile="):])
            path = os.path.join(CONFIGS, name if name.endswith(".flags") else f"{name}.flags")
            if not os.path.exists(path):
                raise ValueError(f"No flagfile {arg[len('--flagfile='):]!r}: give a path, or the name of a shipped "
                                 f"one: {', '.join(shipped_flagfiles())}.")
            arg = f"--flagfile={path}"
        resolved.append(arg)
    return resolved


def definer(flag_values, defaults, module_name=None):
    """Returns `define(kind, name, help_text, **kwargs)`, defaulting each flag to `defaults.<name>`.

    `default=` in kwargs overrides (for flags that are not config fields, such as `--workdir`).
    `module_name`: the trainer's `__name__`, under which `--help` lists the flags.
    """

    if module_name == "__main__":
        module_name = sys.argv[0]  # absl's name for the main module's flags

    def define(kind, name, help_text, **kwargs):
        default = kwargs.pop("default") if "default" in kwargs else getattr(defaults, name)
        if isinstance(default, tuple):
            default = [str(value) for value in default]
        if module_name:
            kwargs["module_name"] = module_name
        getattr(flags, f"DEFINE_{kind}")(name, default, help=help_text, flag_values=flag_values, **kwargs)
        if module_name:  # a key flag of the trainer, as if it were defined there
            flag_values.register_key_flag_for_module(module_name, flag_values[name])

    return define


DETERMINISTIC_HELP = ("TensorFlow's op determinism: the same flags give the same weights, and a killed run resumed "
                      "ends bit for bit as the run that never stopped (slower on GPUs).")


def define_deterministic(define):
    """`--deterministic`, through a trainer's `definer`."""
    define("bool", "deterministic", DETERMINISTIC_HELP, default=False)


def apply_deterministic(enabled):
    """Turns TensorFlow's op determinism on when `enabled` (`--deterministic`)."""
    if enabled:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()


def as_flags(message, flag_values):
    """A library message in the command line's words: each `name=` of a flag becomes `--name=`.

    The library speaks to Python callers (`teacher_weights=PATH`); a trainer prints its errors
    through this. Code quoted in backticks is left as it is.

    >>> values = flags.FlagValues()
    >>> _ = flags.DEFINE_string("data_dir", None, "", flag_values=values)
    >>> _ = flags.DEFINE_string("teacher_weights", None, "", flag_values=values)
    >>> print(as_flags("pass teacher_weights=PATH or run `prepare(data_dir='x')` with data_dir=DIR", values))
    pass --teacher_weights=PATH or run `prepare(data_dir='x')` with --data_dir=DIR
    """
    names = "|".join(re.escape(name) for name in sorted(flag_values, key=len, reverse=True))
    flag = re.compile(rf"(?<![\w\-.])({names})=")
    parts = message.split("`")
    return "`".join(part if i % 2 else flag.sub(r"--\1=", part) for i, part in enumerate(parts))
