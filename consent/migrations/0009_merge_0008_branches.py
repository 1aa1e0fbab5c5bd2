# Joins the two 0008 branches: ledger codes and witness, campaign reminder chains.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_campaign_reminder_chain"),
        ("consent", "0008_witness_and_ledger_codes"),
    ]

    operations = []
