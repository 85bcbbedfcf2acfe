"""`manage.py purge`: the daily retention run (couples/retention.py). Run it from cron."""

from django.core.management.base import BaseCommand

from couples.retention import retention_run


class Command(BaseCommand):
    help = (
        "Retention: clear expired sessions, warn partners of ended couples before their content "
        "is erased, erase it when due, and drop old network addresses from the audit trail."
    )

    def handle(self, *args, **options) -> None:
        summary = retention_run()
        self.stdout.write(
            f"sessions cleared: {summary.sessions}; couples warned: {summary.couples_warned}; "
            f"couples erased: {summary.couples_purged}; "
            f"audit addresses removed: {summary.audit_addresses}"
        )
