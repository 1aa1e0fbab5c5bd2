# Site closures: days a site takes no visits (its address and hours came with 0011).

import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0011_site_details_bilingual_names_information_pages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SiteClosure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_day", models.DateField(verbose_name="first closed day")),
                ("last_day", models.DateField(verbose_name="last closed day")),
                ("reason", models.CharField(max_length=200, verbose_name="reason")),
                (
                    "created_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "site",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closures",
                        to="enrollment.site",
                    ),
                ),
            ],
            options={
                "verbose_name": "site closure",
                "verbose_name_plural": "site closures",
                "ordering": ["site", "first_day"],
                "indexes": [
                    models.Index(fields=["site", "last_day"], name="siteclosure_site_last")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("last_day__gte", models.F("first_day"))),
                        name="siteclosure_ends_after_start",
                    )
                ],
            },
        ),
    ]
