"""Whole experiments, resumable: the CIFAR compression run and its configuration, the run skeleton, workdirs, reports.

`cifar` is `run(config, workdir)`, what `lit-cifar` does (teacher, students, `result.json`,
export); `cifar_config` its `ExperimentConfig` (importing nothing heavy, so the trainer checks
its flags before TensorFlow starts); `runs` the skeleton every experiment's `run` follows;
`workdir` a run's folder (claimed, resumed, files written whole); `reporting` the accuracy, size
and export summaries. The StarGAN experiment is `lit_tf.experiments.stargan`.

This package's `__init__` imports nothing: `lit_tf.experiments.cifar_config` stays light.
"""
