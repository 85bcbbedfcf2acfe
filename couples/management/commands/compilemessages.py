"""`compilemessages` for this project: Django's own, compiling only our catalogues in locale/
and locale_allauth/ (not every package's in the virtualenv). See makemessages.py beside this."""

from __future__ import annotations

from django.core.management.commands import compilemessages

from couples.management.commands.makemessages import NOT_OURS


class Command(compilemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *NOT_OURS]
        return super().handle(*args, **options)
