"""No test module imports another test module (or a conftest): importing one collects its tests a
second time under another name, and ties the two files' fixtures together. Shared helpers live in
``conftest.py`` fixtures or in plain helper modules (``tests/workers.py``, ``tests/<area>/….py``)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    return any(part.startswith("test_") or part == "conftest" for part in dotted.split("."))


def imported_test_modules(source: str) -> list[str]:
    """The test modules (``test_*``, ``conftest``) that ``source`` imports, as written."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if _is_test_module(alias.name)]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            if _is_test_module(base):
                found.append(base)
            else:  # from tests.portal import test_settings; from . import conftest
                joint = "" if base.endswith(".") else "."
                found += [
                    f"{base}{joint}{alias.name}"
                    for alias in node.names
                    if _is_test_module(alias.name)
                ]
    return found


def test_no_test_module_imports_another():
    offenders = {
        str(path.relative_to(TESTS)): imported
        for path in sorted(TESTS.rglob("*.py"))
        if "node_modules" not in path.parts
        and (imported := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_the_scan_finds_every_way_of_importing_a_test_module():
    source = "\n".join(
        [
            "from tests.portal.test_settings import manage",
            "from tests.portal import test_settings",
            "import tests.consent.test_campaigns",
            "from .test_beat import sends",
            "from . import conftest",
            "from tests.portal.production import manage",
            "from tests.workers import wait_for",
            "import pytest",
        ]
    )
    assert imported_test_modules(source) == [
        "tests.portal.test_settings",
        "tests.portal.test_settings",
        "tests.consent.test_campaigns",
        ".test_beat",
        ".conftest",
    ]
