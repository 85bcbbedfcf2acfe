"""Queue the periodic background jobs that aren't queued yet (safe to run any time)."""

from django.core.management.base import BaseCommand

from couples.jobs import periodic_start


class Command(BaseCommand):
    help = "Queue each periodic job (daily purge, reminders sweep) unless it is queued already."

    def handle(self, *args, **options) -> None:
        started = periodic_start()
        self.stdout.write("Queued: " + (", ".join(started) if started else "nothing new"))
