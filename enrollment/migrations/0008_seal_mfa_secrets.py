"""Seal the two-factor secrets stored in clear before the vault's MFA adapter."""

from typing import Any

from django.db import migrations


def seal(apps: Any, schema_editor: Any) -> None:
    from enrollment.vault.mfa import mfa_secret_seal

    authenticator = apps.get_model("mfa", "Authenticator")
    for row in authenticator.objects.all().iterator():
        data = dict(row.data or {})
        changed = False
        for key in ("secret", "seed"):
            value = data.get(key)
            if isinstance(value, str) and value and ":" not in value:
                data[key] = mfa_secret_seal(value)
                changed = True
        codes = data.get("migrated_codes")
        if isinstance(codes, list) and any(":" not in c for c in codes):
            data["migrated_codes"] = [c if ":" in c else mfa_secret_seal(c) for c in codes]
            changed = True
        if changed:
            row.data = data
            row.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0007_personal_data_plain_indexes"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
