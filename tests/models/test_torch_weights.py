"""Tests for lit_tf.models.torch_weights: PyTorch CIFAR ResNet state dicts in and out."""

import os
import sys
import types

import numpy as np
import pytest

from lit_tf import models
from lit_tf.data import cifar
from lit_tf.data import pipeline
from tests import test_case

SHARED = test_case.SHARED
CHECKPOINTS = os.path.join(SHARED, "models", "cifar-resnet-pytorch")
SUBSET = os.path.join(SHARED, "data", "cifar10-subset", "cifar-10-batches-py")


def _state_dict(depth=8, seed=0):
    """A PyTorch-style state dict of a CIFAR ResNet, with counters and DataParallel's prefix."""
    model = models.CifarResNet(depth=depth)
    rng = np.random.default_rng(seed)
    state = {name: rng.normal(size=value.shape).astype("float32") for name, value in
             models.torch_state_dict(model).items()}
    for name in list(state):
        if name.endswith("running_var"):
            state[name] = np.abs(state[name]) + 0.5
            state[name.replace("running_var", "num_batches_tracked")] = np.array(7)
    return {f"module.{name}": value for name, value in state.items()}


def test_a_state_dict_loads_into_the_keras_layout_and_back():
    state = _state_dict(depth=8)
    model = models.CifarResNet(depth=8)
    models.load_torch_weights(model, state)
    back = models.torch_state_dict(model)
    for name, value in back.items():
        np.testing.assert_array_equal(value, state[f"module.{name}"])
    kernel = model.get_layer("section_2_block1_conv1").kernel.numpy()
    np.testing.assert_array_equal(kernel, state["module.layer2.0.conv1.weight"].transpose(2, 3, 1, 0))  # OIHW -> HWIO
    np.testing.assert_array_equal(model.get_layer("head").kernel.numpy(), state["module.linear.weight"].T)


def test_an_npz_path_loads(tmp_path):
    path = str(tmp_path / "resnet8.npz")
    np.savez(path, **_state_dict(depth=8))
    model = models.CifarResNet(depth=8)
    models.load_torch_weights(model, path)
    np.testing.assert_array_equal(model.get_layer("stem_bn").moving_variance.numpy(),
                                  np.load(path)["module.bn1.running_var"])


def test_every_misfit_is_named_and_the_model_is_left_untouched():
    state = _state_dict(depth=8)
    del state["module.layer3.0.bn2.running_mean"]
    state["module.layer1.0.conv1.weight"] = state["module.layer1.0.conv1.weight"][:8]
    state["module.fc.weight"] = np.zeros((10, 64), "float32")
    model = models.CifarResNet(depth=8)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError) as error:
        models.load_torch_weights(model, state)
    message = str(error.value)
    assert "missing 'layer3.0.bn2.running_mean' (expected shape (64,))" in message
    assert "'layer1.0.conv1.weight' has shape (8, 16, 3, 3), expected (16, 16, 3, 3)" in message
    assert "unexpected 'fc.weight' (10, 64)" in message and "Nothing was loaded" in message
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_a_checkpoint_of_another_depth_says_which_depth_it_is():
    with pytest.raises(ValueError, match=r"The weights look like a resnet14\."):
        models.load_torch_weights(models.CifarResNet(depth=8), _state_dict(depth=14))


def test_other_models_and_files_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match=r"load into CIFAR ResNets .* Received: model='resnext11'"):
        models.load_torch_weights(models.CifarResNeXt(depth=11), {})
    with pytest.raises(ValueError, match=r"\.npz, \.th, \.pt, \.pth, \.ckpt files or a mapping"):
        models.load_torch_weights(models.CifarResNet(depth=8), "weights.h5")
    with pytest.raises(FileNotFoundError, match="No PyTorch weights at"):
        models.load_torch_weights(models.CifarResNet(depth=8), str(tmp_path / "none.npz"))


def test_a_pytorch_file_without_torch_names_both_ways_out(tmp_path, monkeypatch):
    path = tmp_path / "resnet8.th"
    path.write_bytes(b"not read")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    with pytest.raises(ImportError, match=r"pip install torch.*np\.savez"):
        models.load_torch_weights(models.CifarResNet(depth=8), str(path))


def test_a_pytorch_file_is_read_with_torch_and_unwrapped(tmp_path, monkeypatch):
    state = _state_dict(depth=8)
    tensor = lambda value: types.SimpleNamespace(detach=lambda: types.SimpleNamespace(  # noqa: E731
        cpu=lambda: types.SimpleNamespace(numpy=lambda: value)))
    seen = {}

    def load(path, map_location, weights_only):
        seen.update(path=path, map_location=map_location, weights_only=weights_only)
        return {"state_dict": {name: tensor(value) for name, value in state.items()}, "best_prec1": 91.7}

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(load=load))
    path = tmp_path / "checkpoint.pth"
    path.write_bytes(b"")
    model = models.CifarResNet(depth=8)
    models.load_torch_weights(model, str(path))
    assert seen == {"path": str(path), "map_location": "cpu", "weights_only": True}
    np.testing.assert_array_equal(models.torch_state_dict(model)["linear.bias"], state["module.linear.bias"])


@test_case.needs_shared("models/cifar-resnet-pytorch", "data/cifar10-subset/cifar-10-batches-py")
@pytest.mark.parametrize("depth, pytorch_accuracy", [(20, 0.9163), (56, 0.9260)])
def test_pretrained_pytorch_resnets_score_what_they_score_in_pytorch(depth, pytorch_accuracy):
    model = models.get(f"resnet{depth}")
    models.load_torch_weights(model, os.path.join(CHECKPOINTS, f"resnet{depth}.npz"))
    images, labels = cifar.load_split(SUBSET, "test")  # the first 932 official test images, exact pixels
    x = ((images - np.array(pipeline.IMAGENET_MEAN)) / np.array(pipeline.IMAGENET_STD)).astype("float32")
    accuracy = np.mean(np.argmax(model.predict(x, batch_size=256, verbose=0), axis=1) == labels)
    assert accuracy == pytest.approx(pytorch_accuracy, abs=0.0025)


@pytest.mark.parametrize("naming", ["official", "lit_code"])
def test_stargan_generators_round_trip_in_either_naming_and_a_deeper_checkpoint_is_named(naming):
    from lit_tf.models import stargan

    def generator(blocks):
        return stargan.Generator(image_size=16, num_domains=3, conv_dim=8, residual_blocks=blocks, sections=1)

    source, target = generator(2), generator(2)
    state_dict = models.torch_state_dict(source, naming)
    norm = "main.1" if naming == "official" else "downsampling_layers.1"
    state_dict.update({f"{norm}.running_mean": np.zeros(8), f"{norm}.running_var": np.ones(8)})
    models.load_torch_weights(target, state_dict)  # InstanceNorm running statistics are skipped
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"do not fit stargan_generator2 \(2 residual blocks, conv_dim 8, 3 domains\)"
                                         r": .* look like a generator with 6 residual blocks\. Nothing was loaded"):
        models.load_torch_weights(target, models.torch_state_dict(generator(6), naming))


def test_a_stargan_discriminator_round_trips_in_the_official_names():
    from lit_tf.models import stargan

    source, target = (stargan.Discriminator(image_size=16, num_domains=3, conv_dim=8, strided_layers=2)
                      for _ in range(2))
    state_dict = models.torch_state_dict(source)
    assert sorted(state_dict) == ["conv1.weight", "conv2.weight", "main.0.bias", "main.0.weight", "main.2.bias",
                                  "main.2.weight"]
    models.load_torch_weights(target, state_dict)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 16, 16, 3)).astype("float32")
    for a, b in zip(source(x), target(x)):
        np.testing.assert_array_equal(a, b)
