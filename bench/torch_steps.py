"""The same CIFAR ResNet steps in PyTorch, for `bench.vs_pytorch`: what a user would write instead of lit_tf.

`TorchCifarResNet` is the network `lit_tf.models.load_torch_weights` reads (the LIT reference's: 3x3
convolutions padded 1, option-A shortcuts, `conv1, bn1, layer{1,2,3}.{i}.conv{1,2}/bn{1,2}, linear`),
so a lit_tf model's `torch_state_dict` loads into it unchanged. `step_functions` gives one training step
of each method on a fixed batch, with the paper's arithmetic: SGD momentum 0.9, weight decay 1e-4
(PyTorch's, coupled), KD `alpha * CE + (1 - alpha) * T^2 * KL` and LIT's loss
`(beta * KD + (1 - beta) * sum of IR losses) / 2`, the student's sections fed the teacher's
boundary activations, its stem and head frozen. Needs torch; `tests/bench/test_vs_pytorch.py`
checks that a lit_tf model's weights give the same logits here.
"""

import numpy as np


def _torch():
    import torch

    return torch


def build_resnet(depth, num_classes=10):
    """A PyTorch CIFAR ResNet of depth 6n+2 with `features(x)` -> (boundaries f0..f3, logits)."""
    torch = _torch()
    nn, functional = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self, planes_in, planes, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(planes_in, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.pad = planes - planes_in if stride != 1 or planes_in != planes else 0
            self.stride = stride

        def forward(self, x):
            out = functional.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            shortcut = x
            if self.pad or self.stride != 1:  # option A: subsample, then zero channels on both ends
                shortcut = functional.pad(x[:, :, ::self.stride, ::self.stride],
                                          (0, 0, 0, 0, self.pad // 2, self.pad - self.pad // 2))
            return functional.relu(out + shortcut)

    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            blocks = (depth - 2) // 6
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            planes_in, layers = 16, []
            for planes, stride in ((16, 1), (32, 2), (64, 2)):
                stage = []
                for b in range(blocks):
                    stage.append(Block(planes_in, planes, stride if b == 0 else 1))
                    planes_in = planes
                layers.append(nn.Sequential(*stage))
            self.layer1, self.layer2, self.layer3 = layers
            self.linear = nn.Linear(64, num_classes)

        def stem(self, x):
            return functional.relu(self.bn1(self.conv1(x)))

        def head(self, x):
            return self.linear(functional.adaptive_avg_pool2d(x, 1).flatten(1))

        def sections(self):
            return [self.layer1, self.layer2, self.layer3]

        def features(self, x):
            boundaries = [self.stem(x)]
            for section in self.sections():
                boundaries.append(section(boundaries[-1]))
            return boundaries, self.head(boundaries[-1])

        def forward(self, x):
            return self.features(x)[1]

    return ResNet()


def load(network, state_dict):
    """Loads a `{name: numpy array}` state dict (lit_tf's `torch_state_dict`; no counters) into `network`."""
    torch = _torch()
    network.load_state_dict({name: torch.from_numpy(np.asarray(value)) for name, value in state_dict.items()},
                            strict=False)
    return network


def kd_loss(student_logits, teacher_logits, labels, temperature=6.0, alpha=0.95):
    """`alpha * CE(labels, s) + (1 - alpha) * T^2 * KL(softmax(t/T) || softmax(s/T))`, batch means."""
    functional = _torch().nn.functional
    soft = functional.kl_div(functional.log_softmax(student_logits / temperature, -1),
                             functional.softmax(teacher_logits / temperature, -1), reduction="batchmean")
    return alpha * functional.cross_entropy(student_logits, labels) + (1 - alpha) * temperature**2 * soft


def step_functions(teacher_state, student_state, teacher_depth, student_depth, x, y, beta=0.75):
    """`{method: () -> loss}`: one training step of `lit`, `kd`, `student`, and `teacher_forward`; `lit_losses`
    is a fresh LIT step's `{"kd_loss", "ir_loss"}` (the check that both frameworks start alike).

    `x` is NHWC (lit_tf's layout) and is moved to NCHW here once; each step starts from the state the
    previous step of the same method left (as in training).
    """
    torch = _torch()
    images = torch.from_numpy(np.ascontiguousarray(np.asarray(x, "float32").transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(np.asarray(y, "int64"))
    teacher = load(build_resnet(teacher_depth), teacher_state).eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)

    def student():
        return load(build_resnet(student_depth), student_state)

    def sgd(parameters):
        return torch.optim.SGD(parameters, lr=0.01, momentum=0.9, weight_decay=1e-4)

    def lit_student():  # stem and head copied from the teacher and frozen, as lit_tf's compress starts it
        network = student()
        for part in ("conv1", "bn1", "linear"):
            getattr(network, part).load_state_dict(getattr(teacher, part).state_dict())
            for parameter in getattr(network, part).parameters():
                parameter.requires_grad_(False)
        return network, sgd([p for section in network.sections() for p in section.parameters()])

    def lit_step(network, optimizer):
        network.train()
        network.bn1.eval()  # the frozen stem's BatchNorm uses its running statistics
        with torch.no_grad():
            boundaries, teacher_logits = teacher.features(images)
        ir = sum(torch.nn.functional.mse_loss(section(boundaries[k]), boundaries[k + 1])
                 for k, section in enumerate(network.sections()))
        kd = kd_loss(network(images), teacher_logits, labels)
        loss = (beta * kd + (1 - beta) * ir) / 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return {"kd_loss": float(kd.detach()), "ir_loss": float(ir.detach())}

    timed_lit = lit_student()
    kd_student, plain = student(), student()
    kd_optimizer, plain_optimizer = sgd(kd_student.parameters()), sgd(plain.parameters())

    def lit():
        return lit_step(*timed_lit)

    def kd():
        kd_student.train()
        with torch.no_grad():
            teacher_logits = teacher(images)
        loss = kd_loss(kd_student(images), teacher_logits, labels)
        kd_optimizer.zero_grad()
        loss.backward()
        kd_optimizer.step()
        return float(loss.detach())

    def supervised():
        plain.train()
        loss = torch.nn.functional.cross_entropy(plain(images), labels)
        plain_optimizer.zero_grad()
        loss.backward()
        plain_optimizer.step()
        return float(loss.detach())

    def teacher_forward():
        with torch.no_grad():
            return float(teacher(images).sum())

    return {"lit_losses": lambda: lit_step(*lit_student()), "lit": lit, "kd": kd, "student": supervised,
            "teacher_forward": teacher_forward}
