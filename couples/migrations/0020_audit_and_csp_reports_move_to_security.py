"""AuditEvent and CspReport now belong to security/ (state only; tables unchanged)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0019_web_push"),
        ("security", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="CspReport"),
            ],
            database_operations=[],
        ),
    ]
