"""Every default of the reference's hyper-parameters comes from lit_tf.settings."""

import dataclasses
import inspect

import pytest

from lit_tf import baselines
from lit_tf import compression
from lit_tf import experiment
from lit_tf import finetune
from lit_tf import lit
from lit_tf import losses
from lit_tf import settings

SHARED = {"temperature": settings.KD.temperature, "alpha": settings.KD.alpha, "beta": settings.LIT.beta,
          "noise_stddev": settings.LIT.noise_stddev, "momentum": settings.SGD.momentum,
          "weight_decay": settings.SGD.weight_decay}


@pytest.mark.parametrize("function", [
    compression.compress, finetune.finetune_with_kd, baselines.distill_kd, baselines.fitnets,
    baselines.train_supervised, lit.LITDistiller, finetune.KDDistiller, losses.KDLoss,
], ids=lambda f: f.__name__)
def test_every_entry_point_defaults_to_the_settings(function):
    parameters = inspect.signature(function).parameters
    shared = [name for name in SHARED if name in parameters]
    assert shared, "checks nothing"
    assert {name: parameters[name].default for name in shared} == {name: SHARED[name] for name in shared}


def test_the_stages_and_the_trainer_config_default_to_the_settings():
    config = experiment.ExperimentConfig()
    for prefix, stage in (("teacher", settings.TEACHER_STAGE), ("lit", settings.LIT_STAGE),
                          ("finetune", settings.FINETUNE_STAGE)):
        assert settings.Schedule(**{f.name: getattr(config, f"{prefix}_{f.name}")
                                    for f in dataclasses.fields(settings.Schedule)}) == stage
    assert {name: getattr(config, name) for name in SHARED} == SHARED
    compress = inspect.signature(compression.compress).parameters
    assert (compress["lit_epochs"].default, compress["finetune_epochs"].default) == (175, 125)
    assert compress["weight_decay"].default == settings.SGD.weight_decay == 1e-4
