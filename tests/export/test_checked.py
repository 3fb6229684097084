"""Tests for lit_tf.export: every format reloads and reproduces the Keras model."""

import os

import keras
import numpy as np
import pytest

from lit_tf import export
from lit_tf import models
from lit_tf.export import checked
from tests import test_case


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    model = models.CifarResNet(depth=8, image_shape=(16, 16, 3), filters=(8, 8, 8), num_classes=4)
    x, y = test_case.tiny_data(64)
    model.compile(keras.optimizers.Adam(3e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    return model, x


def test_saved_model_matches_keras(trained, tmp_path):
    model, x = trained
    report = export.to_saved_model(model, str(tmp_path / "student"), x)
    assert report.max_abs_diff < export.FLOAT32_TOLERANCE and report.top1_agreement == 1.0
    assert os.path.exists(tmp_path / "student" / "saved_model.pb")


@pytest.mark.parametrize("quantize, max_diff", [("none", 1e-4), ("float16", 5e-2), ("int8", None)])
def test_tflite_matches_keras(trained, tmp_path, quantize, max_diff):
    model, x = trained
    path = str(tmp_path / f"student_{quantize}.tflite")
    representative = x if quantize == "int8" else None
    report = export.to_tflite(model, path, quantize, representative_data=representative, sample_data=x)
    assert report.top1_agreement >= export.INT8_MIN_TOP1_AGREEMENT
    if max_diff is not None:
        assert report.max_abs_diff < max_diff
    np.testing.assert_allclose(export.run_tflite(path, x[:2]), model.predict(x[:2], verbose=0), atol=max_diff or 0.5)


def test_unknown_quantization_and_int8_without_data_are_refused(trained, tmp_path):
    model, _ = trained
    with pytest.raises(ValueError, match="quantize must be one of"):
        export.to_tflite(model, str(tmp_path / "m.tflite"), "int4")
    with pytest.raises(ValueError, match="needs representative_data"):
        export.to_tflite(model, str(tmp_path / "m.tflite"), "int8")


@pytest.mark.slow  # two conversions
def test_an_export_outside_tolerance_is_not_written_and_a_good_one_at_its_path_stays(trained, tmp_path, monkeypatch):
    model, x = trained
    path = tmp_path / "student.tflite"
    export.to_tflite(model, str(path), sample_data=x[:4])
    good = path.read_bytes()
    monkeypatch.setattr(checked, "FLOAT32_TOLERANCE", 0.0)
    monkeypatch.setattr(checked, "run_tflite", lambda path, x: model.predict(x, verbose=0) + 1.0)
    with pytest.raises(ValueError, match="does not reproduce the Keras model.*so it was not written"):
        export.to_tflite(model, str(path), sample_data=x[:4])
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["student.tflite"]
    with pytest.raises(ValueError, match="so it was not written"):
        export.to_tflite(model, str(tmp_path / "new.tflite"), sample_data=x[:4])
    assert not (tmp_path / "new.tflite").exists()


def test_without_the_check_the_file_is_written_and_nothing_is_compared(trained, tmp_path, monkeypatch):
    model, x = trained
    monkeypatch.setattr(checked, "run_tflite", lambda path, x: pytest.fail("the check ran"))
    report = export.to_tflite(model, str(tmp_path / "m.tflite"), "int8", representative_data=x, check=False)
    assert os.path.getsize(tmp_path / "m.tflite") > 0 and report.samples == 0 and np.isnan(report.max_abs_diff)


def test_a_two_input_generator_exports_and_each_input_reaches_its_place(tmp_path):
    from lit_tf.models import stargan

    keras.utils.set_random_seed(0)
    generator = stargan.Generator(16, 3, 8, 2, 1)
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (4, 16, 16, 3)).astype("float32")
    label = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], "float32")
    saved = export.to_saved_model(generator, str(tmp_path / "generator"), [image, label])
    lite = export.to_tflite(generator, str(tmp_path / "generator.tflite"), sample_data=[image, label])
    assert saved.max_abs_diff < export.FLOAT32_TOLERANCE and lite.max_abs_diff < export.FLOAT32_TOLERANCE
    # The label matters: swapping it changes the image, so a mixed-up input order would show.
    swapped = export.run_tflite(str(tmp_path / "generator.tflite"), [image, label[::-1]])
    assert np.abs(swapped - generator.predict([image, label], verbose=0)).max() > 1e-3


def test_int8_calibrates_on_a_dataset_of_labelled_batches_or_a_generator(trained, tmp_path):
    import tensorflow as tf

    model, x = trained
    dataset = tf.data.Dataset.from_tensor_slices((x, np.zeros(len(x), "int32"))).batch(16)
    from_dataset = export.to_tflite(model, str(tmp_path / "a.tflite"), quantize="int8", representative_data=dataset,
                                    sample_data=x)

    def batches():
        for start in range(0, len(x), 16):
            yield x[start:start + 16]

    from_generator = export.to_tflite(model, str(tmp_path / "b.tflite"), quantize="int8",
                                      representative_data=batches, sample_data=x)
    from_array = export.to_tflite(model, str(tmp_path / "c.tflite"), quantize="int8", representative_data=x)
    assert from_dataset.max_abs_diff == from_generator.max_abs_diff == from_array.max_abs_diff  # same calibration
    with pytest.raises(ValueError, match="representative_data gave no samples"):
        export.to_tflite(model, str(tmp_path / "d.tflite"), quantize="int8", representative_data=dataset.take(0))


def test_with_normalization_takes_pixels(trained, tmp_path):
    model, x = trained
    pixels = np.random.default_rng(0).uniform(0, 255, (8, 16, 16, 3)).astype("float32")
    wrapped = export.with_normalization(model, [120.0, 110.0, 100.0], [60.0, 50.0, 40.0])
    report = export.to_tflite(wrapped, str(tmp_path / "p.tflite"), sample_data=pixels)
    expected = model((pixels - np.array([120.0, 110.0, 100.0])) / np.array([60.0, 50.0, 40.0]), training=False)
    np.testing.assert_allclose(export.run_tflite(report.path, pixels), expected, atol=1e-4)


def test_a_missing_destination_folder_is_one_error_naming_the_users_path_before_any_conversion(trained, monkeypatch):
    import time

    model, _ = trained
    called = []
    monkeypatch.setattr(type(model), "export", lambda *args, **kwargs: called.append(args))
    for function, path in ((export.to_tflite, "/no/such/dir/s.tflite"), (export.to_saved_model, "/no/such/dir/sm")):
        start = time.perf_counter()
        with pytest.raises(FileNotFoundError, match=r"The folder of path='/no/such/dir/s(\.tflite|m)' does not exist: "
                                                    r"'/no/such/dir'\. Create it first\."):
            function(model, path)
        assert time.perf_counter() - start < 1.0
    assert called == []  # nothing was converted
