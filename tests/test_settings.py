"""Every default of the reference's hyper-parameters comes from lit_tf.settings."""

import inspect

import pytest

from lit_tf import compression
from lit_tf import settings
from lit_tf.distillation import baselines
from lit_tf.distillation import finetune
from lit_tf.distillation import lit
from lit_tf.distillation import losses
from lit_tf.experiments.cifar_config import ExperimentConfig

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
    config = ExperimentConfig()
    assert (config.teacher_schedule, config.lit_schedule, config.finetune_schedule) == (
        settings.TEACHER_STAGE, settings.LIT_STAGE, settings.FINETUNE_STAGE)
    assert {name: getattr(config, name) for name in SHARED} == SHARED
    compress = inspect.signature(compression.compress).parameters
    assert compress["lit"].default is None and compress["finetune"].default is None  # by the student's start
    assert settings.default_stages(False) == (settings.LIT_STAGE, settings.FINETUNE_STAGE)
    trained = ExperimentConfig(student_init="teacher_blocks", teacher_weights=__file__, mode="lit")
    assert (trained.lit_schedule, trained.finetune_schedule) == settings.default_stages(True)
    assert compress["weight_decay"].default == settings.SGD.weight_decay == 1e-4


def test_the_api_page_shows_default_values_not_names():
    import re

    for function in (compression.compress, lit.LITDistiller, finetune.KDDistiller):
        source = inspect.getsource(function).split('"""')[0]  # the signature
        assert not re.search(r"=settings\.", source), function.__name__


def test_a_stage_takes_a_schedule_or_the_flat_keywords_never_both():
    schedule = settings.Schedule(3, 0.1, [2], "reference")
    assert settings.stage_schedule(schedule) is schedule and schedule.milestones == (2,)
    assert settings.stage_schedule(epochs=3, learning_rate=0.1, milestones=(2,)) == settings.Schedule(3, 0.1, (2,))
    for kwargs, message in ((dict(schedule=schedule, epochs=3), "not both"), ({}, "needs schedule"),
                            (dict(schedule="reference"), "convention= says")):
        with pytest.raises(ValueError, match=message):
            settings.stage_schedule(**kwargs)
    with pytest.raises(ValueError, match="convention must be one of"):
        settings.Schedule(3, 0.1, convention="daily")
    assert settings.stage_schedule(epochs=3).learning_rate is None  # fit_stage: the optimizer's own rate
    with pytest.raises(ValueError, match="at the schedule's learning rate"):
        settings.stage_schedule(epochs=3, needs_rate=True)
