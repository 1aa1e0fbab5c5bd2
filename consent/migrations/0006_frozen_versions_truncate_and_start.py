"""Frozen consent versions: TRUNCATE refused on versions, items and questions; a version that has
been active keeps its effective_from and activated_at."""

from django.db import migrations

import consent.db


class Migration(migrations.Migration):
    dependencies = [("consent", "0005_ledger_verification")]

    operations = [consent.db.FrozenConsentVersionsRefresh()]
