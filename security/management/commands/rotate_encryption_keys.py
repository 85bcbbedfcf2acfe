"""Re-encrypt everything encrypted at rest with the first of FIELD_ENCRYPTION_KEYS.

To rotate: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), restart
every worker, run this command, then drop the old keys and restart again (docs/security.md,
"Encryption at rest"). Safe to run again, and while the app runs: each row is rewritten by itself.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from security.encrypted import encrypted_fields, is_encrypted, rotate_str

BATCH = 500
# The values in allauth's Authenticator.data that its MFA adapter passes through encrypt()
# (couples/mfa.py encrypts them with the fields' keys).
SECRET_KEYS = ("secret", "seed")


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field and two-factor secret with the first key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = encrypted_fields(model)
            if not fields:
                continue
            count = self._rotate_model(model, fields)
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
            total += count
        count = self._rotate_authenticators()
        self.stdout.write(f"mfa.Authenticator: {count} rows re-encrypted")
        total += count
        self.stdout.write(
            self.style.SUCCESS(f"Done: {total} rows re-encrypted with the first key.")
        )

    def _rotate_model(self, model: Any, fields: list) -> int:
        """Rotates the stored tokens as they are (no decoding), in batches by primary key."""
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        columns = [f.column for f in fields]
        pk = quote(model._meta.pk.column)
        select = (
            f"SELECT {pk}, {', '.join(quote(c) for c in columns)} FROM {table} "  # noqa: S608
            f"WHERE {pk} > %s ORDER BY {pk} LIMIT {BATCH}"
        )
        if connection.features.has_select_for_update:
            select += " FOR UPDATE"  # a row the app saves meanwhile waits, and is not lost
        assignments = ", ".join(f"{quote(c)} = %s" for c in columns)
        update = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
        count, last = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(select, [last])
                rows = cursor.fetchall()
                for row in rows:
                    last = row[0]
                    values = [None if v is None else rotate_str(v) for v in row[1:]]
                    cursor.execute(update, [*values, last])
                    count += 1
            if not rows:
                return count

    def _rotate_authenticators(self) -> int:
        count = 0
        for pk in Authenticator.objects.values_list("pk", flat=True):
            with transaction.atomic():
                row = Authenticator.objects.select_for_update().filter(pk=pk).first()
                if row is None:
                    continue
                data = dict(row.data)
                for key in SECRET_KEYS:
                    value = data.get(key)
                    if isinstance(value, str) and is_encrypted(value):
                        data[key] = rotate_str(value)
                codes = data.get("migrated_codes")
                if isinstance(codes, list):
                    data["migrated_codes"] = [rotate_str(c) for c in codes]
                if data != row.data:
                    Authenticator.objects.filter(pk=pk).update(data=data)
                    count += 1
        return count
