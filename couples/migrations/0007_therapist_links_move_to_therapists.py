"""TherapistLink and Consent now belong to therapists/ (state only; tables unchanged)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0006_safety_moves_to_its_app"),
        ("therapists", "0002_links_and_consent_move_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Consent"),
                migrations.DeleteModel(name="TherapistLink"),
            ],
            database_operations=[],
        ),
    ]
