"""BUILD stays in step with the tree: every module and test has a target, every dep exists."""

import ast
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent
RULES = {"py_library", "py_test", "py_binary"}


def build_targets():
    """Reads BUILD (Starlark is Python syntax here) into `{name: {"srcs", "deps", "kind"}}`."""
    targets = {}
    for node in ast.walk(ast.parse((ROOT / "BUILD").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in RULES:
            kwargs = {k.arg: k.value for k in node.keywords}
            strings = lambda key: [e.value for e in getattr(kwargs.get(key), "elts", []) if isinstance(e, ast.Constant)]  # noqa: E731
            targets[kwargs["name"].value] = {"srcs": strings("srcs"), "deps": strings("deps"), "kind": node.func.id}
    return targets


def tracked_python_files():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [path for path in listed if not path.endswith("__init__.py") or path.startswith("lit_tf/")]


def test_every_python_file_belongs_to_a_target():
    covered = {src for target in build_targets().values() for src in target["srcs"]}
    missing = [path for path in tracked_python_files() if path not in covered]
    assert not missing, f"BUILD has no target for {missing}"


def test_every_test_module_is_a_py_test():
    tests = {src for t in build_targets().values() if t["kind"] == "py_test" for src in t["srcs"]}
    files = tracked_python_files()
    modules = [p for p in files if pathlib.Path(p).name.startswith("test_") and p != "tests/test_case.py"]
    assert sorted(set(modules) - tests) == []


def test_every_local_dep_names_a_target():
    targets = build_targets()
    dangling = {(name, dep) for name, t in targets.items() for dep in t["deps"] if dep.lstrip(":") not in targets}
    assert not dangling, f"deps name missing targets: {sorted(dangling)}"


def _names(requirements):
    import re

    return {re.split(r"[<>=\[ ;#]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
            for line in requirements if line.strip() and not line.strip().startswith("#")}


def test_requirements_txt_lists_what_pyproject_installs():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = _names(project["dependencies"] + extras["gan"] + extras["bench"] + extras["docs"]
                    + [r for r in extras["test"] if not r.startswith("lit_tf")])
    assert _names((ROOT / "requirements.txt").read_text().splitlines()) == wanted


def test_pyproject_installs_every_lit_tf_package_and_the_trainers():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    packages = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "lit_tf").rglob("__init__.py")}
    assert packages <= listed, f"pyproject.toml's packages miss {sorted(packages - listed)}"
    assert {"lit_tf_trainers", "lit_tf_trainers.configs"} <= listed


def _imported_targets(src, owner):
    """The targets owning the lit_tf modules `src` imports (at the top or inside functions)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse((ROOT / src).read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            found = {name for name in submodules if _module_file(name)}
            names.update(found or {node.module})
    files = {_module_file(name) for name in names if name.startswith("lit_tf")}
    return {owner[path] for path in files if path in owner}


def _module_file(dotted):
    for candidate in (dotted.replace(".", "/") + ".py", dotted.replace(".", "/") + "/__init__.py"):
        if (ROOT / candidate).exists():
            return candidate
    return None


def test_each_library_targets_deps_are_the_lit_tf_modules_it_imports():
    targets = build_targets()
    owner = {src: name for name, target in targets.items() for src in target["srcs"]}
    wrong = {}
    for name, target in targets.items():
        if target["kind"] != "py_library" or name == "lit_tf" or not target["srcs"][0].startswith("lit_tf/"):
            continue  # the package itself imports its modules lazily, by name
        wanted = set().union(*(_imported_targets(src, owner) for src in target["srcs"])) - {name}
        have = {dep.lstrip(":") for dep in target["deps"] if dep.startswith(":")}
        if wanted != have:
            wrong[name] = {"missing": sorted(wanted - have), "not imported": sorted(have - wanted)}
    assert not wrong, wrong
