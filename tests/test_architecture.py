"""Layering rules that keep the engine usable without the web app."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEB = {"dash", "flask", "dash_bootstrap_components", "plotly", "flask_caching", "app", "layouts", "callbacks"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_the_web_layer():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & WEB) for p in (ROOT / "core").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_layouts_do_not_import_callbacks_and_web_process_never_imports_torch():
    for folder in ("layouts", "callbacks", "app"):
        for path in (ROOT / folder).rglob("*.py"):
            imported = _imports(path)
            assert "torch" not in imported, path  # STACK.md pitfall 2: keep torch out of the web process
            if folder == "layouts":
                assert "callbacks" not in imported, path


def test_top_level_layout_is_as_agreed():
    for name in ("app", "core", "callbacks", "layouts", "assets", "models", "data", "tests", "bench", "deploy",
                 "wsgi.py", "Dockerfile", "README.md", "Makefile", "pyproject.toml", "requirements.txt"):
        assert (ROOT / name).exists(), name
