import pytest

from couples.models import Couple
from security.audit import audit
from security.models import AuditEvent


def test_it_records_who_did_what_to_which_object(alex, rf):
    couple = Couple.objects.create(created_by=alex)
    request = rf.get("/", REMOTE_ADDR="203.0.113.9")
    event = audit(action="couple.viewed", actor=alex, target=couple, request=request, n=3)
    assert (event.actor, event.actor_email) == (alex, "alex@example.com")
    assert event.action == "couple.viewed"
    assert (event.target_type, event.target_id) == ("couples.couple", couple.public_id)
    assert event.ip_address == "203.0.113.9" and event.details == {"n": 3}


def test_a_sockets_read_records_the_address_from_its_scope(alex):
    scope = {"type": "websocket", "client": ("203.0.113.7", 50123)}
    assert audit(action="therapist.read", actor=alex, request=scope).ip_address == "203.0.113.7"
    assert audit(action="therapist.read", actor=alex, request={"client": None}).ip_address is None


def test_it_is_append_only(alex):
    event = audit(action="login", actor=alex)
    event.action = "changed"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get().action == "login"
