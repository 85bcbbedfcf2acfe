"""SafetyScreening and SupportResource now belong to safety/ (state only; tables unchanged)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0005_therapist_links_and_consent"),
        ("safety", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SafetyScreening"),
                migrations.DeleteModel(name="SupportResource"),
            ],
            database_operations=[],
        ),
    ]
