"""allauth's MFA adapter, encrypting what it stores: TOTP secrets and recovery-code seeds are
kept in Authenticator.data as Fernet tokens under FIELD_ENCRYPTION_KEYS (couples/encrypted.py),
through the adapter's own encrypt/decrypt hook."""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from couples.encrypted import decrypt_str, encrypt_str

# The values in Authenticator.data that allauth passes through encrypt()/decrypt().
SECRET_KEYS = ("secret", "seed")


class EncryptingMFAAdapter(DefaultMFAAdapter):
    def encrypt(self, text: str) -> str:
        return encrypt_str(text)

    def decrypt(self, encrypted_text: str) -> str:
        return decrypt_str(encrypted_text)
