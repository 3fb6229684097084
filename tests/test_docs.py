"""The documentation site builds with `mkdocs build --strict`: no broken link, no unparsed docstring."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_site_builds_strictly_with_every_page_and_the_api_reference(tmp_path):
    ran = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert ran.returncode == 0, ran.stderr[-3000:]
    api = (tmp_path / "api" / "index.html").read_text()
    assert "lit_tf.compression.compress" in api and "steps_per_epoch" in api  # from the docstrings
    pages = ("library", "cifar-trainer", "stargan", "reference", "models-and-export", "results", "benchmarks", "layout")
    for page in pages:
        assert (tmp_path / page / "index.html").exists(), page


def test_readme_links_every_docs_page():
    readme = open(os.path.join(ROOT, "README.md")).read()
    pages = [name for name in os.listdir(os.path.join(ROOT, "docs")) if name.endswith(".md")]
    missing = [name for name in pages if name not in ("index.md", "api.md") and f"(docs/{name})" not in readme]
    assert not missing
