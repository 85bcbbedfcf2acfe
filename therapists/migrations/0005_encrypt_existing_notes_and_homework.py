"""Encryption at rest, step 2: the rows already there are encrypted in place (and decrypted
again when migrating backwards, before the previous migration turns the columns back)."""

import security.encrypted
from django.db import migrations

COLUMNS = [("therapists_therapistnote", "text"), ("therapists_homework", "title"), ("therapists_homework", "instructions")]


class Migration(migrations.Migration):
    dependencies = [
        ("therapists", "0004_encrypt_notes_and_homework_at_rest"),
    ]

    operations = [
        migrations.RunPython(
            security.encrypted.encrypt_columns(*COLUMNS),
            security.encrypted.decrypt_columns(*COLUMNS),
        ),
    ]
