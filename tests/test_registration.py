"""`keras.saving.load_model` finds lit_tf's classes after `import keras; import lit_tf` alone (issue 23), and
in the other order after any use of lit_tf or `register_saved_classes()`; no import hook (issue 34)."""

import os
import re
import subprocess
import sys

import keras
import pytest

from lit_tf import registration
from lit_tf.distillation.finetune import KDDistiller
from lit_tf.distillation.lit import LITDistiller
from lit_tf.models import stargan
from lit_tf.training import optimizers
from tests import test_case

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOAD = """
import sys
{imports}
print(" ".join(type(keras.saving.load_model(path)).__name__ for path in sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    x, y = test_case.tiny_data(8)
    lit = LITDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1), test_case.BOUNDARIES)
    lit.compile(optimizers.TorchSGD(0.1, momentum=0.9))
    lit.fit(x, y, epochs=1, batch_size=8, verbose=0)
    kd = KDDistiller(test_case.tiny_classifier(2), test_case.tiny_classifier(1))
    kd.compile(keras.optimizers.SGD(0.1))
    generator = stargan.Generator(16, 3, 8, 2, 1)
    paths = []
    for name, model in (("lit", lit), ("kd", kd), ("generator", generator)):
        paths.append(str(folder / f"{name}.keras"))
        model.save(paths[-1])
    return paths


@pytest.mark.parametrize("imports", [
    "import keras\nimport lit_tf",
    pytest.param("import lit_tf\nassert 'tensorflow' not in sys.modules  # still instant\nimport keras\n"
                 "lit_tf.registration.register_saved_classes()", marks=pytest.mark.slow),
    pytest.param("import lit_tf\nimport keras\nlit_tf.Schedule", marks=pytest.mark.slow),  # any use registers
])
def test_load_model_finds_lit_tfs_classes_after_import_lit_tf_alone(saved, imports):
    code = LOAD.format(imports=imports)
    ran = subprocess.run([sys.executable, "-c", code, *saved], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=300)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert ran.stdout.split() == ["LITDistiller", "KDDistiller", "Generator"]


def test_import_lit_tf_leaves_pythons_import_system_alone():
    code = "import sys; finders = list(sys.meta_path); import lit_tf; assert sys.meta_path == finders"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, PYTHONPATH=ROOT), timeout=60)
    assert ran.returncode == 0, ran.stderr[-3000:]


def test_every_registered_class_has_a_stand_in():
    registered = {}
    for folder, _, files in os.walk(os.path.join(ROOT, "lit_tf")):
        for file in files:
            if file.endswith(".py"):
                path = os.path.join(folder, file)
                source = open(path).read()
                module = os.path.relpath(path, ROOT)[: -len(".py")].replace(os.sep, ".")
                for name in re.findall(r"register_keras_serializable\([^)]*\)\s*\nclass (\w+)", source):
                    registered[name] = module
    assert registered == registration.SAVED_CLASSES
