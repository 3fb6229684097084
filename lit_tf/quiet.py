"""Keeps TensorFlow's C++ start-up lines off the console of lit_tf's tools, and its informational lines off
every library call that makes them.

Importing TensorFlow prints, from C++ and before absl's logging is set up (so
`TF_CPP_MIN_LOG_LEVEL` cannot silence them), a notice that logs go to stderr, a
CUDA-driver probe and CPU-feature hints, twice. Entry points call
`import_tensorflow()` first: it sets `TF_CPP_MIN_LOG_LEVEL=3` (which silences the
later cuInit error), imports TensorFlow with file descriptor 2 captured, and writes
back every captured line but those known start-up ones. `--verbosity=1` (absl's
flag, or `-v=1`) on the command line leaves everything as TensorFlow prints it.

In a user's own script, TensorFlow has printed its start-up lines before lit_tf runs (they come
with `import keras`). lit_tf's calls that make TensorFlow talk (the first device start, FLOPs
counting, the TFLite converter and interpreter) run inside `filtered_stderr()`: their known
informational lines are dropped, every other line passes. `LIT_TF_SHOW_TF_LOGS=1` keeps them all.

Example:

>>> from lit_tf import quiet
>>> quiet.is_noise("I0000 00:00:1 cudart_stub.cc:31] Could not find cuda drivers on your machine")
True
>>> quiet.verbose(["prog", "--verbosity=1"]), quiet.verbose(["prog", "--mode=all"])
(True, False)
"""

import contextlib
import os
import re
import sys
import tempfile

STARTUP_NOISE = (
    "All log messages before absl::InitializeLog() is called",
    "cudart_stub.cc",
    "cuda_platform.cc",
    "cuda_executor.cc",
    "cpu_feature_guard.cc",
    "rebuild TensorFlow with the appropriate compiler flags",
    "oneDNN custom operations are on",
)


# TensorFlow's informational C++ lines from the calls lit_tf wraps: their source files, at levels I and W.
CALL_NOISE_FILES = (
    "devices.cc", "single_machine.cc",  # grappler, when variables are frozen for FLOPs counting
    "tf_tfl_flatbuffer_helpers.cc", "reader.cc", "loader.cc", "mlir_graph_optimization_pass.cc", "dump_mlir_util.cc",
    "flatbuffer_export.cc", "fingerprinting.cc",  # the TFLite converter and the SavedModel it reads
)
XNNPACK_LINE = "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
_LOG_LINE = re.compile(r"[IW]\d{4} [\d:.]+ +(?:\d+ )?(?P<file>[\w.]+):\d+\] ")


def is_noise(line):
    """Whether `line` is one of TensorFlow's known start-up lines, or an informational line of a wrapped call.

    >>> is_noise("I0000 00:00:17.07   19864 single_machine.cc:376] Starting new session"), is_noise("E0000 x.cc:1] a")
    (True, False)
    """
    if any(marker in line for marker in STARTUP_NOISE) or line.startswith(XNNPACK_LINE):
        return True
    match = _LOG_LINE.match(line)
    return bool(match) and match.group("file") in CALL_NOISE_FILES


@contextlib.contextmanager
def filtered_stderr(always=False):
    """Captures file descriptor 2 for the block, then writes back every line but the known noise.

    `LIT_TF_SHOW_TF_LOGS=1` in the environment leaves stderr alone, unless `always` (the tools' start,
    which `--verbosity=1` governs instead).
    """
    if os.environ.get("LIT_TF_SHOW_TF_LOGS") and not always:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            sys.stderr.write("".join(line for line in lines if not is_noise(line)))
            sys.stderr.flush()


_started = []


def start_devices():
    """Starts TensorFlow's devices once a process with the CUDA probe's error line filtered: the first
    lit_tf call that runs TensorFlow does this, so a script on a machine without a GPU prints no cuInit line."""
    if _started:
        return
    import tensorflow as tf

    with filtered_stderr():
        tf.config.list_logical_devices()
    _started.append(True)


def verbose(argv):
    """Whether the command line asks for TensorFlow's own logs (`--verbosity=N`, N >= 1)."""
    for arg in argv[1:]:
        match = re.fullmatch(r"--?(?:v|verbosity)=(-?\d+)", arg)
        if match and int(match.group(1)) >= 1:
            return True
    return False


def import_tensorflow(argv=None):
    """Imports TensorFlow with its start-up lines filtered from stderr (see the module doc)."""
    argv = sys.argv if argv is None else argv
    if "tensorflow" in sys.modules or verbose(argv):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with filtered_stderr(always=True):
        import tensorflow  # noqa: F401
