"""What `make run` does, on a fresh SQLite file; compiled catalogues; append-only on SQLite too."""

from __future__ import annotations

import gettext
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

BASE_DIR = Path(settings.BASE_DIR)


def _embedded_env(var_dir: Path) -> dict[str, str]:
    # The embedded default: no variables but where to keep its files (a temporary directory).
    return {"PATH": os.environ.get("PATH", ""), "PORTAL_VAR_DIR": str(var_dir)}


def _manage(*args: str, env: dict[str, str], timeout: int = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def embedded_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A var/ directory after `make run`'s steps: compile catalogues, migrate, seed demo data."""
    var_dir = tmp_path_factory.mktemp("embedded") / "var"
    env = _embedded_env(var_dir)
    _manage("compiletranslations", env=env)
    _manage("migrate", "--noinput", env=env)
    output = _manage("seed_demo", env=env)
    assert "coordinator@demo.portal.invalid" in output
    return var_dir, env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_make_run_serves_the_portal_in_korean(embedded_site):
    var_dir, env = embedded_site
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    body = response.read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert '<html lang="ko">' in body, server.stderr.read() if server.poll() is not None else ""
        assert "국가 바이오 빅데이터 구축사업에 오신 것을 환영합니다" in body
        # The demo seed wrote the information pages; the home page links them.
        assert 'href="/info/taking-part/"' in body
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert (var_dir / "portal.sqlite3").exists()


def test_audit_table_refuses_update_and_delete_on_sqlite(embedded_site):
    var_dir, _env = embedded_site
    db = sqlite3.connect(var_dir / "portal.sqlite3")
    try:
        db.execute(
            "INSERT INTO portal_auditevent (at, action, object_type, object_id, reason, "
            "request_id, outcome, details) VALUES "
            "(CURRENT_TIMESTAMP, 'auth.login', 'portal.user', '1', '', '', 'ok', '{}')"
        )
        db.commit()
        for statement in (
            "UPDATE portal_auditevent SET action = 'rewritten'",
            "DELETE FROM portal_auditevent",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                db.execute(statement)
        db.rollback()
        assert db.execute(
            "SELECT count(*) FROM portal_auditevent WHERE action = 'auth.login'"
        ).fetchone() == (1,)
    finally:
        db.close()


def test_compiled_korean_catalogue_translates_the_portal(tmp_path, settings):
    locale = tmp_path / "locale"
    shutil.copytree(BASE_DIR / "locale", locale, ignore=shutil.ignore_patterns("*.mo"))
    settings.LOCALE_PATHS = [locale]
    call_command("compiletranslations")
    assert (locale / "ko" / "LC_MESSAGES" / "django.mo").exists()
    korean = gettext.translation("django", localedir=locale, languages=["ko"])
    assert korean.gettext("Sign out") == "로그아웃"
    assert korean.gettext("The page you asked for does not exist.") == "요청하신 페이지가 없습니다."


# Strings of the shared shell (portal/ and its templates): each must have a Korean translation.
# The apps' menu entries live in their own AppConfig, outside these sources.
_FOUNDATION_SOURCES = [
    "portal/*.py",
    "templates/base.html",
    "templates/errors/*.html",
    "templates/portal/*.html",
    "templates/allauth/**/*.html",
    "templates/mfa/**/*.html",
    "templates/account/**/*.html",
    "templates/account/**/*.txt",
]
_STRING_RE = re.compile(
    r"""(?:\{%\s*translate\s+|\b_\(\s*)(?P<q>["'])(?P<text>.+?)(?<!\\)(?P=q)""", re.DOTALL
)


def test_every_string_of_the_portal_shell_is_translated_to_korean():
    catalogue = polib.pofile(str(BASE_DIR / "locale" / "ko" / "LC_MESSAGES" / "django.po"))
    translated = {e.msgid for e in catalogue if e.translated()}
    used: set[str] = set()
    for pattern in _FOUNDATION_SOURCES:
        for path in BASE_DIR.glob(pattern):
            for match in _STRING_RE.finditer(path.read_text(encoding="utf-8")):
                used.add(match.group("text").replace("\\'", "'").replace('\\"', '"'))
    assert used
    assert sorted(used - translated) == []
