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


def test_the_sites_home_page_stands_alone_with_readmes_commands_and_one_call_example():
    import re

    readme = open(os.path.join(ROOT, "README.md")).read()
    home = open(os.path.join(ROOT, "docs", "index.md")).read()
    example = re.search(r"## Use it on your model\n.*?(```python\n.*?```)", readme, re.S).group(1)
    assert example in home  # the same one-call example, word for word
    setup = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    commands = [line for line in setup.splitlines() if line.startswith("python3 -m venv")]
    assert len(commands) == 2 and all(command in home for command in commands)
    assert "Start with the repository's README" not in home and "quickstart" in home.lower()
