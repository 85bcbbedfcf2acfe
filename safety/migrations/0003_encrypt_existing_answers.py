"""Encryption at rest, step 2: the rows already there are encrypted in place (and decrypted
again when migrating backwards, before the previous migration turns the columns back)."""

import security.encrypted
from django.db import migrations

COLUMNS = [("couples_safetyscreening", "answers")]


class Migration(migrations.Migration):
    dependencies = [
        ("safety", "0002_encrypt_answers_at_rest"),
    ]

    operations = [
        migrations.RunPython(
            security.encrypted.encrypt_columns(*COLUMNS),
            security.encrypted.decrypt_columns(*COLUMNS),
        ),
    ]
