"""Small helpers for tests: reading responses and emails, a login cookie for sockets and
browsers, moving a dialogue along, running calls at once."""

from __future__ import annotations

import html
import re
import secrets

from django.http import HttpResponse


def text_of(response: HttpResponse) -> str:
    """The page's visible text: tags dropped, entities decoded, whitespace squeezed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def names(text: str, word: str) -> bool:
    """Whether `word` (a person's name) stands on its own in `text`, not as letters inside a
    random token: pages carry public ids and form tokens (url-safe base64), and a short name
    such as "Sam" turns up inside one often enough to fail a suite now and then."""
    return re.search(rf"(?<![A-Za-z0-9_-]){re.escape(word)}(?![A-Za-z0-9_-])", text) is not None


def login_cookie(user) -> str:
    """The value of a `sessionid` cookie logged in as `user`: for sockets, browsers and
    servers, which can't use a test Client (over HTTP, tests use the client_as fixture)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def at_mirror(session, alex, sam):
    """Alex sends, Sam mirrors: the dialogue is at "check" (rewind targets: send, mirror)."""
    from dialogues import services

    session.refresh_from_db()
    services.move_submit(
        session_public_id=session.public_id,
        user=alex,
        move="send",
        payload={"text": "When you sleep in, I feel lonely."},
        at=session.step_seq,
        token=form_token(),
    )
    session.refresh_from_db()
    services.move_submit(
        session_public_id=session.public_id,
        user=sam,
        move="mirror",
        payload={"text": "If I got it, you feel lonely."},
        at=session.step_seq,
        token=form_token(),
    )
    session.refresh_from_db()
    return session


def round_moves(sender, receiver, *, gift: str = "Wake me at nine?"):
    """(who, move, payload) for one whole round of an intentional dialogue, from "send" to
    "switch or close"; with `gift`, the sender asks for two things and the receiver gives
    that one (without, no requests)."""
    moves = [
        (sender, "send", {"text": f"{sender.display_name}: I feel lonely on Sundays."}),
        (receiver, "mirror", {"text": "You feel lonely on Sundays."}),
        (sender, "got_it", {}),
        (receiver, "ask_more", {}),
        (sender, "thats_all", {}),
        (receiver, "summary", {"text": "Sundays feel lonely."}),
        (sender, "got_it_all", {}),
        (receiver, "validate", {"text": "That makes sense."}),
        (sender, "acknowledge", {"text": ""}),
        (receiver, "empathize", {"text": "Lonely, sad.", "feelings": ["lonely", "sad"]}),
        (sender, "confirm", {}),
    ]
    if gift:
        moves.append((sender, "make_requests", {"items": ["Breakfast on Sunday?", gift]}))
        moves.append((receiver, "give", {"choice": "1"}))
    else:
        moves.append((sender, "skip_requests", {}))
    return moves


def move(
    session, user, name: str, *, token: str | None = None, at="current", checkin=None, **payload
):
    """One move by `user` through the service, with its own form token, made at the step the
    session is at (or at `at`, to replay a stale form), with the starting move's `checkin` if
    given; the session is read again after."""
    from dialogues import services

    session.refresh_from_db()
    result = services.move_submit(
        session_public_id=session.public_id,
        user=user,
        move=name,
        payload=payload,
        at=session.step_seq if at == "current" else at,
        token=form_token() if token is None else token,
        checkin=checkin,
    )
    session.refresh_from_db()
    return result


def play(session, moves) -> None:
    """Make the moves, each with a form made for the step it is at."""
    for user, name, payload in moves:
        move(session, user, name, **payload)


def login_url(next_path: str) -> str:
    from urllib.parse import quote

    return f"/accounts/login/?next={quote(next_path)}"


def first_link(text: str) -> str:
    """The first http(s) link in an email's text."""
    match = re.search(r"https?://[^\s<>\"']+", text)
    if not match:
        raise AssertionError(f"No link in this email:\n{text}")
    return match.group(0)


def verification_code(text: str) -> str:
    """allauth's code in an email: a line of its own of capitals and digits, e.g. "TPHK-JGWV"."""
    match = re.search(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*)\s*$", text, re.MULTILINE)
    if not match:
        raise AssertionError(f"No code in this email:\n{text}")
    return match.group(1)


def at_once(*calls):
    """Run the calls at the same moment in threads; return what each returned or raised."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def form_token() -> str:
    """A fresh one-time form token, as each showing of a write form carries (every write that
    takes one requires it)."""
    return secrets.token_urlsafe(16)


def forms_posting_to(page: str, action: str) -> list[str]:
    """The forms on a rendered page (or fragment) that post to `action`, as markup."""
    return [
        form
        for form in re.findall(r"<form\b.*?</form>", page, re.DOTALL)
        if re.search(rf'\saction="{re.escape(action)}"', form)
    ]


def token_in_form(form: str) -> str | None:
    """The one-time token a form's markup carries (its hidden `token` field); None if none."""
    field = re.search(r'<input\b[^>]*\bname="token"[^>]*>', form)
    value = re.search(r'\bvalue="([^"]*)"', field[0]) if field else None
    return html.unescape(value[1]) if value and value[1] else None


def page_token(page: str, action: str) -> str:
    """The token a browser would send with the form on `page` posting to `action`."""
    forms = forms_posting_to(page, action)
    assert len(forms) == 1, f"{len(forms)} forms post to {action}"
    token = token_in_form(forms[0])
    assert token, f"the form posting to {action} carries no token"
    return token


def with_form_token(service):
    """`service`, called with a fresh form token unless the call gives one (for a service
    wrapped once and called many times, e.g. over `database_sync_to_async`)."""

    def call(*args, **kwargs):
        kwargs.setdefault("token", form_token())
        return service(*args, **kwargs)

    return call


def page_open(session, person=None) -> str:
    """As if `person`'s page (None: a therapist's console) were open on this dialogue: the
    place its socket holds (live/places.py), so a change is rendered for their audience.
    Returns the place's channel (`places.release` gives it back)."""
    from live import dialogue_group, places

    audience = "facilitator" if person is None else str(person.pk)
    channel = f"test-page-{secrets.token_hex(4)}"
    key = places.listening_key(dialogue_group(session.public_id), audience)
    assert places.claim([(key, places.NO_LIMIT)], channel=channel)
    return channel


def rendered_for(*audiences: str) -> set[str]:
    """The audiences a change is rendered for when only these listen (or made it): all three
    with the shortcut "audiences" off (FAST_PATH, live/fast.py)."""
    from live import fast

    return set(audiences) if fast.on("audiences") else {"a", "b", "facilitator"}
