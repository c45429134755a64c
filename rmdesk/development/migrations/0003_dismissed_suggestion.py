# Firms a user dismissed from the suggestions of sources 10–12 ("who should we call next"), issue 4 item 3.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("development", "0002_default_scorecard"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DismissedSuggestion",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("firm", models.CharField(max_length=210, verbose_name="firm")),
                ("name", models.CharField(blank=True, max_length=200, verbose_name="name")),
                ("dismissed_at", models.DateTimeField(verbose_name="dismissed at")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "dismissed suggestion",
                "verbose_name_plural": "dismissed suggestions",
                "constraints": [models.UniqueConstraint(fields=("user", "firm"), name="dismiss_firm_once")],
            },
        ),
    ]
