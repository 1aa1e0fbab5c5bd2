"""Accounts and the audit log."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("an e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in. The e-mail is the login; it is the only personal datum kept here.

    Profile data of participants (name, birth date, phone, address) lives encrypted in the
    enrollment vault, never on this table.
    """

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(
        _("display name"),
        max_length=150,
        blank=True,
        help_text=_("Staff only; shown in audit trails."),
    )
    # Ethics reviewers of the central IRB (and admins) see every site; others see their memberships.
    all_sites = models.BooleanField(_("sees all sites"), default=False)
    preferred_language = models.CharField(_("language"), max_length=8, default="ko")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        # Pages and allauth's messages ("signed in as ...") show this: a person recognises their
        # name or e-mail address, never an internal row number.
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name


class AuditEvent(models.Model):
    """One audited action: who, when, what, on which object (type and id), why, from where.

    Never holds personal data: objects are named by type and internal id only. Append-only,
    enforced by database triggers (see ``portal.db.AppendOnly`` in the migration).
    """

    at = models.DateTimeField(db_default=Now(), db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=16, default="ok")
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_id"])]
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class AuditSeal(models.Model):
    """One link of the audit log's hash chain: every audit row with ``after_id < id <= last_id``.

    The hash is SHA-256 over the previous seal's hash, the range and each row's canonical form
    (``portal.audit_chain``), so changing, removing or slipping in a row of a sealed range, or
    removing a seal, shows up in the verification. Rows are sealed a few minutes after they are
    written, by a periodic task, so writing an audit row never waits for the chain. Append-only.
    """

    after_id = models.BigIntegerField(unique=True)
    last_id = models.BigIntegerField()
    rows = models.PositiveIntegerField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)
    sealed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["after_id"]

    def __str__(self) -> str:
        return f"audit seal ({self.after_id}, {self.last_id}]"
