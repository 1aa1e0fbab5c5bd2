# The English name of a site's region, read on English pages next to the English site name.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0012_site_closures"),
    ]

    operations = [
        migrations.AddField(
            model_name="site",
            name="region_en",
            field=models.CharField(blank=True, max_length=100, verbose_name="region (English)"),
        ),
    ]
