# Funnel aggregates (daily, monthly, current) kept by enrollment.funnel.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0002_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='FunnelCurrent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('site_id', models.BigIntegerField()),
                ('cohort_id', models.BigIntegerField()),
                ('status', models.CharField(choices=[('registered', 'Registered'), ('eligible', 'Screened: eligible'), ('ineligible', 'Screened: ineligible'), ('consented', 'Consented'), ('sample_collected', 'Sample collected'), ('in_dam', 'In the data dam'), ('withdrawn', 'Withdrawn')], max_length=24)),
                ('age_band', models.CharField(choices=[('0-18', 'Under 19'), ('19-29', '19 to 29'), ('30-39', '30 to 39'), ('40-49', '40 to 49'), ('50-59', '50 to 59'), ('60-69', '60 to 69'), ('70+', '70 and over')], max_length=8)),
                ('sex', models.CharField(choices=[('female', 'Female'), ('male', 'Male'), ('other', 'Other'), ('unknown', 'Unknown')], max_length=8)),
                ('n', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('site_id', 'cohort_id', 'status', 'age_band', 'sex'), name='funnelcurrent_key')],
            },
        ),
        migrations.CreateModel(
            name='FunnelDaily',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('site_id', models.BigIntegerField()),
                ('cohort_id', models.BigIntegerField()),
                ('status', models.CharField(choices=[('registered', 'Registered'), ('eligible', 'Screened: eligible'), ('ineligible', 'Screened: ineligible'), ('consented', 'Consented'), ('sample_collected', 'Sample collected'), ('in_dam', 'In the data dam'), ('withdrawn', 'Withdrawn')], max_length=24)),
                ('n', models.BigIntegerField(default=0)),
            ],
            options={
                'indexes': [models.Index(fields=['status', 'day'], name='funneldaily_status_day')],
                'constraints': [models.UniqueConstraint(fields=('day', 'site_id', 'cohort_id', 'status'), name='funneldaily_key')],
            },
        ),
        migrations.CreateModel(
            name='FunnelMonthly',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('month', models.DateField()),
                ('site_id', models.BigIntegerField()),
                ('cohort_id', models.BigIntegerField()),
                ('status', models.CharField(choices=[('registered', 'Registered'), ('eligible', 'Screened: eligible'), ('ineligible', 'Screened: ineligible'), ('consented', 'Consented'), ('sample_collected', 'Sample collected'), ('in_dam', 'In the data dam'), ('withdrawn', 'Withdrawn')], max_length=24)),
                ('n', models.BigIntegerField(default=0)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('month', 'site_id', 'cohort_id', 'status'), name='funnelmonthly_key')],
            },
        ),
    ]
