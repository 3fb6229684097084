"""What defines a CIFAR experiment: `ExperimentConfig`, the trainer's flags as a frozen dataclass.

`config.json` in a workdir is this, as a dict; `lit_tf.experiments.cifar.run` runs it. The stage
schedules come out as `settings.Schedule`s (`lit_schedule`, ...).

Example:

>>> from lit_tf.experiments.cifar_config import ExperimentConfig
>>> config = ExperimentConfig(mode="teacher", lit_epochs=5, finetune_epochs=5, schedule="reference")
>>> config.lit_schedule
Schedule(epochs=5, learning_rate=0.1, milestones=(100,), convention='reference')
>>> ExperimentConfig(mode="lit")  # doctest: +ELLIPSIS
Traceback (most recent call last):
ValueError: mode='lit' distils from a trained teacher, and none was given. ...
"""

import dataclasses
import os

from lit_tf import options
from lit_tf import settings
from lit_tf.options import check_choice

# Settings added after runs were started, with the value those runs used (see workdir.claim).
ASSUMED_IN_OLDER_RUNS = {"section_bn_updates": "both_passes", "test_curve": False, "student_init": "random",
                         "student_blocks": [], "student_choose": "spread", "target_params": None,
                         "target_flops": None, "target_latency": None}


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a run; `config.json` in the workdir is this, as a dict.

    Defaults are the LIT reference code's (ResNet-110 -> ResNet-20 on CIFAR-10).
    `train_teacher=True` trains a teacher when `teacher_weights` is not given
    (mode `all` always may); without either, student modes refuse to start.
    """

    mode: str = "all"
    # Data.
    dataset: str = "cifar10"
    data_dir: str | None = None
    cifar_dir: str | None = None
    image_dir: str | None = None  # dataset "image_folder": DIR/train/<class>/*, DIR/test/<class>/*
    validation_fraction: float = 0.1
    augment: bool = True
    # "auto": CIFAR's statistics for CIFAR, ImageNet's for image folders (stored resolved, see
    # __post_init__); or "cifar", or "imagenet": the reference's, and PyTorch CIFAR ResNets'
    normalization: str = "auto"
    crop_padding: str = "reflect"  # or "zeros": the reference's (torchvision's RandomCrop)
    # Models.
    teacher_arch: str = "resnet110"
    student_arch: str = "resnet20"
    teacher_weights: str | None = None
    train_teacher: bool = False
    boundaries: tuple = ("stem", "section_1", "section_2", "section_3")
    # Where every student starts: "random" (the paper's) or "teacher_blocks", the teacher with only
    # student_arch's number of blocks a section, kept at `student_blocks` (0-based, every section;
    # empty: spread, first and last included) and started from the teacher's weights.
    student_init: str = "random"
    student_blocks: tuple = ()
    # With "teacher_blocks": which blocks a count keeps ("spread" or "importance", judged on the
    # teacher's activations), or one target, a fraction of the teacher's, that decides the counts too.
    student_choose: str = "spread"
    target_params: float | None = None
    target_flops: float | None = None
    target_latency: float | None = None
    hint_layer: str | None = None  # FitNets; defaults to the middle boundary
    # Teacher training (the standard CIFAR ResNet recipe).
    teacher_epochs: int = settings.TEACHER_STAGE.epochs
    teacher_learning_rate: float = settings.TEACHER_STAGE.learning_rate
    teacher_milestones: tuple = settings.TEACHER_STAGE.milestones
    # Adapting a given teacher (--teacher_weights) to the dataset before distilling from it.
    adapt_epochs: int = 0
    adapt_learning_rate: float = 0.01
    adapt_milestones: tuple = ()
    # LIT stage and fine-tune stage (the reference's).
    lit_epochs: int = settings.LIT_STAGE.epochs
    lit_learning_rate: float | None = None  # None: the reference's 0.1, or 0.01 with "teacher_blocks" (resolved)
    lit_milestones: tuple = settings.LIT_STAGE.milestones
    finetune_epochs: int = settings.FINETUNE_STAGE.epochs
    finetune_learning_rate: float | None = None  # None: the reference's 0.01, or 0.001 with "teacher_blocks"
    finetune_milestones: tuple = settings.FINETUNE_STAGE.milestones
    beta: float = settings.LIT.beta
    temperature: float = settings.KD.temperature
    alpha: float = settings.KD.alpha
    noise_stddev: float = settings.LIT.noise_stddev
    momentum: float = settings.SGD.momentum
    weight_decay: float = settings.SGD.weight_decay
    # The reference's training arithmetic (see README "Matches the reference"):
    optimizer: str = "sgd"  # or "torch_sgd": PyTorch's momentum buffer
    schedule: str = "milestones"  # or "reference": rates drop one epoch before each milestone
    finetune_stem_and_head: bool = True  # False: the reference's fine-tune, stem and head frozen
    section_bn_updates: str = "full_pass"  # "both_passes": teacher-fed sections update BN statistics too
    batch_size: int = 32
    seed: int = 0
    # Distribution and export.
    strategy: str = "default"
    num_gpus: int = 0
    quantize: str = "none"
    export: bool = True
    # Reports: every stage's test accuracy after each epoch (<stage>/test_accuracy.csv), never for selection.
    test_curve: bool = False

    def __post_init__(self):
        for name, choices in (("mode", options.MODES), ("dataset", options.DATASETS),
                              ("strategy", options.STRATEGIES), ("quantize", options.QUANTIZATIONS),
                              ("crop_padding", options.CROP_PADDINGS), ("optimizer", options.OPTIMIZERS),
                              ("schedule", options.SCHEDULE_CONVENTIONS),
                              ("section_bn_updates", options.SECTION_BN_UPDATES),
                              ("student_init", options.STUDENT_INITS), ("student_choose", options.STUDENT_CHOICES)):
            check_choice(name, getattr(self, name), choices)
        # Resolved, so a workdir records what the data was normalised with.
        object.__setattr__(self, "normalization", options.resolve_normalization(self.dataset, self.normalization))
        self._resolve_stage_rates()
        for name, value in self.student_targets.items():
            if self.student_init != "teacher_blocks":
                raise ValueError(f"{name} cuts the student out of the teacher: it needs student_init='teacher_blocks'. "
                                 f"Received: {name}={value}")
        if len(self.student_targets) > 1 or (self.student_targets and (self.student_blocks or
                                                                       self.student_choose != "spread")):
            raise ValueError("Give one target (target_params, target_flops or target_latency); it decides how many "
                             "blocks each section keeps and which, so not with student_blocks or student_choose. "
                             f"Received: {self.student_targets}, student_blocks={self.student_blocks}, "
                             f"student_choose={self.student_choose!r}")
        for name, value in {"student_blocks": self.student_blocks, "student_choose": self.student_choose}.items():
            if value and value != "spread" and self.student_init != "teacher_blocks":
                raise ValueError(f"{name} picks the teacher's blocks a student starts from: it needs "
                                 f"student_init='teacher_blocks'. Received: {name}={value}")
        for name in ("batch_size", "teacher_epochs", "lit_epochs", "finetune_epochs"):
            if getattr(self, name) <= 0 and not (name == "teacher_epochs" and self.teacher_weights):
                raise ValueError(f"{name} must be > 0. Received: {name}={getattr(self, name)}")
        if self.adapt_epochs < 0:
            raise ValueError(f"adapt_epochs must be >= 0. Received: adapt_epochs={self.adapt_epochs}")
        if self.adapt_epochs and not self.teacher_weights:
            raise ValueError(f"adapt_epochs={self.adapt_epochs} fine-tunes a given teacher: pass "
                             "teacher_weights=PATH, or train one with teacher_epochs=N.")
        needs_teacher = self.mode in ("lit", "kd", "fitnets") or (
            self.mode == "scratch" and self.student_init == "teacher_blocks")
        if needs_teacher and not (self.teacher_weights or self.train_teacher):
            raise ValueError(
                f"mode={self.mode!r} "
                + ("distils from" if self.mode != "scratch" else "with student_init='teacher_blocks' starts from")
                + " a trained teacher, and none was given. Pass "
                f"teacher_weights=PATH (a .keras model, or .weights.h5 of teacher_arch={self.teacher_arch!r}), "
                "or mode='all' to train the teacher first (or train_teacher=True to train one in this run)."
            )
        if self.teacher_weights and not os.path.exists(self.teacher_weights):
            raise FileNotFoundError(f"teacher_weights={self.teacher_weights!r} does not exist.")
        if self.dataset == "image_folder" and not self.image_dir:
            raise ValueError("dataset='image_folder' reads DIR/train/<class>/* and DIR/test/<class>/*: "
                             "pass image_dir=DIR.")
        folder = {"image_folder": "image_dir", "cifar10": "cifar_dir"}.get(self.dataset)  # the one this dataset reads
        if folder and getattr(self, folder) and not os.path.isdir(getattr(self, folder)):
            raise FileNotFoundError(f"{folder}={getattr(self, folder)!r} is not a folder.")

    def _resolve_stage_rates(self):
        """Rates left `None` become the defaults for the students' start (`settings.default_stages`), stored
        resolved so a workdir records them."""
        lit, finetune = settings.default_stages(self.student_init == "teacher_blocks")
        if self.lit_learning_rate is None:
            object.__setattr__(self, "lit_learning_rate", lit.learning_rate)
        if self.finetune_learning_rate is None:
            object.__setattr__(self, "finetune_learning_rate", finetune.learning_rate)

    @property
    def student_targets(self):
        """The target given, `{"target_params": 0.33}`, or `{}`."""
        return {name: getattr(self, name) for name in ("target_params", "target_flops", "target_latency")
                if getattr(self, name) is not None}

    @property
    def teacher_schedule(self):
        """The teacher's training, a `settings.Schedule`."""
        return settings.Schedule(self.teacher_epochs, self.teacher_learning_rate, self.teacher_milestones,
                                 self.schedule)

    @property
    def adapt_schedule(self):
        """A given teacher's adaptation to the dataset."""
        return settings.Schedule(self.adapt_epochs, self.adapt_learning_rate, self.adapt_milestones, self.schedule)

    @property
    def lit_schedule(self):
        """Stage 1: LIT's, and every baseline's first stage."""
        return settings.Schedule(self.lit_epochs, self.lit_learning_rate, self.lit_milestones, self.schedule)

    @property
    def finetune_schedule(self):
        """Stage 2: LIT's fine-tune, and every baseline's second stage."""
        return settings.Schedule(self.finetune_epochs, self.finetune_learning_rate, self.finetune_milestones,
                                 self.schedule)
