"""Encryption at rest for two-factor secrets: allauth keeps TOTP secrets and recovery-code
seeds in Authenticator.data and passes them through its MFA adapter's encrypt()/decrypt()
(couples.mfa). Rows saved before the adapter encrypted are encrypted here, in place."""

from django.db import migrations

from security.encrypted import decrypt_str, encrypt_str, is_encrypted

SECRETS = ("secret", "seed")  # rotate_encryption_keys.SECRET_KEYS, as of this migration


def _convert(data, convert):
    changed = dict(data)
    for key in SECRETS:
        if isinstance(changed.get(key), str):
            changed[key] = convert(changed[key])
    if isinstance(changed.get("migrated_codes"), list):
        changed["migrated_codes"] = [convert(c) for c in changed["migrated_codes"]]
    return changed


def encrypt(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.all().iterator():
        data = _convert(row.data, lambda v: v if is_encrypted(v) else encrypt_str(v))
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


def decrypt(apps, schema_editor):
    Authenticator = apps.get_model("mfa", "Authenticator")
    for row in Authenticator.objects.all().iterator():
        data = _convert(row.data, lambda v: decrypt_str(v) if is_encrypted(v) else v)
        if data != row.data:
            Authenticator.objects.filter(pk=row.pk).update(data=data)


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0011_csp_reports"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
