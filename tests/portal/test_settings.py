"""Production settings refuse to start half-configured, and pass Django's deployment checks."""

from __future__ import annotations

import os

import pytest

from tests.portal.production import manage, production_env

REQUIRED = [
    "SECRET_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "PII_KEYS",
    "BLIND_INDEX_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "TEXT_SENDER",
    "FILE_STORAGE",
    "PROGRAMME_CONTACT_EMAIL",
    "PROGRAMME_CONTACT_PHONE",
]


@pytest.mark.parametrize("variable", REQUIRED)
def test_production_refuses_to_start_without_each_required_variable(variable):
    env = production_env()
    del env[variable]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{variable} must be set" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "SECRET_KEY",
            "embedded-default-secret-key-not-for-production-use-0123456789",
            "SECRET_KEY",
        ),
        ("SECRET_KEY", "short", "SECRET_KEY"),
        ("DATABASE_URL", "sqlite:///portal.sqlite3", "DATABASE_URL"),
        ("PII_KEYS", "k0:ZW1iZWRkZWQtZGVmYXVsdC1waWkta2V5LTAxMjM0NTY=", "PII_KEYS"),
        ("BLIND_INDEX_KEY", "embedded-default-blind-index-key", "BLIND_INDEX_KEY"),
        ("DEBUG", "true", "DEBUG"),
        ("SITE_URL", "http://127.0.0.1:8000", "SITE_URL"),
        ("SITE_URL", "http://portal.example.org", "SITE_URL"),
        ("TEXT_SENDER", "enrollment.messaging.FileTextSender", "TEXT_SENDER"),
        ("TEXT_SENDER", "enrollment.messaging.LocmemTextSender", "TEXT_SENDER"),
        ("TEXT_SENDER_URL", "http://texts.example.org/send", "TEXT_SENDER_URL"),
        ("TEXT_SENDER_TOKEN", "", "TEXT_SENDER_TOKEN"),
        ("FILE_STORAGE", "directory", "MEDIA_ROOT_SHARED"),
        ("FILE_STORAGE", "local", "FILE_STORAGE"),
        ("S3_BUCKET", "", "S3_BUCKET"),
    ],
)
def test_production_refuses_default_or_unsafe_values(variable, value, message):
    result = manage("check", env=production_env(**{variable: value}))
    assert result.returncode != 0
    assert message in result.stderr


def test_production_with_every_variable_passes_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_default_needs_no_variables(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "PORTAL_VAR_DIR": str(tmp_path / "var")}
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_production_accepts_a_directory_declared_shared():
    env = production_env(
        FILE_STORAGE="directory", MEDIA_ROOT_SHARED="true", MEDIA_ROOT="/srv/shared"
    )
    result = manage("check", env=env)
    assert result.returncode == 0, result.stderr
