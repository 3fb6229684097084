"""Keeps TensorFlow's C++ start-up lines off the console of lit_tf's command-line tools.

Importing TensorFlow prints, from C++ and before absl's logging is set up (so
`TF_CPP_MIN_LOG_LEVEL` cannot silence them), a notice that logs go to stderr, a
CUDA-driver probe and CPU-feature hints, twice. Entry points call
`import_tensorflow()` first: it sets `TF_CPP_MIN_LOG_LEVEL=3` (which silences the
later cuInit error), imports TensorFlow with file descriptor 2 captured, and writes
back every captured line but those known start-up ones. `--verbosity=1` (absl's
flag, or `-v=1`) on the command line leaves everything as TensorFlow prints it.

Example:

>>> from lit_tf import quiet
>>> quiet.is_noise("I0000 00:00:1 cudart_stub.cc:31] Could not find cuda drivers on your machine")
True
>>> quiet.verbose(["prog", "--verbosity=1"]), quiet.verbose(["prog", "--mode=all"])
(True, False)
"""

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


def is_noise(line):
    """Whether `line` is one of TensorFlow's known start-up lines."""
    return any(marker in line for marker in STARTUP_NOISE)


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
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        lines = capture.read().decode(errors="replace").splitlines(keepends=True)
    sys.stderr.write("".join(line for line in lines if not is_noise(line)))
    sys.stderr.flush()
