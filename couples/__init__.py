"""Couples: people (the custom user: partners, therapists, staff), couples and the
invitations that pair them, sign-in receivers and the log-in throttle's keys (`adapter.py`),
the audit trail, a person's data (export and account deletion), retention (`retention.py`, the
daily `manage.py purge`), the Content-Security-Policy reports (`csp.py`), and encryption at
rest (`encrypted.py`: the encrypted model fields every app uses; `mfa.py`: two-factor secrets).

The lowest app: it imports no other app, only the live kernel (`live`) below it. The apps
above it hear what happens here through `couples.signals` (a couple ending, access ending, an
account being deleted or exported) and act inside the same transaction.
"""
