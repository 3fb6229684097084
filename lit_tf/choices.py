"""The one check of an argument that must be one of a few names.

Every option of lit_tf with a fixed set of values (modes, strategies, quantizations,
normalisations, crop paddings, optimizers, schedules, ...) is checked here, so the error
reads the same everywhere.

Example:

>>> from lit_tf.choices import check_choice
>>> check_choice("schedule", "milestones", ("milestones", "reference"))
>>> check_choice("schedule", "daily", ("milestones", "reference"))
Traceback (most recent call last):
...
ValueError: schedule must be one of ('milestones', 'reference'). Received: schedule='daily'
"""


def check_choice(name, value, choices):
    """Raises `ValueError` naming `name`, the choices and `value` unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received: {name}={value!r}")
