"""Running ``lint-imports`` (the import contracts of ``make lint``) from the tests: on this tree, or
on a copy of the five packages and the configuration with one deliberate bad import added."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("portal", "enrollment", "consent", "dam", "reports")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tree_copy(target: Path) -> Path:
    """The five packages and the lint configuration copied to ``target`` (without bytecode)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")
