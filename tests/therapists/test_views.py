"""Every therapist view, tried as each role; notes and coaching input; audit; homework."""

import re

import pytest
from django.urls import reverse

from dialogues import services
from dialogues.models import Turn
from safety import services as safety_services
from security.models import AuditEvent
from tests.factories import TherapistFactory, link_with_consent, screen
from tests.helpers import at_mirror, form_token, names, page_token, play, round_moves, text_of
from tests.therapists.conftest import NOT_ALLOWED
from therapists import services as therapist_services
from therapists.forms import LinkCodeForm
from therapists.models import Homework, TherapistNote

pytestmark = pytest.mark.django_db


def session_urls(session) -> dict[str, tuple[str, dict]]:
    """name -> (method, data) for every view about one dialogue."""
    return {
        "console": ("get", {}),
        "transcript": ("get", {}),
        "coach": ("post", {"text": "Slow down", "to": "", "token": form_token()}),
        "rewind": ("post", {"step": "send"}),
        "pause": ("post", {}),
        "resume": ("post", {}),
        "end": ("post", {}),
        "session_note": ("post", {"text": "A note", "token": form_token()}),
    }


COUPLE_VIEWS = {
    "couple": ("get", {}),
    "couple_note": ("post", {"text": "A note", "token": form_token()}),
    "homework_new": ("post", {"title": "One appreciation a day", "token": form_token()}),
    "dialogue_new": ("post", {"kind": "parent_child", "first": "x", "topic": "Childhood"}),
}


def nothing_changed(session) -> None:
    session.refresh_from_db()
    assert session.status == "active"
    assert not Turn.objects.filter(actor_role="facilitator").exists()
    assert not TherapistNote.objects.exists() and not Homework.objects.exists()
    assert not AuditEvent.objects.filter(action="therapist.read").exists()


# --- the permission matrix -------------------------------------------------------------------


@pytest.mark.parametrize("who", NOT_ALLOWED)
def test_every_view_about_a_couple_is_404_for_everyone_but_the_linked_therapist(
    live, pair, roles, who, client_as
):
    client = client_as(roles[who])
    for name, (method, data) in session_urls(live).items():
        url = reverse(f"therapists:{name}", args=[live.public_id])
        response = getattr(client, method)(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 404, (who, name)
        assert live.topic not in response.content.decode()
    for name, (method, data) in COUPLE_VIEWS.items():
        url = reverse(f"therapists:{name}", args=[pair.public_id])
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (who, name)
        assert "Alex" not in response.content.decode()
    nothing_changed(live)


def test_anonymous_is_sent_to_log_in_and_nothing_is_revealed(live, pair, roles, client_as):
    client = client_as(None)
    for name, (method, data) in session_urls(live).items():
        response = getattr(client, method)(
            reverse(f"therapists:{name}", args=[live.public_id]), data
        )
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.get(reverse("therapists:couple", args=[pair.public_id]))
    assert response.status_code == 302
    assert client.get(reverse("therapists:dashboard")).status_code == 302
    nothing_changed(live)


def test_the_linked_therapist_reaches_every_view(live, pair, therapist, alex, sam, client_as):
    at_mirror(live, alex, sam)
    client = client_as(therapist)
    for name, (method, data) in session_urls(live).items():
        if name in ("end",):
            continue
        url = reverse(f"therapists:{name}", args=[live.public_id])
        response = getattr(client, method)(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, name
    for name, (method, data) in COUPLE_VIEWS.items():
        response = getattr(client, method)(
            reverse(f"therapists:{name}", args=[pair.public_id]), data
        )
        # (a dialogue is live and "x" is nobody: the linked therapist is answered, not refused)
        expected = (422,) if name == "dialogue_new" else (200, 302)
        assert response.status_code in expected, name
    response = client.post(reverse("therapists:end", args=[live.public_id]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    live.refresh_from_db()
    assert live.status == "ended"


@pytest.mark.parametrize("who", ["partner", "outsider", "staff"])
def test_the_dashboard_is_404_for_anyone_but_a_therapist(roles, who, client_as):
    assert client_as(roles[who]).get(reverse("therapists:dashboard")).status_code == 404


def test_the_dashboard_shows_linked_couples_only(live, roles, outsider, client_as):
    page = client_as(roles["linked"]).get(reverse("therapists:dashboard")).content.decode()
    assert "Alex &amp; Sam" in page
    assert reverse("therapists:console", args=[live.public_id]) in page
    assert not names(page, "Olly") and not names(page, "Pat")
    for who in ("unlinked", "withdrawn", "one_consent"):
        page = client_as(roles[who]).get(reverse("therapists:dashboard")).content.decode()
        assert not names(page, "Alex") and not names(page, "Sam")
        assert live.public_id not in page
    page = client_as(roles["one_consent"]).get(reverse("therapists:dashboard")).content.decode()
    assert "1 of 2 partners consented" in page


def test_an_unverified_therapist_sees_a_waiting_page_and_cannot_make_codes(roles, client_as):
    client = client_as(roles["unverified"])
    page = client.get(reverse("therapists:dashboard")).content.decode()
    assert "Waiting for verification" in page and "Alex" not in page
    response = client.post(reverse("therapists:code_new"), follow=True)
    assert "isn&#x27;t verified" in response.content.decode()


def test_a_therapist_makes_a_code_and_accepts_an_invitation(therapist, pair, alex, sam, client_as):
    client = client_as(therapist)
    form = LinkCodeForm()
    data = {"token": form.fields["token"].initial}
    page = client.post(reverse("therapists:code_new"), data, follow=True).content.decode()
    [code] = re.findall(r"Your new link code is ([A-Z0-9]{5}-[A-Z0-9]{5})", page)
    page = client.get(reverse("therapists:dashboard")).content.decode()
    assert "A code made" in page and code not in page  # shown once, when made
    link = therapist_services.therapist_invite(
        user=alex, email="dr@example.com", token=form_token()
    )
    page = client.get(reverse("therapists:dashboard")).content.decode()
    assert "Alex invited you" in page
    client.post(reverse("therapists:accept", args=[link.public_id]))
    link.refresh_from_db()
    assert link.therapist == therapist and link.status == "pending"
    therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    page = client.get(reverse("therapists:dashboard")).content.decode()
    assert "Alex &amp; Sam" in page


# --- reading is audited ------------------------------------------------------------------------


def test_opening_the_console_transcript_or_couple_is_audited(live, pair, therapist, client_as):
    client = client_as(therapist)
    client.get(reverse("therapists:console", args=[live.public_id]))
    client.get(reverse("therapists:transcript", args=[live.public_id]))
    client.get(reverse("therapists:couple", args=[pair.public_id]))
    events = AuditEvent.objects.filter(action="therapist.read", actor=therapist).order_by("pk")
    assert [(e.target_id, e.details["what"]) for e in events] == [
        (live.public_id, "console"),
        (live.public_id, "transcript"),
        (pair.public_id, "couple"),
    ]
    assert all(live.topic not in str(e.details) for e in events)


# --- the transcript ------------------------------------------------------------------------------


def test_the_therapists_transcript_is_grouped_like_the_partners(
    live, therapist, alex, sam, client_as
):
    play(
        live,
        [
            *round_moves(alex, sam),
            (sam, "switch_roles", {}),
            *round_moves(sam, alex, gift=""),
            (alex, "go_to_closing", {}),
        ],
    )
    therapist_services.coaching_send(
        session_public_id=live.public_id,
        therapist=therapist,
        text="Well done, both.",
        to="",
        token=form_token(),
    )
    response = client_as(therapist).get(reverse("therapists:transcript", args=[live.public_id]))
    assert response.status_code == 200
    text = text_of(response)
    parts = [
        "The gift agreed",
        "Sam agreed to give Alex: “Wake me at nine?”",
        "Making the appointment",
        "Round 1",
        "Sending: Alex",
        "Receiving: Sam",
        "Round 2",
        "Sending: Sam",
        "Receiving: Alex",
        "Closing",
        "Well done, both.",
    ]
    positions = [text.index(part) for part in parts]
    assert positions == sorted(positions), text
    assert "· Feeling understood" not in response.content.decode()


# --- the console page --------------------------------------------------------------------------


def test_the_console_shows_the_step_machine_and_every_turn(live, therapist, alex, sam, client_as):
    session = at_mirror(live, alex, sam)
    page = client_as(therapist).get(reverse("therapists:console", args=[session.public_id]))
    html = page.content.decode()
    assert "When you sleep in, I feel lonely." in html and "If I got it" in html
    assert 'id="console-state"' in html and "Did they get it?" in html
    assert "Alex (sender)" in html  # whose move
    assert '<option value="send">1. Sending (Alex, sender)</option>' in html
    assert '<option value="mirror">2. Mirroring (Sam, receiver)</option>' in html
    assert f'ws-connect="/ws/therapist/dialogues/{session.public_id}/"' in html
    assert 'name="move"' not in html  # the therapist never gets a partner's move form


def test_coaching_bad_input_gets_a_clear_message_and_changes_nothing(live, therapist, client_as):
    client = client_as(therapist)
    url = reverse("therapists:coach", args=[live.public_id])
    for data, message in [
        ({"text": ""}, "Please write a short message first."),
        ({"text": "x" * 2001}, "under 2,000 characters"),
        ({"text": "Hi", "to": "z"}, "Select a valid choice"),
    ]:
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 422
        assert message in response.content.decode()
    live.refresh_from_db()
    assert live.seq == 2


def test_coaching_is_shown_escaped(live, therapist, alex, client_as):
    client_as(therapist).post(
        reverse("therapists:coach", args=[live.public_id]),
        {"token": form_token(), "text": "<script>x()</script> breathe", "to": "a"},
        HTTP_HX_REQUEST="true",
    )
    page = client_as(alex).get(reverse("dialogues:detail", args=[live.public_id]))
    html = page.content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt; breathe" in html
    assert "<script>x()</script>" not in html
    assert "From your therapist, only you can see this" in html


def test_private_coaching_appears_only_on_its_partners_page_and_transcript(
    live, therapist, alex, sam, client_as
):
    client_as(therapist).post(
        reverse("therapists:coach", args=[live.public_id]),
        {"token": form_token(), "text": "Only for Alex", "to": "a"},
    )
    client_as(therapist).post(
        reverse("therapists:coach", args=[live.public_id]),
        {"token": form_token(), "text": "For both of you", "to": ""},
    )
    for url_name in ("dialogues:detail", "dialogues:transcript"):
        url = reverse(url_name, args=[live.public_id])
        for_alex = client_as(alex).get(url).content.decode()
        for_sam = client_as(sam).get(url).content.decode()
        assert "Only for Alex" in for_alex and "Only for Alex" not in for_sam
        assert "For both of you" in for_alex and "For both of you" in for_sam
        assert 'id="turn-3"' in for_alex and 'id="turn-3"' not in for_sam
    # Sam's page marker still says seq 4: the hidden turn is skipped, not a gap.
    page = client_as(sam).get(reverse("dialogues:detail", args=[live.public_id]))
    assert 'data-seq="4"' in page.content.decode()
    console = client_as(therapist).get(reverse("therapists:console", args=[live.public_id]))
    assert "To Alex only" in console.content.decode()


def test_rewind_over_http_asks_to_confirm_first(live, therapist, alex, sam, client_as):
    session = at_mirror(live, alex, sam)
    client = client_as(therapist)
    url = reverse("therapists:rewind", args=[session.public_id])
    rewinds = Turn.objects.filter(session=session, move="rewind")

    response = client.post(url, {"step": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "Please choose the step" in response.content.decode()
    response = client.post(url, {"step": "ask_more"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "can&#x27;t go back" in response.content.decode()

    # Choosing a step only asks: nothing changes yet.
    response = client.post(url, {"step": "mirror"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Send the dialogue back?" in html and "2. Mirroring (Sam, receiver)" in html
    assert f'name="at" value="{session.step_seq}"' in html and "No, keep going" in html
    assert "<script" not in html and "style=" not in html  # CSP: no inline script or style
    session.refresh_from_db()
    assert session.step == "check" and not rewinds.exists()

    # "No, keep going" changes nothing, and the list is back.
    response = client.post(
        url,
        {"step": "mirror", "cancel": "1", "confirmed": "yes", "at": session.step_seq},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'id="rewind-step"' in response.content.decode()
    session.refresh_from_db()
    assert session.step == "check" and not rewinds.exists()

    # A confirmation from a step the dialogue has left is refused.
    stale = {"step": "mirror", "confirmed": "yes", "at": session.step_seq - 1}
    response = client.post(url, stale, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "moved on" in response.content.decode()
    response = client.post(url, {"step": "mirror", "confirmed": "yes"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    session.refresh_from_db()
    assert session.step == "check" and not rewinds.exists()

    confirmed = {"step": "mirror", "confirmed": "yes", "at": session.step_seq}
    response = client.post(url, confirmed, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.step == "mirror" and rewinds.count() == 1
    page = client_as(sam).get(reverse("dialogues:detail", args=[session.public_id]))
    assert "sent the dialogue back to Mirroring" in page.content.decode()
    # The same confirmation again (a double click, a replay) changes nothing more.
    response = client.post(url, confirmed, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and rewinds.count() == 1


def test_rewind_without_htmx_confirms_on_the_console_page(live, therapist, alex, sam, client_as):
    session = at_mirror(live, alex, sam)
    client = client_as(therapist)
    url = reverse("therapists:rewind", args=[session.public_id])
    response = client.post(url, {"step": "send"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Send the dialogue back?" in html and 'id="transcript"' in html
    response = client.post(url, {"step": "send", "confirmed": "yes", "at": session.step_seq})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.step == "send"


def test_the_rewind_list_names_each_step_once_by_its_place_with_no_default(
    live, therapist, alex, sam, client_as
):
    session = at_mirror(live, alex, sam)
    for who, move in ((alex, "got_it"), (sam, "ask_more"), (alex, "thats_all")):
        services.move_submit(
            session_public_id=session.public_id, user=who, move=move, token=form_token()
        )
    session.refresh_from_db()
    assert session.step == "summary"
    html = client_as(therapist).get(reverse("therapists:console", args=[session.public_id]))
    select = re.search(r'<select id="rewind-step"[^>]*>(.*?)</select>', html.content.decode())
    assert select is not None and "required" in select.group(0)
    options = re.findall(r'<option value="(\w*)"( selected)?>([^<]*)</option>', select.group(1))
    assert options == [
        ("", " selected", "Choose a step…"),
        ("send", "", "1. Sending (Alex, sender)"),
        ("mirror", "", "2. Mirroring (Sam, receiver)"),
        ("check", "", "3. Did they get it? (Alex, sender)"),
        ("ask_more", "", "4. Is there more? (Sam, receiver)"),
        ("more", "", "5. Is there more? (Alex, sender)"),
    ]


def test_coaching_keeps_whom_it_was_for_and_says_who_will_read_it(live, therapist, client_as):
    client = client_as(therapist)
    url = reverse("therapists:coach", args=[live.public_id])
    console = client.get(reverse("therapists:console", args=[live.public_id])).content.decode()
    assert re.search(r'value=""[^>]*checked', console)  # at first: both partners
    assert "Alex and Sam will both read this." in console and ">Send to both<" in console

    token = page_token(console, url)
    response = client.post(
        url, {"text": "Alex, breathe", "to": "a", "token": token}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "Sent privately to Alex." in html
    assert re.search(r'value="a"[^>]*checked', html) and not re.search(
        r'value=""[^>]*checked', html
    )
    assert "Only Alex will read this; Sam won&#x27;t see it." in html
    assert ">Send to Alex only<" in html and "coach-form private" in html
    assert "Alex, breathe" not in html.split("</textarea>")[0].split("<textarea")[1]  # emptied
    # A reload (or the page without htmx) keeps the choice too.
    console = client.get(reverse("therapists:console", args=[live.public_id])).content.decode()
    assert re.search(r'value="a"[^>]*checked', console)
    # A message that is refused keeps what was chosen.
    token = page_token(console, url)
    response = client.post(url, {"text": "", "to": "b", "token": token}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert re.search(r'value="b"[^>]*checked', response.content.decode())
    sent = {"text": "Both of you", "to": "", "token": token}
    assert client.post(url, sent, HTTP_HX_REQUEST="true").status_code == 200
    console = client.get(reverse("therapists:console", args=[live.public_id])).content.decode()
    assert re.search(r'value=""[^>]*checked', console)


# --- notes -------------------------------------------------------------------------------------


def test_notes_are_private_to_the_therapist_who_wrote_them(
    live, pair, therapist, alex, sam, roles, client_as
):
    client = client_as(therapist)
    client.post(
        reverse("therapists:session_note", args=[live.public_id]),
        {"token": form_token(), "text": "Sam <b>withdraws</b> when criticised"},
        HTTP_HX_REQUEST="true",
    )
    client.post(
        reverse("therapists:couple_note", args=[pair.public_id]),
        {"token": form_token(), "text": "Couple-level note"},
    )
    assert TherapistNote.objects.count() == 2
    console = client.get(reverse("therapists:console", args=[live.public_id])).content.decode()
    assert "Sam &lt;b&gt;withdraws&lt;/b&gt; when criticised" in console
    couple_page = client.get(reverse("therapists:couple", args=[pair.public_id])).content.decode()
    assert "Couple-level note" in couple_page
    for partner in (alex, sam):
        for url in (
            "/",
            reverse("dialogues:detail", args=[live.public_id]),
            reverse("dialogues:transcript", args=[live.public_id]),
        ):
            html = client_as(partner).get(url).content.decode()
            assert "withdraws" not in html and "Couple-level note" not in html
    # Another therapist, even one linked to the same couple, doesn't see them.
    other = TherapistFactory(email="other@example.com", display_name="Dr. Other")
    link_with_consent(other, alex, sam)
    html = client_as(other).get(reverse("therapists:console", args=[live.public_id]))
    assert "withdraws" not in html.content.decode()


@pytest.mark.parametrize(
    "text,message", [("", "Please write the note first."), ("y" * 2001, "under 2,000 characters")]
)
def test_bad_notes_get_a_clear_message(live, pair, therapist, text, message, client_as):
    client = client_as(therapist)
    response = client.post(
        reverse("therapists:session_note", args=[live.public_id]),
        {"token": form_token(), "text": text},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422 and message in response.content.decode()
    response = client.post(
        reverse("therapists:couple_note", args=[pair.public_id]),
        {"token": form_token(), "text": text},
    )
    assert response.status_code == 422 and message in response.content.decode()
    assert not TherapistNote.objects.exists()


# --- homework ----------------------------------------------------------------------------------


def test_homework_assigned_shown_and_marked_done(
    pair, therapist, link, alex, sam, outsider, client_as
):
    client = client_as(therapist)
    response = client.post(
        reverse("therapists:homework_new", args=[pair.public_id]),
        {
            "token": form_token(),
            "title": "Appreciate <i>daily</i>",
            "instructions": "One a day.",
            "dialogue_kind": "appreciation",
            "due_date": "2999-01-01",
        },
    )
    assert response.status_code == 302
    homework = Homework.objects.get()
    home = client_as(sam).get("/").content.decode()
    assert "Appreciate &lt;i&gt;daily&lt;/i&gt;" in home and "Mark as done" in home
    assert (
        client_as(outsider)
        .post(reverse("therapists:homework_done", args=[homework.public_id]))
        .status_code
        == 404
    )
    assert (
        client_as(therapist)
        .post(reverse("therapists:homework_done", args=[homework.public_id]))
        .status_code
        == 404
    )
    client_as(sam).post(reverse("therapists:homework_done", args=[homework.public_id]))
    homework.refresh_from_db()
    assert homework.is_done and homework.done_by == sam
    page = client.get(reverse("therapists:couple", args=[pair.public_id])).content.decode()
    assert "Done" in page
    dash = client.get(reverse("therapists:dashboard")).content.decode()
    assert "0 open of 1" in dash


def test_bad_homework_changes_nothing(pair, therapist, link, client_as):
    client = client_as(therapist)
    url = reverse("therapists:homework_new", args=[pair.public_id])
    for data in (
        {"title": ""},
        {"title": "x" * 121},
        {"title": "ok", "dialogue_kind": "zz"},
        {"title": "ok", "due_date": "2000-01-01"},
        {"title": "ok", "due_date": "soon"},
    ):
        assert client.post(url, data).status_code == 422
    assert not Homework.objects.exists()


def test_a_completed_dialogue_of_the_right_kind_completes_homework(
    pair, therapist, link, alex, sam
):
    from dialogues import services

    wrong = therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Intentional",
        dialogue_kind="intentional",
        token=form_token(),
    )
    right = therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Appreciate",
        dialogue_kind="appreciation",
        token=form_token(),
    )
    session = services.dialogue_start(user=alex, kind="appreciation", topic="Thanks")
    # Drive the appreciation dialogue to its end with whatever each step allows.
    from dialogues import protocol

    for _ in range(40):
        session.refresh_from_db()
        if not session.is_live:
            break
        state = session.protocol_state
        slot = sorted(protocol.whose_turn(state))[0]
        move = protocol.allowed_moves(state, slot)[0]
        payload = {}
        for f in move.fields:
            payload[f.name] = {"text": "Thank you", "rating": "5", "time": "15"}.get(f.name, "")
        services.move_submit(
            session_public_id=session.public_id,
            user=session.partner_in(slot),
            move=move.name,
            payload=payload,
            at=session.step_seq,
            token=form_token(),
        )
    session.refresh_from_db()
    assert session.status == "completed"
    right.refresh_from_db()
    wrong.refresh_from_db()
    assert right.is_done and right.done_with == session and not wrong.is_done


def test_the_partners_own_pages_stay_404_for_a_linked_therapist(live, therapist, client_as):
    client = client_as(therapist)
    for name in ("dialogues:detail", "dialogues:transcript"):
        assert client.get(reverse(name, args=[live.public_id])).status_code == 404
    response = client.post(
        reverse("dialogues:move", args=[live.public_id]),
        {"token": form_token(), "move": "send", "text": "Not mine to send", "at": 2},
    )
    assert response.status_code == 404
    live.refresh_from_db()
    assert live.seq == 2


# --- safety questions on the couple page ---------------------------------------------------------


def test_the_couple_page_shows_needs_attention_and_only_shared_answers(
    pair, therapist, link, alex, sam, client_as
):
    dashboard = client_as(therapist).get(reverse("therapists:dashboard")).content.decode()
    assert "Safety questions need attention" not in dashboard
    screen(alex, concern=True)  # "afraid: often"
    dashboard = client_as(therapist).get(reverse("therapists:dashboard")).content.decode()
    assert "Safety questions need attention" in dashboard
    url = reverse("therapists:couple", args=[pair.public_id])
    page = client_as(therapist).get(url).content.decode()
    assert "Needs attention" in page and "No concerns" in page
    assert "answers not shared" in page and "Often" not in page
    assert "isn't appropriate while there is abuse" in page
    assert not AuditEvent.objects.filter(details__what="safety_answers").exists()

    safety_services.screening_set_shared(user=alex, shared=True)
    page = client_as(therapist).get(url).content.decode()
    assert "Answers Alex chose to share with you" in page and "Often" in page
    assert "Answers Sam chose" not in page
    event = AuditEvent.objects.get(details__what="safety_answers")
    assert (event.actor, event.target_id) == (therapist, alex.public_id)
    assert "often" not in str(event.details).lower()
    # Neither partner's own pages show the other's status.
    for partner in (alex, sam):
        home = client_as(partner).get("/").content.decode()
        assert "Needs attention" not in home and "Often" not in home


def test_safety_status_is_for_the_linked_therapist_only(pair, roles, client_as):
    screen(roles["partner"], concern=True)
    url = reverse("therapists:couple", args=[pair.public_id])
    for who in NOT_ALLOWED:
        response = client_as(roles[who]).get(url)
        assert response.status_code == 404 and "Needs attention" not in response.content.decode()


def test_a_therapists_home_page_is_their_dashboard(live, therapist, client_as):
    home = client_as(therapist).get("/").content.decode()
    assert "Your therapist account" in home and "Linked couples" in home
    assert "Alex &amp; Sam" in home
    assert reverse("therapists:console", args=[live.public_id]) in home
    assert f'href="{reverse("therapists:dashboard")}"' in home  # "Your couples" in the nav
    # Live, on the home page as on /therapist/: the dashboard's socket.
    for page in (home, client_as(therapist).get(reverse("therapists:dashboard")).content.decode()):
        assert page.count('ws-connect="/ws/therapist/dashboard/"') == 1
        assert 'id="dashboard-couples"' in page and 'id="dashboard-links"' in page


def test_an_unverified_therapists_home_has_no_dashboard(roles, client_as):
    home = client_as(roles["never_verified"]).get("/").content.decode()
    assert "Waiting for verification" in home and "Linked couples" not in home
    assert "Make a link code" not in home
    assert "/ws/therapist/dashboard/" not in home  # its socket would be refused


# --- starting a dialogue for the couple ------------------------------------------------------


def test_the_linked_therapist_starts_a_parent_child_dialogue_and_opens_the_console(
    link, pair, alex, sam, therapist, client_as
):
    client = client_as(therapist)
    page = text_of(client.get(reverse("therapists:couple", args=[pair.public_id])))
    assert "Start a dialogue with them now" in page
    response = client.post(
        reverse("therapists:dialogue_new", args=[pair.public_id]),
        {"kind": "parent_child", "first": sam.public_id, "topic": "Growing up"},
    )
    session = pair.dialogue_sessions.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("therapists:console", args=[session.public_id])
    assert session.kind == "parent_child" and session.partner_a == sam
    ask = session.turns.get()
    assert ask.actor == therapist and ask.actor_role == "facilitator"
    assert AuditEvent.objects.filter(action="therapist.dialogue_started").count() == 1
    # Alex, who listens first, is asked whether now is a good time; the request names Dr.
    alex_page = text_of(client_as(alex).get(reverse("dialogues:detail", args=[session.public_id])))
    assert "Is now a good time?" in alex_page and "(therapist)" in alex_page


def test_the_kinds_best_with_a_therapist_come_first_on_the_form(link, pair, therapist, client_as):
    html = client_as(therapist).get(reverse("therapists:couple", args=[pair.public_id]))
    options = re.findall(
        r'<option value="([a-z_]+)"', html.content.decode().split("facilitated-start")[1]
    )
    assert options[0] == "parent_child"


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"kind": "parent_child", "first": "nobody", "topic": "Growing up"},
            "Select a valid choice",
        ),
        (
            {"kind": "shouting", "first": "SAM", "topic": "Growing up"},
            "Please choose one of the kinds",
        ),
        ({"kind": "parent_child", "first": "SAM", "topic": ""}, "Please name what the dialogue"),
    ],
)
def test_a_bad_start_gets_a_clear_message_and_starts_nothing(
    link, pair, sam, therapist, client_as, data, message
):
    data = {**data, "first": sam.public_id if data["first"] == "SAM" else data["first"]}
    response = client_as(therapist).post(
        reverse("therapists:dialogue_new", args=[pair.public_id]), data
    )
    assert response.status_code == 422 and message in text_of(response)
    assert not pair.dialogue_sessions.exists()


def test_no_second_dialogue_while_one_is_live(live, pair, sam, therapist, client_as):
    response = client_as(therapist).post(
        reverse("therapists:dialogue_new", args=[pair.public_id]),
        {"kind": "parent_child", "first": sam.public_id, "topic": "Growing up"},
    )
    assert response.status_code == 422 and "already have a dialogue in progress" in text_of(
        response
    )
    assert pair.dialogue_sessions.count() == 1


def test_a_partner_of_another_couple_cannot_be_made_to_go_first(link, pair, outsider, therapist):
    with pytest.raises(therapist_services.TherapistError):
        therapist_services.dialogue_start_facilitated(
            therapist=therapist, couple=pair, first=outsider, kind="parent_child", topic="x"
        )
    assert not pair.dialogue_sessions.exists()
