"""A partner's "no thanks" to the home page's suggestion of two-factor authentication."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0014_calendar_feed"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="two_factor_hint_dismissed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
