"""SafetyScreening and SupportResource move here from couples/ (state only: the tables keep
their names, so existing databases migrate in place and no row is touched)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("safetyscreening", "supportresource")


def move_content_types(apps, schema_editor, old="couples", new="safety"):
    """Permissions and admin history follow the models to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=old, model=model).exists():
            ContentType.objects.using(db).filter(app_label=new, model=model).delete()
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, old="safety", new="couples")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("couples", "0005_therapist_links_and_consent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SupportResource",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("country", models.CharField(blank=True, db_index=True, help_text="Two-letter country code (GB, US, …). Leave empty for the default lines, shown where a country has none of its own.", max_length=2)),
                        ("country_name", models.CharField(blank=True, help_text="e.g. United Kingdom", max_length=60)),
                        ("kind", models.CharField(choices=[("emergency", "Emergency"), ("crisis", "Crisis line"), ("domestic_violence", "Domestic-violence line"), ("addiction", "Addiction support"), ("other", "Other support")], max_length=24)),
                        ("name", models.CharField(max_length=120)),
                        ("description", models.CharField(blank=True, max_length=240)),
                        ("phone", models.CharField(blank=True, max_length=40)),
                        ("url", models.URLField(blank=True)),
                        ("order", models.PositiveSmallIntegerField(default=0)),
                        ("is_active", models.BooleanField(default=True)),
                        ("is_placeholder", models.BooleanField(default=False, help_text="Shipped as an example: check it and untick before launch.")),
                    ],
                    options={"db_table": "couples_supportresource", "ordering": ["country", "order", "pk"]},
                ),
                migrations.CreateModel(
                    name="SafetyScreening",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("answers", models.JSONField(blank=True, default=dict)),
                        ("needs_attention", models.BooleanField(default=False)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        ("ready", models.BooleanField(default=False)),
                        ("ready_at", models.DateTimeField(blank=True, null=True)),
                        ("shared_with_therapist", models.BooleanField(default=False)),
                        ("country", models.CharField(blank=True, max_length=2)),
                        ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("couple", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="couples.couple")),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="safety_screening", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "couples_safetyscreening"},
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
