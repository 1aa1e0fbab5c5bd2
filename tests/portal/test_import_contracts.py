"""The import contracts of ``make lint`` (import-linter, configured in pyproject.toml) hold on
this tree, and break, naming the contract, when code imports upwards or reaches a private module.

The broken cases run ``lint-imports`` on a copy of the tree with one deliberate bad import.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "enrollment", "consent", "dam", "reports")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
LAYERS = "Apps depend one way: reports -> dam -> consent -> enrollment -> portal"
CRYPTO = "The vault's cryptography is private to the vault"
SEEDING = "Enrollment's seeding internals are private to enrollment.seeding"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The five packages and the lint configuration, copied (without caches or migrations'
    bytecode) to a temporary directory."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_tree_keeps_every_import_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{LAYERS} KEPT" in result.stdout
    assert "0 broken" in result.stdout


def test_the_portal_importing_an_app_above_it_breaks_the_layers(tree_copy):
    add_line(tree_copy / "portal" / "web.py", "import reports  # noqa: E402, F401")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert f"{LAYERS} BROKEN" in result.stdout
    assert "portal.web -> reports" in result.stdout


def test_enrollment_importing_consent_breaks_the_layers(tree_copy):
    add_line(tree_copy / "enrollment" / "selectors" / "people.py", "import consent.models")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert f"{LAYERS} BROKEN" in result.stdout
    assert "enrollment.selectors.people -> consent.models" in result.stdout


def test_reaching_the_vault_crypto_from_outside_the_vault_breaks_its_contract(tree_copy):
    add_line(tree_copy / "enrollment" / "services" / "people.py", "from ..vault import _crypto")
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert f"{CRYPTO} BROKEN" in result.stdout
    assert f"{LAYERS} KEPT" in result.stdout


def test_reaching_seeding_internals_from_another_app_breaks_their_contract(tree_copy):
    add_line(
        tree_copy / "dam" / "services" / "samples.py", "from enrollment.seeding import _people"
    )
    result = lint_imports(tree_copy)
    assert result.returncode != 0
    assert f"{SEEDING} BROKEN" in result.stdout
