"""TherapistLink and Consent move here from couples/ (state only: the tables keep their names,
so existing databases migrate in place and no row is touched)."""

import couples.models
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ("therapistlink", "consent")


def move_content_types(apps, schema_editor, old="couples", new="therapists"):
    """Permissions and admin history follow the models to their new app."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MOVED:
        if ContentType.objects.using(db).filter(app_label=old, model=model).exists():
            ContentType.objects.using(db).filter(app_label=new, model=model).delete()
            ContentType.objects.using(db).filter(app_label=old, model=model).update(app_label=new)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, old="therapists", new="couples")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("couples", "0006_safety_moves_to_its_app"),
        ("therapists", "0001_notes_and_homework"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='TherapistLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('public_id', models.CharField(default=couples.models.new_public_id, editable=False, max_length=32, unique=True)),
                        ('code', models.CharField(blank=True, max_length=16, null=True, unique=True)),
                        ('invited_email', models.EmailField(blank=True, max_length=254)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('therapist_accepted_at', models.DateTimeField(blank=True, null=True)),
                        ('status', models.CharField(choices=[('pending', 'Waiting for consent'), ('active', 'Active'), ('ended', 'Ended')], default='pending', max_length=16)),
                        ('activated_at', models.DateTimeField(blank=True, null=True)),
                        ('ended_at', models.DateTimeField(blank=True, null=True)),
                        ('end_reason', models.CharField(blank=True, choices=[('declined', 'Declined'), ('withdrawn', 'Consent withdrawn'), ('therapist', 'Ended by the therapist'), ('couple_ended', 'The couple ended'), ('expired', 'Expired'), ('unverified', 'The therapist is no longer verified'), ('deactivated', "The therapist's account was switched off"), ('deleted', "The therapist's account was deleted"), ('staff', 'Ended by our team')], max_length=16)),
                        ('couple', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='therapist_links', to='couples.couple')),
                        ('created_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('therapist', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='therapist_links', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'couples_therapistlink',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='Consent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('given_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('withdrawn_at', models.DateTimeField(blank=True, null=True)),
                        ('partner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='therapist_consents', to=settings.AUTH_USER_MODEL)),
                        ('link', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='consents', to='therapists.therapistlink')),
                    ],
                    options={
                        'db_table': 'couples_consent',
                        'ordering': ['given_at', 'pk'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='therapistlink',
                    constraint=models.UniqueConstraint(condition=models.Q(('couple__isnull', False), ('status__in', ['pending', 'active']), ('therapist__isnull', False)), fields=('therapist', 'couple'), name='one_open_link_per_therapist_and_couple'),
                ),
                migrations.AddConstraint(
                    model_name='consent',
                    constraint=models.UniqueConstraint(fields=('link', 'partner'), name='one_consent_per_partner'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
