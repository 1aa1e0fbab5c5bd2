"""Consent's import contracts (``make lint``): its ledger, projection and seeding internals stay
private, and its pages and API do not import each other. Each broken case runs ``lint-imports``
on a copy of the tree with one deliberate bad import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "enrollment", "consent", "dam", "reports")
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
LEDGER = "Consent's ledger and projection are private to consent"
SEEDING = "Consent's seeding internals are private to consent.seeding"
DOORS = "Consent's pages and API do not import each other"


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
def tree_with(tmp_path: Path):
    """A copy of the five packages and the configuration, with one line added to one module."""

    def build(module: str, line: str) -> Path:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for package in PACKAGES:
            shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
        shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
        target = tmp_path / module
        target.write_text(target.read_text() + f"\n{line}\n")
        return tmp_path

    return build


def test_consent_keeps_its_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in (LEDGER, SEEDING, DOORS):
        assert f"{contract} KEPT" in result.stdout


def test_the_dam_reaching_the_consent_ledger_breaks_its_contract(tree_with):
    result = lint_imports(
        tree_with("dam/services/samples.py", "from consent.ledger import event_hash")
    )
    assert result.returncode != 0
    assert f"{LEDGER} BROKEN" in result.stdout
    assert "dam.services.samples -> consent.ledger" in result.stdout


def test_reports_reaching_the_consent_projection_breaks_its_contract(tree_with):
    result = lint_imports(tree_with("reports/models.py", "import consent.projection"))
    assert result.returncode != 0
    assert f"{LEDGER} BROKEN" in result.stdout
    assert "reports.models -> consent.projection" in result.stdout


def test_reaching_consent_seeding_internals_breaks_their_contract(tree_with):
    line = "from consent.seeding import synthetic  # noqa: F401"
    result = lint_imports(tree_with("consent/services/versions.py", line))
    assert result.returncode != 0
    assert f"{SEEDING} BROKEN" in result.stdout
    assert f"{LEDGER} KEPT" in result.stdout


def test_a_consent_page_importing_the_api_breaks_the_doors_contract(tree_with):
    result = lint_imports(tree_with("consent/views/me.py", "from ..api import serializers"))
    assert result.returncode != 0
    assert f"{DOORS} BROKEN" in result.stdout


def test_consent_importing_the_dam_breaks_the_layers(tree_with):
    result = lint_imports(tree_with("consent/selectors/impact.py", "import dam.models"))
    assert result.returncode != 0
    assert "Apps depend one way" in result.stdout and "BROKEN" in result.stdout
    assert "consent.selectors.impact -> dam.models" in result.stdout
