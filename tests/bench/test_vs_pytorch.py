"""bench.vs_pytorch: the PyTorch side computes what lit_tf computes, and the command prints its table and ratios."""

import numpy as np
import pytest

from tests import test_case

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install '.[torch]')")


def test_a_lit_tf_resnets_weights_give_the_same_logits_and_boundaries_in_pytorch():
    from bench import torch_steps
    from lit_tf import models
    from lit_tf.structure import sections

    keras_resnet = models.CifarResNet(depth=14, image_shape=(16, 16, 3))
    network = torch_steps.load(torch_steps.build_resnet(14), models.torch_state_dict(keras_resnet)).eval()
    x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32")
    with torch.no_grad():
        boundaries, logits = network.features(torch.from_numpy(x.transpose(0, 3, 1, 2).copy()))
    keras_outputs = sections.Sections(keras_resnet, keras_resnet.boundaries).features(x, training=False)
    for ours, theirs in zip(keras_outputs[:-1], boundaries):
        np.testing.assert_allclose(np.asarray(ours), theirs.numpy().transpose(0, 2, 3, 1), atol=1e-4)
    np.testing.assert_allclose(np.asarray(keras_outputs[-1]), logits.numpy(), atol=1e-4)


@pytest.mark.slow  # a CLI run: four worker processes
def test_the_command_checks_the_first_losses_and_ends_with_the_ratios():
    code, out, err = test_case.run_module("bench.vs_pytorch", "--pairs=resnet8:resnet8", "--image_size=8",
                                          "--batch_size=4", "--steps=2", "--warmup=1", "--threads=1,2")
    assert code == 0, err[-2000:]
    check = [line for line in out.splitlines() if "first LIT step" in line]
    assert len(check) == 2
    for line in check:  # the same networks and weights: the same losses to float32 rounding
        values = [float(word) for word in line.replace(",", " ").split() if word[0].isdigit() and "." in word]
        assert np.allclose(values[0::2], values[1::2], rtol=1e-4), line
    last = out.strip().splitlines()[-1]
    assert last.startswith("ratios: resnet8:resnet8 1t lit/torch ") and " | resnet8:resnet8 2t " in last
