"""Periodic background jobs, on Django's task framework (the django-tasks backport and its
database backend; `manage.py db_worker` runs them).

The framework runs a job at or after a time (`run_after`) but has no calendar of its own, so
a periodic job queues its own next run when it runs (`next_run`), unless one is already
queued: however many times the chain is started (`manage.py jobs_start`, run by `make run`
and after each deploy), one run is waiting at a time. Each periodic job is safe to run twice
at once, so a rare race between two workers that both queue the next run costs nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django_tasks import TaskResultStatus, task
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from live import clock

logger = logging.getLogger("imago.jobs")

PURGE_AT = (3, 17)  # the daily purge, at 03:17 UTC


def next_run(job: Task, *, at: datetime) -> bool:
    """Queue this job's next run at `at`, unless a run is waiting already. True if queued."""
    # Queued, due or not (the backend's ready() means "due now").
    waiting = DBTaskResult.objects.filter(task_path=job.module_path, status=TaskResultStatus.READY)
    if waiting.exists():
        return False
    job.using(run_after=at).enqueue()
    return True


def next_purge_time(now: datetime) -> datetime:
    hour, minute = PURGE_AT
    at = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


@task()
def purge_daily() -> dict:
    """The daily purge (couples/retention.py), then tomorrow's."""
    from couples.retention import retention_run

    try:
        summary = retention_run(now=clock.now())
    finally:
        next_run(purge_daily, at=next_purge_time(clock.now() + timedelta(minutes=1)))
    return {
        "sessions": summary.sessions,
        "couples_warned": summary.couples_warned,
        "couples_purged": summary.couples_purged,
    }


# Periodic jobs of the apps above register here: (job, first run after `now`).
PERIODIC: list[tuple[Task, object]] = [(purge_daily, next_purge_time)]


def periodic_register(job: Task, first_run) -> None:
    if all(existing is not job for existing, _ in PERIODIC):
        PERIODIC.append((job, first_run))


def periodic_start() -> list[str]:
    """Start every periodic job's chain that isn't waiting already (`manage.py jobs_start`)."""
    now = clock.now()
    started = []
    for job, first_run in PERIODIC:
        if next_run(job, at=first_run(now)):  # type: ignore[operator]
            started.append(job.name)
    return started
