"""Settings for Dam Portal, read once from the environment.

Two shapes share this one file:

* the embedded default (no variables at all): SQLite under ``var/``, Celery tasks run eagerly,
  mail to the console and to ``var/mail/``, the dam transport writes to a directory;
* ``PORTAL_ENV=production``: every secret and address must come from the environment, and a
  missing or default value stops start-up with an ``ImproperlyConfigured`` naming the variable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Django's generic classes (ModelAdmin[Site], ModelForm[Site], ...) subscriptable at run time,
# as the strict type checks write them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))

PORTAL_ENV = os.environ.get("PORTAL_ENV", "embedded")
if PORTAL_ENV not in {"embedded", "production", "test"}:
    raise ImproperlyConfigured("PORTAL_ENV must be one of: embedded, production, test")
PRODUCTION = PORTAL_ENV == "production"
if not PRODUCTION:
    # The embedded default keeps its database, mail and files here; a fresh clone has no var/ yet.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "static").mkdir(exist_ok=True)  # whitenoise expects STATIC_ROOT to exist

# Values that exist only so the embedded default starts with no configuration. Production refuses them.
_EMBEDDED_SECRET_KEY = "embedded-default-secret-key-not-for-production-use-0123456789"
_EMBEDDED_PII_KEY = "ZW1iZWRkZWQtZGVmYXVsdC1waWkta2V5LTAxMjM0NTY="  # base64 of 32 bytes
_EMBEDDED_BLIND_INDEX_KEY = "embedded-default-blind-index-key"


def env(name: str, default: str | None = None, *, required_in_production: bool = False) -> str:
    """Read one variable; in production a required one must be set and differ from its default."""
    value = os.environ.get(name)
    if value is not None:
        value = value.strip()
    if PRODUCTION and required_in_production:
        if not value:
            raise ImproperlyConfigured(f"{name} must be set when PORTAL_ENV=production")
        if default is not None and value == default:
            raise ImproperlyConfigured(f"{name} still has its embedded default value")
    if not value:
        if default is None:
            return ""
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from exc


def env_list(name: str, default: str = "", *, required_in_production: bool = False) -> list[str]:
    raw = env(name, default, required_in_production=required_in_production)
    return [part.strip() for part in raw.split(",") if part.strip()]


SECRET_KEY = env("SECRET_KEY", _EMBEDDED_SECRET_KEY, required_in_production=True)
if PRODUCTION and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters")
DEBUG = env_bool("DEBUG", PORTAL_ENV == "embedded")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when PORTAL_ENV=production")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver", required_in_production=True
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public address of the portal, for links in mails, texts, letters and calendar files (never
# the request's host: a task has no request, and a host header is the client's to choose).
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000", required_in_production=True).rstrip("/")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_URL must be the portal's https:// address in production")

# --- The programme: its name and how the public reaches it ---------------------------------
# Set once here, shown on pages, mails, PDFs and consent titles ("contact us" everywhere).
PROGRAMME_NAME_KO = env("PROGRAMME_NAME_KO", "국가 바이오 빅데이터 구축사업")
PROGRAMME_NAME_EN = env("PROGRAMME_NAME_EN", "National Bio Big Data Programme")
PROGRAMME_CONTACT_EMAIL = env(
    "PROGRAMME_CONTACT_EMAIL", "contact@portal.invalid", required_in_production=True
)
PROGRAMME_CONTACT_PHONE = env(
    "PROGRAMME_CONTACT_PHONE", "000-0000-0000", required_in_production=True
)
PROGRAMME_CONTACT_ADDRESS_KO = env("PROGRAMME_CONTACT_ADDRESS_KO", "")
PROGRAMME_CONTACT_ADDRESS_EN = env("PROGRAMME_CONTACT_ADDRESS_EN", "")
PROGRAMME_CONTACT_HOURS_KO = env("PROGRAMME_CONTACT_HOURS_KO", "평일 09:00~18:00")
PROGRAMME_CONTACT_HOURS_EN = env("PROGRAMME_CONTACT_HOURS_EN", "Weekdays 9:00-18:00")
if "@" not in PROGRAMME_CONTACT_EMAIL:
    raise ImproperlyConfigured("PROGRAMME_CONTACT_EMAIL must be an e-mail address")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "oauth2_provider",
    "csp",
    "django_prometheus",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "portal",
    "enrollment",
    "consent",
    "dam",
    "reports",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.PersistentLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.StaffIdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.StaffMfaRequiredMiddleware",
    "portal.handover.HandoverLockMiddleware",
    "portal.middleware.NoStoreMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "portal.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # Korean particles and the programme's name are used by templates of every app.
            "builtins": ["portal.templatetags.korean", "portal.templatetags.programme"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "portal.context_processors.navigation",
                "portal.context_processors.programme",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_default_db_url = f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"
DATABASE_URL = env("DATABASE_URL", _default_db_url, required_in_production=True)
if PRODUCTION and not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL when PORTAL_ENV=production")
try:
    DATABASES: dict[str, Any] = {"default": dj_database_url.parse(DATABASE_URL)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Behind a transaction pooler (PgBouncer, pool_mode=transaction) set DISABLE_SERVER_SIDE_CURSORS
# and DATABASE_PREPARED_STATEMENTS=false: a server-side cursor or a prepared statement belongs to
# one server connection, which the pooler hands to another client after each transaction.
# CONN_MAX_AGE keeps the connection to the pooler (or database) open between requests, and
# CONN_HEALTH_CHECKS tests a kept connection before reusing it (after a pooler or database restart).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool("CONN_HEALTH_CHECKS", True)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DISABLE_SERVER_SIDE_CURSORS", False)
if DATABASES["default"]["CONN_MAX_AGE"] < 0:
    raise ImproperlyConfigured("CONN_MAX_AGE must be 0 or more seconds")
if DATABASES["default"]["ENGINE"].endswith("postgresql") and not env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # psycopg prepares a statement after it ran a few times; None never prepares.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite (the embedded default) ignores covering-index columns and NULLS NOT DISTINCT; both
    # only matter for PostgreSQL's speed and for one admin-edited constraint, so say it once here.
    SILENCED_SYSTEM_CHECKS = ["models.W040", "models.W047"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Migrations run as the role that owns the tables, when MIGRATION_DATABASE_URL is set (the
# portal itself then runs as DATABASE_URL's role, a member of DATABASE_RUNTIME_ROLE without
# ownership, TRUNCATE or DDL; README, "Database roles"). `manage.py migrate` uses it.
MIGRATION_DATABASE_URL = env("MIGRATION_DATABASE_URL", "")
if MIGRATION_DATABASE_URL and not MIGRATION_DATABASE_URL.startswith(
    ("postgres://", "postgresql://")
):
    raise ImproperlyConfigured("MIGRATION_DATABASE_URL must point at PostgreSQL")
# Audit rows older than this are sealed into the audit log's hash chain (portal/audit_chain.py).
AUDIT_SEAL_SETTLE_SECONDS = env_int("AUDIT_SEAL_SETTLE_SECONDS", 300)
DATABASE_RUNTIME_ROLE = env("DATABASE_RUNTIME_ROLE", "portal_runtime")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", DATABASE_RUNTIME_ROLE):
    raise ImproperlyConfigured("DATABASE_RUNTIME_ROLE must be a plain lower-case role name")

# --- Cache (rate limits, sessions' companions) -----------------------------------------------
REDIS_URL = env("REDIS_URL", "", required_in_production=True)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "", required_in_production=True)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = CELERY_BROKER_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# One number for how long Redis waits before re-delivering an unacknowledged task. Every task must
# finish well inside it, or it runs twice; long jobs are cut into batches instead.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_TASK_TIME_LIMIT = CELERY_VISIBILITY_TIMEOUT // 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = "celery"  # logging comes from LOGGING below
# A task whose worker lost the broker connection is cancelled and re-delivered (acks_late).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = "Asia/Seoul"
# One scheduler for the whole cluster: with a Redis broker, beat keeps its schedule in Redis
# (celery-redbeat) and holds a lock there, so a second `celery beat` started by mistake waits for
# the lock instead of sending every task twice. A beat that dies without releasing the lock is
# replaced after five loop intervals (BEAT_MAX_LOOP_INTERVAL, seconds).
CELERY_BEAT_MAX_LOOP_INTERVAL = env_int("BEAT_MAX_LOOP_INTERVAL", 30)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    CELERY_REDBEAT_REDIS_URL = env("REDBEAT_REDIS_URL", CELERY_BROKER_URL)
    CELERY_REDBEAT_KEY_PREFIX = env("REDBEAT_KEY_PREFIX", "portal:beat")
    CELERY_REDBEAT_LOCK_TIMEOUT = 5 * CELERY_BEAT_MAX_LOOP_INTERVAL
    CELERY_REDBEAT_REDIS_OPTIONS: dict[str, Any] = {"retry_period": 60}
# Beat sends the heartbeat this often; readiness reports beat as stale when the last heartbeat is
# older than HEARTBEAT_STALE_AFTER_SECONDS (by default three missed beats).
HEARTBEAT_INTERVAL_SECONDS = env_int("HEARTBEAT_INTERVAL_SECONDS", 60)
HEARTBEAT_STALE_AFTER_SECONDS = env_int(
    "HEARTBEAT_STALE_AFTER_SECONDS", 3 * HEARTBEAT_INTERVAL_SECONDS + 60
)
if HEARTBEAT_INTERVAL_SECONDS < 1 or CELERY_BEAT_MAX_LOOP_INTERVAL < 1:
    raise ImproperlyConfigured(
        "HEARTBEAT_INTERVAL_SECONDS and BEAT_MAX_LOOP_INTERVAL must be positive"
    )
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "portal-heartbeat": {
        "task": "portal.tasks.heartbeat",
        "schedule": dt.timedelta(seconds=HEARTBEAT_INTERVAL_SECONDS),
    },
    # Reminders for tomorrow's visits, in the morning in Korea. The task takes no arguments.
    "enrollment-visit-reminders": {
        "task": "enrollment.tasks.visit_reminders_send",
        "schedule": crontab(hour=10, minute=0),
    },
    # Re-consent campaigns: pick up campaigns whose worker was lost; daily reminders; minors who
    # came of age overnight are asked for their own consent.
    "consent-campaigns-resume": {
        "task": "consent.tasks.campaigns_resume_stalled_task",
        "schedule": crontab(minute="*/5"),
    },
    "consent-campaign-reminders": {
        "task": "consent.tasks.campaigns_remind_task",
        "schedule": crontab(hour=11, minute=0),
    },
    "consent-minors-coming-of-age": {
        "task": "consent.tasks.minors_coming_of_age_task",
        "schedule": crontab(hour=6, minute=30),
    },
    # The audit log's hash chain: settled rows sealed every five minutes, verified at night.
    "portal-audit-seal": {
        "task": "portal.tasks.audit_seal_task",
        "schedule": crontab(minute="*/5"),
    },
    "portal-audit-verify": {
        "task": "portal.tasks.audit_chain_verify_nightly",
        "schedule": crontab(hour=3, minute=0),
    },
    # Sessions are kept in the database; expired ones are removed every night.
    "portal-sessions-clear": {
        "task": "portal.tasks.sessions_clear_expired",
        "schedule": crontab(hour=4, minute=15),
    },
    # Receipts never made or never mailed (a lost task, a file that was missing) are re-issued.
    "consent-receipts-reissue": {
        "task": "consent.tasks.consent_receipts_reissue",
        "schedule": crontab(minute="7,37"),
    },
    # Recompute every consent hash chain at night; the outcome is kept for ethics reviewers.
    "consent-ledger-verify": {
        "task": "consent.tasks.consent_ledger_verify_nightly",
        "schedule": crontab(hour=3, minute=0),
    },
    # A certificate of the ledger e-mailed to the ethics boards, so its anchor lives outside.
    "reports-ledger-certificate": {
        "task": "reports.tasks.ledger_certificate_nightly",
        "schedule": crontab(hour=3, minute=30),
    },
    # Last month's consent report for every ethics board, on the first of the month.
    "reports-monthly-board-reports": {
        "task": "reports.tasks.report_jobs_monthly_task",
        "schedule": crontab(day_of_month=1, hour=5, minute=0),
    },
    # Generated report files are removed when they expire (REPORTS_FILE_HOURS).
    "reports-expire-files": {
        "task": "reports.tasks.report_jobs_expire_task",
        "schedule": crontab(minute=20),
    },
    # Compare what was sent with what the dam reports holding (subjects, samples received).
    "dam-reconcile": {
        "task": "dam.tasks.dam_reconcile_daily",
        "schedule": crontab(hour=4, minute=30),
    },
    # The dam outbox: deliver anything not yet delivered (a lost task message only delays it).
    "dam-outbox-sweep": {
        "task": "dam.tasks.outbox_sweep",
        "schedule": float(os.environ.get("DAM_SWEEP_SECONDS") or 60),
    },
}

# --- Passwords and accounts -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2id first (see portal/hashers.py for why and at what cost); Django's others after it, so
# that hashes made before still verify and are re-made with the first at the next sign-in.
PRODUCTION_PASSWORD_HASHERS = [
    "portal.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS
if PORTAL_ENV == "test":
    # Test runs hash thousands of passwords; the slow hash protects nothing there.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
# Confirming the address in the browser that registered signs the person in (allauth only does
# this for the session that signed up, so a link opened elsewhere still asks for the password).
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_ADAPTER = "portal.accounts.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Dam Portal] "
# Rate limits count per client address. Behind the production proxy every request comes from the
# proxy, so the client is taken from X-Forwarded-For, this many hops from the right (the hops
# our own proxies added); the audit log uses the same rule (portal.middleware.client_ip).
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if PRODUCTION else 0)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Dam Portal"
# TOTP secrets and recovery seeds sealed with the personal-data keys (enrollment/vault/mfa.py).
MFA_ADAPTER = "enrollment.vault.mfa.VaultMFAAdapter"
# Staff sessions end after this many idle seconds; participants keep the browser-session default.
STAFF_IDLE_TIMEOUT_SECONDS = env_int("STAFF_IDLE_TIMEOUT_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
SESSION_ENGINE = "portal.sessions"  # Django's database sessions; a change saved in one statement
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Personal-data vault keys ---------------------------------------------------------------
# PII_KEYS: "keyid:base64key,keyid:base64key"; the first is used to encrypt, all can decrypt.
PII_KEYS = env("PII_KEYS", f"k0:{_EMBEDDED_PII_KEY}", required_in_production=True)
if PRODUCTION and _EMBEDDED_PII_KEY in PII_KEYS:
    raise ImproperlyConfigured("PII_KEYS still contains the embedded default key")
BLIND_INDEX_KEY = env("BLIND_INDEX_KEY", _EMBEDDED_BLIND_INDEX_KEY, required_in_production=True)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "portal_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Seoul"
USE_I18N = True
USE_TZ = True
LEGAL_AGE = 19
# Days a participant who came of age may take to consent in their own name; after that, new uses
# of their data are held back ("re-consent due at majority").
MAJORITY_GRACE_DAYS = env_int("MAJORITY_GRACE_DAYS", 180)

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Stored files (receipts, signatures, scanned forms; encrypted by the apps that write them) must
# be readable from every web and worker node. FILE_STORAGE chooses where they go:
#   s3         an S3-compatible object store (S3_BUCKET, S3_ENDPOINT_URL, S3_REGION,
#              S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY); objects are private, served by the portal;
#   directory  MEDIA_ROOT; production accepts it only with MEDIA_ROOT_SHARED=true, declaring that
#              the directory is one shared file system (NFS or alike) mounted on every node.
FILE_STORAGE = env("FILE_STORAGE", "" if PRODUCTION else "directory", required_in_production=True)
if FILE_STORAGE not in {"s3", "directory"}:
    raise ImproperlyConfigured("FILE_STORAGE must be s3 or directory")
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
_default_storage: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if FILE_STORAGE == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("S3_BUCKET", required_in_production=True) or "portal",
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "region_name": env("S3_REGION") or None,
            "access_key": env("S3_ACCESS_KEY_ID") or None,
            "secret_key": env("S3_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "location": env("S3_PREFIX", ""),
        },
    }
elif PRODUCTION and not env_bool("MEDIA_ROOT_SHARED", False):
    raise ImproperlyConfigured(
        "MEDIA_ROOT_SHARED must be true when FILE_STORAGE=directory in production (a directory "
        "on one machine's disk is missing on the others); or use FILE_STORAGE=s3"
    )
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail ---------------------------------------------------------------------------------
# Production sends through the SMTP relay below; the embedded default prints and keeps files.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "portal.mail.ConsoleAndFileBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Dam Portal <no-reply@portal.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # People sign in (session); other systems send a client-credentials token (machine clients).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "portal.machine_clients.MachineClientAuthentication",
    ],
    # Signed-in people only; a view opens itself to machine clients by naming a scope (HasRole).
    "DEFAULT_PERMISSION_CLASSES": ["portal.api_access.SignedInUser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "portal.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api_access.UserThrottle",
        "portal.api_access.ClientThrottle",
    ],
}
# Requests per user over the whole API ("count/second|minute|hour|day"); beyond it, 429.
API_USER_RATE = env("API_USER_RATE", "600/minute")
# Requests per machine client over the whole API, the same way.
API_CLIENT_RATE = env("API_CLIENT_RATE", "600/minute")
for _rate_name, _rate in (("API_USER_RATE", API_USER_RATE), ("API_CLIENT_RATE", API_CLIENT_RATE)):
    if not re.fullmatch(r"[1-9][0-9]*/(second|minute|hour|day)", _rate):
        raise ImproperlyConfigured(
            f"{_rate_name} must look like 600/minute (second|minute|hour|day)"
        )
# Machine clients (other systems) get tokens at /o/token/ with their client id and secret, by the
# client-credentials grant only (no other grant is served), for the consent-check scope only.
OAUTH2_PROVIDER = {
    "OAUTH2_SERVER_CLASS": "oauthlib.oauth2.BackendApplicationServer",
    "SCOPES": {"consent:check": "Ask whether participants' consent allows a purpose"},
    "DEFAULT_SCOPES": ["consent:check"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_CLIENT_TOKEN_SECONDS", 3600),
    "APPLICATION_ADMIN_CLASS": "portal.admin.MachineClientAdmin",
    # The OAuth 2.0 security best practice (RFC 9700) throughout: tokens stored hashed, accepted
    # only in the Authorization header; the rest concerns grants this portal does not serve.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Dam Portal API",
    "DESCRIPTION": f"Enrollment, consent and dam link of the {PROGRAMME_NAME_EN}.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Every operation also documents its error answers (400, 403, 404, 429).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.document_error_answers",
    ],
    # Choice sets that share a field name ("kind", "status") get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "ParticipantKindEnum": "enrollment.models.core.ParticipantKind",
        "ParticipantStatusEnum": "enrollment.models.core.ParticipantStatus",
        "ConsentVersionStatusEnum": "consent.models.forms.VersionStatus",
        "ConsentFormKindEnum": "consent.models.forms.ConsentFormKind",
    },
}

# --- Security headers -----------------------------------------------------------------------
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

# --- Logging: structured, with a request id, never personal data --------------------------
LOG_LEVEL = env("LOG_LEVEL", "INFO")
# Web, workers and beat share this configuration (portal.task_context hands it to Celery): JSON
# lines in production, one record per event with its traceback inside, extra fields kept.
LOG_FORMAT = env("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "portal.logging.RequestIdFilter"},
        "no_data_urls": {"()": "portal.logging.DataUrlRedactingFilter"},
        "task": {"()": "portal.task_context.TaskFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id", "no_data_urls", "task"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger prints the full URL of failed requests; URLs carry no personal
        # data by design, but the request object itself is dropped by the filter.
        "django.request": {"level": "ERROR"},
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint names images it cannot load by URL: a drawn signature's data URL is redacted.
        "weasyprint": {"filters": ["no_data_urls"]},
        # One line per request (method, path without query, status, duration, user id). The
        # development server prints its own, so only production logs these.
        "portal.request": {"level": "INFO" if PRODUCTION else "WARNING"},
    },
}

# --- Portal ---------------------------------------------------------------------------------
PORTAL_HEALTHZ_CHECK_BROKER = not CELERY_TASK_ALWAYS_EAGER
# /metrics answers a scraper that sends "Authorization: Bearer <METRICS_TOKEN>", or a signed-in
# administrator; anyone else gets 404. Without a token only administrators see it.
METRICS_TOKEN = env("METRICS_TOKEN", "")
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be a random value of at least 32 characters")
DAM_TRANSPORT = env("DAM_TRANSPORT", "directory")
if DAM_TRANSPORT not in ("http", "directory"):
    raise ImproperlyConfigured("DAM_TRANSPORT must be http or directory")
DAM_DIRECTORY = Path(env("DAM_DIRECTORY", str(VAR_DIR / "dam-outbox")))
_DAM_HTTP = DAM_TRANSPORT == "http"
DAM_URL = env("DAM_URL", "", required_in_production=_DAM_HTTP)
DAM_KEY_ID = env("DAM_KEY_ID", "", required_in_production=_DAM_HTTP)
DAM_SECRET = env("DAM_SECRET", "", required_in_production=_DAM_HTTP)
if PRODUCTION and _DAM_HTTP and not DAM_URL.startswith("https://"):
    raise ImproperlyConfigured("DAM_URL must be an https:// address when PORTAL_ENV=production")
if _DAM_HTTP and not (DAM_URL and DAM_KEY_ID and DAM_SECRET) and PORTAL_ENV != "test":
    raise ImproperlyConfigured("DAM_TRANSPORT=http needs DAM_URL, DAM_KEY_ID and DAM_SECRET")
# Delivery to the dam (dam.services.delivery): per-request timeout, back-off between attempts
# (exponential with jitter from the base up to the cap), batch limits of the interface, and the
# age of the oldest undelivered message past which /healthz says unhealthy.
DAM_TIMEOUT_SECONDS = env_int("DAM_TIMEOUT_SECONDS", 10)
DAM_RETRY_BASE_SECONDS = float(env("DAM_RETRY_BASE_SECONDS", "5"))
DAM_RETRY_MAX_SECONDS = float(env("DAM_RETRY_MAX_SECONDS", "900"))
DAM_BATCH_MAX_MESSAGES = min(env_int("DAM_BATCH_MAX_MESSAGES", 1000), 1000)
DAM_BATCH_MAX_BYTES = min(env_int("DAM_BATCH_MAX_BYTES", 5 * 1024 * 1024), 5 * 1024 * 1024)
DAM_OUTBOX_MAX_AGE_SECONDS = env_int("DAM_OUTBOX_MAX_AGE_SECONDS", 3600)
# A delivery task stops after this long and asks for a successor (tasks stay short).
DAM_DELIVERY_TASK_SECONDS = env_int("DAM_DELIVERY_TASK_SECONDS", 60)
# Threads of one delivery run, each with its own database connection: one builds and records a
# batch while another waits for the dam's answer. 1 by default until 2 has run in production-like
# conditions longer; the benchmark runs 2 (bench/results.md).
DAM_DELIVERY_SENDERS = max(1, env_int("DAM_DELIVERY_SENDERS", 1))
DAM_SWEEP_SECONDS = float(CELERY_BEAT_SCHEDULE["dam-outbox-sweep"]["schedule"])

# --- Samples and shipments ------------------------------------------------------------------
# Tube barcodes: one pattern for the whole programme, checked (after trimming and upper-casing)
# whenever a sample is recorded. The example is shown in the error message and must match.
SAMPLE_BARCODE_PATTERN = env("SAMPLE_BARCODE_PATTERN", r"^[A-Z]{2,4}-[0-9]{6,10}$")
SAMPLE_BARCODE_EXAMPLE = env("SAMPLE_BARCODE_EXAMPLE", "BDD-000123")
try:
    if not re.fullmatch(SAMPLE_BARCODE_PATTERN, SAMPLE_BARCODE_EXAMPLE):
        raise ImproperlyConfigured("SAMPLE_BARCODE_EXAMPLE must match SAMPLE_BARCODE_PATTERN")
except re.error as exc:
    raise ImproperlyConfigured(
        f"SAMPLE_BARCODE_PATTERN is not a regular expression: {exc}"
    ) from exc
# The consent purpose that stands for keeping a participant's samples (it needs the
# "sample_storage" item); asked when a tube is recorded and again when it is shipped.
SAMPLE_STORAGE_PURPOSE = env("SAMPLE_STORAGE_PURPOSE", "follow_up_collection")
# Hours after shipping before the dam must report a sample as physically received.
DAM_RECEIPT_GRACE_HOURS = env_int("DAM_RECEIPT_GRACE_HOURS", 36)
# Reconciliation asks the dam about each subject with its own GET (the interface has no list
# form): this many at once, each over a kept-alive connection of its own.
DAM_READ_CONNECTIONS = max(1, env_int("DAM_READ_CONNECTIONS", 8))

# --- Enrollment -----------------------------------------------------------------------------
# Text messages: a dotted path to a class with send(*, to_phone, body); see enrollment.messaging.
# Production must name a sender that really sends: the file and in-memory senders only keep
# messages on the node that "sent" them.
TEXT_SENDER = env(
    "TEXT_SENDER",
    "enrollment.messaging.LocmemTextSender"
    if PORTAL_ENV == "test"
    else "enrollment.messaging.FileTextSender",
    required_in_production=True,
)
if PRODUCTION and TEXT_SENDER in {
    "enrollment.messaging.FileTextSender",
    "enrollment.messaging.LocmemTextSender",
}:
    raise ImproperlyConfigured(
        "TEXT_SENDER must name a sender that sends (e.g. enrollment.messaging.HttpTextSender), "
        "not one that keeps messages on this machine"
    )
TEXT_DIRECTORY = Path(env("TEXT_DIRECTORY", str(VAR_DIR / "texts")))
TEXT_SENDER_URL = env("TEXT_SENDER_URL", "")  # for enrollment.messaging.HttpTextSender
TEXT_SENDER_TOKEN = env("TEXT_SENDER_TOKEN", "")
if PRODUCTION and TEXT_SENDER == "enrollment.messaging.HttpTextSender":
    if not TEXT_SENDER_URL.startswith("https://"):
        raise ImproperlyConfigured("TEXT_SENDER_URL must be an https:// address in production")
    if not TEXT_SENDER_TOKEN:
        raise ImproperlyConfigured("TEXT_SENDER_TOKEN must be set for the text gateway")
REFERRAL_IMPORT_MAX_BYTES = env_int("REFERRAL_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 60)
VISIT_BOOKING_DAYS_AHEAD = env_int("VISIT_BOOKING_DAYS_AHEAD", 42)
# Failed invitation claims allowed per account (and per client address) within 15 minutes.
INVITATION_CLAIM_ATTEMPTS = env_int("INVITATION_CLAIM_ATTEMPTS", 5)
# A mail or text that failed is tried again after this many seconds, doubled at each retry.
MESSAGE_RETRY_SECONDS = env_int("MESSAGE_RETRY_SECONDS", 60)

# --- Consent campaigns ----------------------------------------------------------------------
# E-mails per batch and per minute (the mail relay's limit), days before a reminder, reminders.
CONSENT_CAMPAIGN = {
    "BATCH_SIZE": env_int("CONSENT_CAMPAIGN_BATCH_SIZE", 200),
    "RATE_PER_MINUTE": env_int("CONSENT_CAMPAIGN_RATE_PER_MINUTE", 600),
    "REMINDER_AFTER_DAYS": env_int("CONSENT_CAMPAIGN_REMINDER_AFTER_DAYS", 14),
    "MAX_REMINDERS": env_int("CONSENT_CAMPAIGN_MAX_REMINDERS", 2),
}
if min(CONSENT_CAMPAIGN.values()) < 0 or CONSENT_CAMPAIGN["BATCH_SIZE"] < 1:
    raise ImproperlyConfigured("CONSENT_CAMPAIGN_* settings must be positive whole numbers")

# --- Reports --------------------------------------------------------------------------------
# Extra addresses (comma-separated) that receive ledger certificates and board reports, besides
# every active ethics reviewer.
REPORTS_BOARD_EMAILS = [a.strip() for a in env("REPORTS_BOARD_EMAILS", "").split(",") if a.strip()]
# Hours a generated report file is kept (encrypted) before it is removed.
REPORTS_FILE_HOURS = env_int("REPORTS_FILE_HOURS", 72)
