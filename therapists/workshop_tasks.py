"""The workshop's background job: one per room-wide change (a practice started for every
present couple, every practice paused for the group or resumed), never one per couple from
the presenter's browser. Run by `manage.py db_worker`; safe to run twice."""

from __future__ import annotations

from django_tasks import task

from therapists import workshop_services as services


@task()
def workshop_job(action: str, workshop_id: int, run_id: int | None = None) -> int:
    if action == "practice" and run_id is not None:
        return services.practice_run(run_id=run_id).started
    if action == "pause":
        return services.practices_pause(workshop_id=workshop_id)
    if action == "resume":
        return services.practices_resume(workshop_id=workshop_id)
    if action == "notify" and run_id is not None:  # here the id is the segment's
        return services.segment_notify(workshop_id=workshop_id, segment_id=run_id)
    raise ValueError(f"unknown workshop job {action!r}")


def workshop_job_enqueue(action: str, workshop_id: int, run_id: int | None = None) -> None:
    workshop_job.enqueue(action, workshop_id, run_id)


services.job_queue_register(workshop_job_enqueue)
