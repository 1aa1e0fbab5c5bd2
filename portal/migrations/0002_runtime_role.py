"""The runtime database role: data privileges on every table and sequence, now and later."""

from django.db import migrations

import portal.db


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    operations = [portal.db.GrantRuntimeRole()]
