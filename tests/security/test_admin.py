"""The audit trail in the admin: read-only, searchable by actor; and every admin page of every
app is audited (security/admin.py's mixins)."""

from security.models import AuditEvent


def test_the_audit_trail_is_read_only(root, alex, superuser, client_as):
    client_as(alex)
    event = AuditEvent.objects.filter(action="auth.login", actor=alex).get()
    base = "/admin/security/auditevent/"
    assert root.get(base + "add/").status_code == 403
    assert root.get(f"{base}{event.pk}/delete/").status_code == 403
    page = root.get(f"{base}{event.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    root.post(f"{base}{event.pk}/change/", {"action": "tampered"})
    event.refresh_from_db()
    assert event.action == "auth.login"


def test_the_audit_trail_filters_by_action_and_searches_by_actor(root, alex, sam, client_as):
    client_as(alex)
    client_as(sam)
    body = root.get("/admin/security/auditevent/?q=sam@").content.decode()
    assert "sam@example.com" in body and "alex@example.com" not in body
    body = root.get("/admin/security/auditevent/?action=auth.login").content.decode()
    assert "alex@example.com" in body


def test_every_admin_is_audited():
    from django.contrib import admin

    from security.admin import AuditedAdmin, AuditEventAdmin

    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, AuditedAdmin | AuditEventAdmin), model
