"""Every therapist-side write saves once, however often its form is posted.

Like a move, each of these forms carries a one-time `token` (a hidden input made when the
form is shown): a replayed or double-clicked post finds what the first one saved and saves
nothing again; a partial unique constraint in the database backs it. A new form (a new
token) saves a new one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.test import Client

from couples.models import FORM_OUT_OF_DATE, Couple, User
from dialogues import services as dialogue_services
from dialogues.models import DialogueSession, Turn
from safety import services as safety_services
from tests.helpers import at_once, form_token, page_token, text_of
from therapists import services as therapist_services
from therapists.models import Homework, TherapistLink, TherapistNote

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and real threads"
)

THERAPIST_EMAIL = "dr.new@example.com"


@dataclass(frozen=True)
class Write:
    """One form: who posts it, where, what, and the rows it saves."""

    who: str  # "therapist" or "alex"
    url: Callable[[Couple, DialogueSession], str]
    data: dict[str, str]
    saved: Callable[[], QuerySet]
    repeatable: bool = True  # a second form (new token) saves a second row


WRITES = {
    "coaching": Write(
        "therapist",
        lambda c, s: f"/therapist/dialogues/{s.public_id}/coach/",
        {"text": "Take a breath, both of you.", "to": ""},
        lambda: Turn.objects.filter(kind=Turn.Kind.COACHING),
    ),
    "private coaching": Write(
        "therapist",
        lambda c, s: f"/therapist/dialogues/{s.public_id}/coach/",
        {"text": "Slow down a little.", "to": "a"},
        lambda: Turn.objects.filter(kind=Turn.Kind.COACHING),
    ),
    "note on the couple": Write(
        "therapist",
        lambda c, s: f"/therapist/couples/{c.public_id}/notes/",
        {"text": "Both calmer this week."},
        lambda: TherapistNote.objects.all(),
    ),
    "note in the console": Write(
        "therapist",
        lambda c, s: f"/therapist/dialogues/{s.public_id}/notes/",
        {"text": "Good mirroring."},
        lambda: TherapistNote.objects.all(),
    ),
    "homework": Write(
        "therapist",
        lambda c, s: f"/therapist/couples/{c.public_id}/homework/",
        {"title": "Appreciations", "instructions": "One a day.", "dialogue_kind": ""},
        lambda: Homework.objects.all(),
    ),
    "link code": Write(
        "therapist",
        lambda c, s: "/therapist/codes/new/",
        {},
        lambda: TherapistLink.objects.filter(code_hash__isnull=False),
    ),
    "inviting a therapist": Write(
        "alex",
        lambda c, s: "/couple/therapist/invite/",
        {"email": THERAPIST_EMAIL},
        lambda: TherapistLink.objects.filter(invited_email=THERAPIST_EMAIL),
        repeatable=False,  # the same therapist again is refused ("already invited")
    ),
}


@pytest.fixture
def live(pair, alex, sam, therapist) -> DialogueSession:
    """The therapist is linked with both consents; Alice and Bob are in a live dialogue."""
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    therapist_services.link_code_redeem(user=alex, code=link.code)
    therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    for person in (alex, sam):
        safety_services.screening_save(user=person, answers={"afraid": "no"})
        safety_services.screening_set_ready(user=person, ready=True)
    session = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Money")
    dialogue_services.move_submit(
        session_public_id=session.public_id, user=sam, move="accept_now", token=form_token()
    )
    return session


def _post(client: Client, write: Write, live: DialogueSession, token: str | None, **headers):
    """`write`'s form posted with `token` (None: without a token field at all)."""
    data = write.data if token is None else {**write.data, "token": token}
    return client.post(write.url(live.couple, live), data, **headers)


OUT_OF_DATE = str(FORM_OUT_OF_DATE)


def _count(write: Write) -> int:
    return write.saved().count()


@pytest.mark.parametrize("name", WRITES)
def test_a_replayed_form_saves_once(name, live, client_as, request):
    write = WRITES[name]
    client = client_as(request.getfixturevalue(write.who))
    before = _count(write)
    first = _post(client, write, live, "form-1")
    assert first.status_code in (200, 302), first.status_code
    assert _count(write) == before + 1
    replay = _post(client, write, live, "form-1")
    assert (replay.status_code, replay.get("Location")) == (
        first.status_code,
        first.get("Location"),
    )
    assert _count(write) == before + 1, "a replayed form saved again"
    if write.repeatable:
        _post(client, write, live, "form-2")
        assert _count(write) == before + 2, "a new form must save a new one"


@pytest.mark.parametrize(
    "page, who",
    [
        ("/therapist/couples/{couple}/", "therapist"),
        ("/therapist/dialogues/{session}/", "therapist"),
        ("/therapist/", "therapist"),
        ("/", "alex"),
    ],
)
def test_every_form_is_shown_with_a_fresh_token(page, who, live, client_as, request):
    client = client_as(request.getfixturevalue(who))
    url = page.format(couple=live.couple.public_id, session=live.public_id)
    seen = []
    for _ in range(2):
        body = client.get(url).content.decode()
        tokens = re.findall(r'name="token" value="([^"]+)"', body) + re.findall(
            r'value="([^"]+)" name="token"', body
        )
        assert tokens, f"no form token on {url}"
        assert all(len(t) >= 16 for t in tokens)
        seen.append(tokens)
    assert not set(seen[0]) & set(seen[1]), "each showing of a form has its own token"


def test_the_console_shows_a_new_token_after_each_message(live, therapist, client_as):
    client = client_as(therapist)
    url = f"/therapist/dialogues/{live.public_id}/coach/"
    response = client.post(
        url, {"text": "Hello", "to": "", "token": "form-1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    [token] = re.findall(r'name="token" value="([^"]+)"', response.content.decode())
    assert token != "form-1"
    failed = client.post(url, {"text": "", "to": "", "token": "form-2"}, HTTP_HX_REQUEST="true")
    assert failed.status_code == 422
    assert 'name="token" value="form-2"' in failed.content.decode()  # nothing saved: same form


def test_the_database_refuses_a_second_row_with_one_token(live, therapist, pair):
    for model, fields in [
        (TherapistNote, {"therapist": therapist, "couple": pair, "text": "n"}),
        (Homework, {"therapist": therapist, "couple": pair, "title": "h"}),
        (TherapistLink, {"created_by": therapist, "therapist": therapist}),
    ]:
        model.objects.create(**fields)  # rows without a token are not limited
        model.objects.create(**fields)
        model.objects.create(**fields, client_token="t")
        with pytest.raises(IntegrityError), transaction.atomic():
            model.objects.create(**fields, client_token="t")


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", WRITES)
def test_ten_identical_posts_at_once_save_one(name, live, client_as, request):
    write = WRITES[name]
    person: User = request.getfixturevalue(write.who)
    clients = [client_as(person) for _ in range(10)]
    before = _count(write)
    results = at_once(*[lambda c=c: _post(c, write, live, "same-form") for c in clients])
    assert all(not isinstance(r, Exception) for r in results), results
    assert {r.status_code for r in results} <= {200, 302}, [r.status_code for r in results]
    assert _count(write) == before + 1, f"{_count(write) - before} saved"


@pytest.mark.parametrize("token", ["<b>x</b>", "with space", "nul\x00byte", "é" * 10])
@pytest.mark.parametrize("name", WRITES)
def test_a_form_token_that_was_never_ours_is_refused_and_saves_nothing(
    name, token, live, client_as, request
):
    """As a move's form: anything `secrets.token_urlsafe` can't have made is refused with a
    clear message (a NUL byte already at the door: 400), not cut or stored as it came."""
    write = WRITES[name]
    client = client_as(request.getfixturevalue(write.who))
    before = _count(write)
    response = _post(client, write, live, token)
    if "\x00" in token:
        assert response.status_code == 400
    else:
        if response.status_code == 302:  # a form without htmx: back to its page, which says why
            response = client.get(response["Location"])
        else:
            assert response.status_code == 422
        assert "please reload the page" in response.content.decode().lower()
    assert _count(write) == before


@pytest.mark.parametrize("token", [None, "", "   "], ids=["no field", "empty", "blank"])
@pytest.mark.parametrize("name", WRITES)
def test_a_post_without_its_form_token_is_refused_with_a_clear_message_and_saves_nothing(
    name, token, live, client_as, request
):
    """Without its token a post can't be told from its own double-click or replay, so every
    write form requires one: refused like a stale form, saying so (never a 500)."""
    write = WRITES[name]
    client = client_as(request.getfixturevalue(write.who))
    before = _count(write)
    response = _post(client, write, live, token)
    if response.status_code == 302:  # a form without htmx: back to its page, which says why
        response = client.get(response["Location"])
    else:
        assert response.status_code == 422
    assert OUT_OF_DATE in text_of(response)
    assert _count(write) == before


def test_coaching_refused_for_want_of_a_token_comes_back_with_a_new_one_that_sends(
    live, therapist, client_as
):
    """The form shown again keeps what the therapist wrote and carries a fresh token, so
    sending again works (the same form without one would be refused for ever)."""
    client = client_as(therapist)
    url = f"/therapist/dialogues/{live.public_id}/coach/"
    sent = {"text": "Take your time.", "to": ""}
    refused = client.post(url, sent, HTTP_HX_REQUEST="true")
    assert refused.status_code == 422 and OUT_OF_DATE in text_of(refused)
    assert "Take your time." in refused.content.decode()
    token = page_token(refused.content.decode(), url)
    again = client.post(url, {**sent, "token": token}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "Sent to both partners." in text_of(again)
    assert Turn.objects.filter(kind=Turn.Kind.COACHING).count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["coaching", "private coaching"])
def test_fifteen_identical_coaching_posts_save_one_with_their_token_and_none_without(
    name, live, therapist, client_as
):
    """Fifteen identical messages sent at the same moment from the console (htmx, as its form
    posts): without a token each is refused, saying why, and nothing is saved; with the same
    token exactly one is."""
    write = WRITES[name]
    clients = [client_as(therapist) for _ in range(15)]
    before = _count(write)

    def post(client: Client, token: str | None):
        return lambda: _post(client, write, live, token, HTTP_HX_REQUEST="true")

    refused = at_once(*[post(c, None) for c in clients])
    assert all(not isinstance(r, Exception) for r in refused), refused
    assert [r.status_code for r in refused] == [422] * 15
    assert all(OUT_OF_DATE in text_of(r) for r in refused)
    assert _count(write) == before

    token = form_token()  # one showing of the form, sent fifteen times
    sent = at_once(*[post(c, token) for c in clients])
    assert all(not isinstance(r, Exception) for r in sent), sent
    assert [r.status_code for r in sent] == [200] * 15
    assert _count(write) == before + 1, f"{_count(write) - before} saved"
