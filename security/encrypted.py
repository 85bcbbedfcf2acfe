"""Encryption at rest: model fields whose database column holds only Fernet tokens.

A thin layer over `cryptography`'s MultiFernet (AES-128-CBC with HMAC-SHA256, a timestamp and
a random IV per value). Keys come from settings.FIELD_ENCRYPTION_KEYS (environment variable
of the same name, comma-separated Fernet keys): the first encrypts, every one decrypts, so a
new key can be put first while the old rows are still readable, and
`manage.py rotate_encryption_keys` re-encrypts every row with the first key.

A value that no key decrypts raises `UnreadableValue`: a wrong key fails loudly instead of
showing ciphertext (or, worse, treating it as text). Ciphertext can't be compared in SQL, so
these fields refuse every lookup except `isnull`: filter on metadata instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.models.lookups import IsNull

PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80, then a timestamp)


class UnreadableValue(Exception):
    """An encrypted value that none of FIELD_ENCRYPTION_KEYS decrypts."""


@lru_cache(maxsize=8)
def _crypter(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 url-safe base64-encoded bytes): "
            'make one with python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        ) from error


def crypter(keys: Sequence[str] | None = None) -> MultiFernet:
    return _crypter(tuple(settings.FIELD_ENCRYPTION_KEYS if keys is None else keys))


def encrypt_str(text: str, keys: Sequence[str] | None = None) -> str:
    return crypter(keys).encrypt(text.encode()).decode()


def decrypt_str(token: str, keys: Sequence[str] | None = None) -> str:
    try:
        return crypter(keys).decrypt(token.encode()).decode()
    except InvalidToken:
        raise UnreadableValue(
            "An encrypted value could not be decrypted with any of FIELD_ENCRYPTION_KEYS."
        ) from None


@lru_cache(maxsize=65_536)
def _read(token: str, keys: tuple[str, ...]) -> str:
    """What a stored token says, remembered: the same rows are read again and again (a
    dialogue's turns for every page, snapshot and reconnect), and each decryption costs
    ~25 µs. A token is never reused (each encryption has its own IV), so a changed value is
    a new token, and the keys are part of what is remembered. In this process's memory only,
    like the rows it was read from; a token no key decrypts raises, and is not remembered."""
    return decrypt_str(token, keys)


def is_encrypted(value: str, keys: Sequence[str] | None = None) -> bool:
    """Whether this stored value is a token one of the keys decrypts (migrations use it)."""
    if not value.startswith(PREFIX):
        return False
    try:
        crypter(keys).decrypt(value.encode())
    except InvalidToken:
        return False
    return True


def rotate_str(token: str, keys: Sequence[str] | None = None) -> str:
    """The same value, encrypted again with the first key."""
    try:
        return crypter(keys).rotate(token.encode()).decode()
    except InvalidToken:
        raise UnreadableValue(
            "An encrypted value could not be decrypted with any of FIELD_ENCRYPTION_KEYS."
        ) from None


class EncryptedMixin:
    """Stores `encode(value)` encrypted in a text column; reads it back decrypted."""

    encrypted = True

    def get_internal_type(self) -> str:
        return "TextField"

    def encode(self, value: Any) -> str:
        return str(value)

    def decode(self, text: str) -> Any:
        return text

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or hasattr(value, "as_sql"):
            return value  # NULL, or an expression (bulk_update's Case of encrypted Values)
        return encrypt_str(self.encode(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return self.decode(_read(value, tuple(settings.FIELD_ENCRYPTION_KEYS)))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{type(self).__name__} holds ciphertext: it can't be compared in SQL "
            f"(lookup {lookup_name!r}). Filter on metadata and read the value in Python."
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{type(self).__name__} holds ciphertext: no {lookup_name!r} in SQL.")


class EncryptedTextField(EncryptedMixin, models.TextField):
    pass


class EncryptedCharField(EncryptedMixin, models.CharField):
    """max_length still limits the text (forms and validation); the column is text."""


class EncryptedJSONField(EncryptedMixin, models.JSONField):
    """A JSON value, stored as encrypted JSON text (no JSON lookups: they'd need plaintext)."""

    def encode(self, value: Any) -> str:
        return json.dumps(value, cls=self.encoder)

    def decode(self, text: str) -> Any:
        return json.loads(text, cls=self.decoder)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.get_db_prep_value(value, connection)

    def select_format(self, compiler: Any, sql: str, params: Any) -> Any:
        # JSONField casts on some backends when selecting; ours is a text column.
        return sql, params


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if getattr(f, "encrypted", False)]


# --- migrations: existing rows are encrypted (and decrypted, backwards) in place -----------


def _convert_column(schema_editor: Any, table: str, column: str, convert: Any) -> int:
    """Run `convert(stored) -> new or None` over one column, in batches by primary key."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    select = (
        f"SELECT id, {quote(column)} FROM {quote(table)} "  # noqa: S608 (quoted names)
        f"WHERE id > %s AND {quote(column)} IS NOT NULL ORDER BY id LIMIT 500"
    )
    update = f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s"  # noqa: S608
    changed, last = 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(select, [last])
            rows = cursor.fetchall()
            if not rows:
                return changed
            for pk, stored in rows:
                last = pk
                new = convert(str(stored))
                if new is not None:
                    cursor.execute(update, [new, pk])
                    changed += 1


def encrypt_columns(*columns: tuple[str, str]) -> Any:
    """A RunPython function encrypting what (table, column) pairs hold in plaintext."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        def convert(stored: str) -> str | None:
            return None if is_encrypted(stored) else encrypt_str(stored)

        for table, column in columns:
            _convert_column(schema_editor, table, column, convert)

    return forwards


def decrypt_columns(*columns: tuple[str, str]) -> Any:
    """The reverse of encrypt_columns: plaintext back in the columns."""

    def backwards(apps: Any, schema_editor: Any) -> None:
        def convert(stored: str) -> str | None:
            return decrypt_str(stored) if is_encrypted(stored) else None

        for table, column in columns:
            _convert_column(schema_editor, table, column, convert)

    return backwards
