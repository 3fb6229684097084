"""PyTorch state-dict names of StarGAN's generator and discriminator, in both namings in use.

- **official** (github yunjey/stargan, checkpoints such as `200000-G.ckpt`): the generator is one
  `nn.Sequential` `main`: 0 conv, 1 InstanceNorm, 3 and 6 down-sampling convs with 4 and 7 their
  norms, 9.. the residual blocks (`main.<9+b>.main.{0,1,3,4}`), then two transposed convs with their
  norms and the last conv. The discriminator is `main.{0,2,..}` (convs with bias), `conv1` (real/fake)
  and `conv2` (domains).
- **lit_code** (the LIT reference, stanford-futuredata/lit-code): the same generator split into
  `downsampling_layers.{0,1,3,4,6,7}`, `bottleneck_section1.<b>.main.{0,1,3,4}` and
  `upsampling_layers.{0,1,3,4,6}`.

Each layout maps a PyTorch name to `(Keras variable, kind)`: "conv" for OIHW (transposed convs'
`(in, out, kH, kW)` takes the same transpose to Keras' `(kH, kW, out, in)`), "vector" for norms.
InstanceNorm's running statistics (`track_running_stats=True`) are not used in training mode,
where StarGAN's networks stay, and have no Keras variable: `IGNORED` names them.

Example:

>>> from lit_tf.models import stargan, stargan_torch
>>> generator = stargan.Generator(image_size=16, num_domains=3, conv_dim=8, residual_blocks=2, sections=1)
>>> layout = stargan_torch.generator_layout(generator, "official")
>>> [name for name in layout if name.startswith("main.9.")]  # doctest: +NORMALIZE_WHITESPACE
['main.9.main.0.weight', 'main.9.main.1.weight', 'main.9.main.1.bias',
 'main.9.main.3.weight', 'main.9.main.4.weight', 'main.9.main.4.bias']
>>> stargan_torch.naming_of(["downsampling_layers.0.weight"])
'lit_code'
"""

NAMINGS = ("official", "lit_code")
IGNORED = (".running_mean", ".running_var", ".num_batches_tracked")


def naming_of(names):
    """"lit_code" when the names are the LIT reference's, else "official"."""
    return "lit_code" if any(name.startswith("downsampling_layers.") for name in names) else "official"


def generator_sizes(state_dict):
    """`{"num_domains", "conv_dim", "residual_blocks"}` of a generator state dict, read from its names and shapes.

    >>> import numpy as np
    >>> generator_sizes({"main.0.weight": np.zeros((64, 8, 7, 7)), "main.9.main.0.weight": np.zeros(1),
    ...                  "main.10.main.0.weight": np.zeros(1)})
    {'num_domains': 5, 'conv_dim': 64, 'residual_blocks': 2}
    """
    first = state_dict.get("main.0.weight", state_dict.get("downsampling_layers.0.weight"))
    if first is None or len(first.shape) != 4:
        raise ValueError("This is no StarGAN generator state dict: it has no first convolution 'main.0.weight' "
                         f"(official) or 'downsampling_layers.0.weight' (lit-code). Received: {sorted(state_dict)[:4]}")
    trunk = {name.split(".")[1] for name in state_dict
             if name.startswith("bottleneck_section1.") or (name.startswith("main.") and ".main." in name)}
    return {"num_domains": int(first.shape[1]) - 3, "conv_dim": int(first.shape[0]), "residual_blocks": len(trunk)}


def _conv(model, layer):
    return [(".weight", model.get_layer(layer).weights[0], "conv")]


def _norm(model, layer):
    gamma, beta = model.get_layer(layer).weights
    return [(".weight", gamma, "vector"), (".bias", beta, "vector")]


def generator_layout(model, naming="official"):
    """`{PyTorch name: (variable, kind)}` of a `lit_tf.models.stargan.Generator`."""
    blocks = model.residual_blocks
    if naming == "lit_code":
        down, up = "downsampling_layers.{}".format, "upsampling_layers.{}".format
        block = "bottleneck_section1.{}.main.{}".format
    else:
        down, up = "main.{}".format, lambda i: f"main.{9 + blocks + i}"
        block = lambda b, i: f"main.{9 + b}.main.{i}"  # noqa: E731
    parts = [(down(0), _conv(model, "input_conv")), (down(1), _norm(model, "input_norm")),
             (down(3), _conv(model, "down1_conv")), (down(4), _norm(model, "down1_norm")),
             (down(6), _conv(model, "down2_conv")), (down(7), _norm(model, "down2_norm"))]
    for b in range(blocks):
        parts += [(block(b, 0), _conv(model, f"res{b + 1}_a_conv")), (block(b, 1), _norm(model, f"res{b + 1}_a_norm")),
                  (block(b, 3), _conv(model, f"res{b + 1}_b_conv")), (block(b, 4), _norm(model, f"res{b + 1}_b_norm"))]
    parts += [(up(0), _conv(model, "up1_conv")), (up(1), _norm(model, "up1_norm")),
              (up(3), _conv(model, "up2_conv")), (up(4), _norm(model, "up2_norm")),
              (up(6), _conv(model, "output_conv"))]
    return {prefix + suffix: (variable, kind) for prefix, entries in parts for suffix, variable, kind in entries}


def discriminator_layout(model):
    """`{PyTorch name: (variable, kind)}` of a `lit_tf.models.stargan.Discriminator` (official names)."""
    layout = {}
    for k in range(model.strided_layers):
        kernel, bias = model.get_layer(f"down{k + 1}_conv").weights
        layout[f"main.{2 * k}.weight"], layout[f"main.{2 * k}.bias"] = (kernel, "conv"), (bias, "vector")
    layout["conv1.weight"] = (model.get_layer("source").weights[0], "conv")
    layout["conv2.weight"] = (model.get_layer("domain_conv").weights[0], "conv")
    return layout
