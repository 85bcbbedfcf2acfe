"""security 0001: the audit trail and the CSP reports move from couples/ with their tables and
rows, and their content types (so permissions and admin history) follow them; backwards too."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_MOVE = [("couples", "0019_web_push"), ("security", None)]


def _migrate(targets):
    executor = MigrationExecutor(connection)  # a fresh graph each time, as `migrate` reads it
    executor.migrate(targets)
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def _leaves():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_the_move_migrates_in_place_with_its_audit_trail_and_reports():
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    old = _migrate(BEFORE_THE_MOVE)
    alex = old.get_model("couples", "User").objects.create(
        email="alex@example.com", display_name="Alex", public_id="a1"
    )
    old.get_model("couples", "AuditEvent").objects.create(
        actor=alex, actor_email="alex@example.com", action="auth.login", ip_address="192.0.2.1"
    )
    old.get_model("couples", "CspReport").objects.create(
        directive="script-src", blocked="inline", document="/dialogues/<id>/", count=3
    )
    for model in ("auditevent", "cspreport"):
        kind, _ = ContentType.objects.get_or_create(app_label="couples", model=model)
        Permission.objects.get_or_create(
            content_type=kind, codename=f"view_{model}", defaults={"name": f"Can view {model}"}
        )

    _migrate(_leaves())

    from security.models import AuditEvent, CspReport

    event = AuditEvent.objects.get()
    assert (event.actor.email, event.action, event.ip_address) == (
        "alex@example.com",
        "auth.login",
        "192.0.2.1",
    )
    report = CspReport.objects.get()
    assert (report.directive, report.blocked, report.document, report.count) == (
        "script-src",
        "inline",
        "/dialogues/<id>/",
        3,
    )
    with connection.cursor() as cursor:  # the same tables, not copies
        cursor.execute("SELECT COUNT(*) FROM couples_auditevent")
        assert cursor.fetchone() == (1,)
    assert set(
        ContentType.objects.filter(app_label="security").values_list("model", flat=True)
    ) >= {"auditevent", "cspreport"}
    assert not ContentType.objects.filter(
        app_label="couples", model__in=["auditevent", "cspreport"]
    ).exists()
    assert Permission.objects.filter(
        content_type__app_label="security", codename="view_auditevent"
    ).exists()

    # Backwards: the rows stay, the content types go back to couples; then forward again.
    old = _migrate(BEFORE_THE_MOVE)
    assert old.get_model("couples", "AuditEvent").objects.get().action == "auth.login"
    assert old.get_model("couples", "CspReport").objects.get().count == 3
    assert ContentType.objects.filter(app_label="couples", model="auditevent").exists()
    assert not ContentType.objects.filter(app_label="security", model="auditevent").exists()
    _migrate(_leaves())
    assert AuditEvent.objects.count() == CspReport.objects.count() == 1
