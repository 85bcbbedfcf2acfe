"""AuditEvent and CspReport move here from couples/ (state only: the tables keep their names,
couples_auditevent and couples_cspreport, so existing databases migrate in place and no row is
touched). Reversible: backwards, the content types go back to couples."""

import django.db.models.deletion
import live.clock
from django.conf import settings
from django.db import migrations, models

MOVED = ("auditevent", "cspreport")


def move_content_types(apps, schema_editor, old="couples", new="security"):
    """Permissions and admin history follow the models to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=old, model=model).exists():
            ContentType.objects.using(db).filter(app_label=new, model=model).delete()
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, old="security", new="couples")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("couples", "0019_web_push"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(db_index=True, default=live.clock.now)),
                        ("actor_email", models.CharField(blank=True, max_length=254)),
                        ("action", models.CharField(db_index=True, max_length=64)),
                        ("target_type", models.CharField(blank=True, max_length=64)),
                        ("target_id", models.CharField(blank=True, max_length=64)),
                        ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "couples_auditevent", "ordering": ["-created_at", "-pk"]},
                ),
                migrations.CreateModel(
                    name="CspReport",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("directive", models.CharField(max_length=64)),
                        ("blocked", models.CharField(blank=True, max_length=120)),
                        ("document", models.CharField(blank=True, max_length=200)),
                        ("count", models.PositiveIntegerField(default=1)),
                        ("first_seen", models.DateTimeField(default=live.clock.now)),
                        ("last_seen", models.DateTimeField(db_index=True, default=live.clock.now)),
                    ],
                    options={
                        "verbose_name": "security policy report",
                        "db_table": "couples_cspreport",
                        "ordering": ["-count", "directive"],
                        "constraints": [models.UniqueConstraint(fields=("directive", "blocked", "document"), name="one_row_per_csp_report_kind")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
