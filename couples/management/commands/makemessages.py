"""`makemessages` for this project: Django's own, looking only at the app's code and templates.

The catalogues live in locale/<code>/ (settings.LOCALE_PATHS); adding a language is
`manage.py makemessages -l <code>`, translating locale/<code>/LC_MESSAGES/django.po, and
`manage.py compilemessages` (docs/languages.md). Entries no longer in the code are dropped,
and only file names (not line numbers) are written, so catalogues change only when the text
does."""

from __future__ import annotations

from django.core.management.commands import makemessages

# Folders with no text of ours: the virtualenv, tests, benchmarks, collected static files.
NOT_OURS = [".venv", "venv", "tests", "bench", "staticfiles", "node_modules", ".git", ".cache"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *NOT_OURS]
        options["no_obsolete"] = True
        if not options.get("add_location"):
            options["add_location"] = "file"
        return super().handle(*args, **options)
