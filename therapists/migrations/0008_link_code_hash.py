"""Open therapist link codes are stored only as a hash (like calendar feed tokens): existing
open codes are hashed in place, so the codes already given to couples keep working."""

import hashlib

from django.db import migrations, models


def hash_codes(apps, schema_editor):
    TherapistLink = apps.get_model("therapists", "TherapistLink")
    for link in TherapistLink.objects.exclude(code__isnull=True).exclude(code=""):
        # couples.models.hash_token, as it is today (a migration keeps its own copy).
        link.code_hash = hashlib.sha256(link.code.encode()).hexdigest()
        link.save(update_fields=["code_hash"])


class Migration(migrations.Migration):
    dependencies = [("therapists", "0007_more_dialogue_kinds")]

    operations = [
        migrations.AddField(
            model_name="therapistlink",
            name="code_hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        # No way back: a hash can't be turned into its code again.
        migrations.RunPython(hash_codes, migrations.RunPython.noop, elidable=False),
        migrations.RemoveField(model_name="therapistlink", name="code"),
    ]
