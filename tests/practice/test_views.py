"""The partners' practice pages as each role, bad input, and nothing of a private list
before its author shares it."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from couples.models import FORM_OUT_OF_DATE
from practice import services
from practice.models import AgreementDay, AgreementThanks, CaringBehaviour, CaringGiven, Exit
from security.encrypted import PREFIX
from tests.conftest import ROLES
from tests.helpers import at_once, form_token, page_token, text_of
from tests.practice.conftest import ALEX_PRIVATE, REQUEST, SAM_ITEM

pytestmark = pytest.mark.django_db

PAGES = ["/between/caring/", "/between/progress/"]
PARTNERS = {"alex", "sam"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_page_is_the_couples_own(client_as, pair, agreement, alex_private, role, page, link):
    response = client_as(role).get(page)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in PARTNERS or role == "outsider":
        assert response.status_code == 200
        body = text_of(response)
        # Alex's private item is Alex's alone; the agreement is Alex and Sam's.
        assert (ALEX_PRIVATE in body) == (role == "alex" and page == PAGES[0])
        if page == PAGES[1]:
            assert (REQUEST in body) == (role in PARTNERS)
    else:  # single, therapists, staff: there is no such page for them
        assert response.status_code == 404


def _posts(agreement, item, given):
    return [
        f"/between/agreements/{agreement.public_id}/done/",
        f"/between/agreements/{agreement.public_id}/thanks/",
        f"/between/agreements/{agreement.public_id}/days/",
        f"/between/caring/items/{item.public_id}/remove/",
        f"/between/caring/items/{item.public_id}/given/",
        f"/between/caring/given/{given.public_id}/acknowledge/",
    ]


@pytest.mark.parametrize("role", ["outsider", "single", "therapist", "staff", "anonymous"])
def test_nobody_outside_the_couple_writes_to_it(client_as, agreement, sam_shared, alex, role, link):
    given = services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    for url in _posts(agreement, sam_shared, given):
        response = client_as(role).post(url, {"text": "hi", "days": "3", "token": "t"})
        expected = 302 if role == "anonymous" else 404
        assert response.status_code == expected, url
    assert not AgreementDay.objects.exists() and not AgreementThanks.objects.exists()
    assert CaringBehaviour.objects.get().removed_at is None
    assert CaringGiven.objects.get().acknowledged_at is None
    agreement.refresh_from_db()
    assert agreement.days == 14


def test_pages_only_answer_their_methods(client_as, pair, agreement):
    alex = client_as("alex")
    assert alex.post("/between/progress/").status_code == 405
    assert alex.get(f"/between/agreements/{agreement.public_id}/done/").status_code == 405


def test_the_home_page_shows_open_agreements_to_both(client_as, agreement):
    sam_home = text_of(client_as("sam").get("/"))
    alex_home = text_of(client_as("alex").get("/"))
    assert f"You agreed to: “{REQUEST}”" in sam_home and "Mark today done" in sam_home
    assert f"Sam agreed to: “{REQUEST}”" in alex_home and "Mark today done" not in alex_home
    assert "one-line appreciation" in alex_home and "one-line appreciation" not in sam_home
    assert REQUEST not in text_of(client_as("outsider").get("/"))


def test_the_giver_marks_today_done_twice_and_it_is_once(client_as, agreement):
    sam = client_as("sam")
    url = f"/between/agreements/{agreement.public_id}/done/"
    assert sam.post(url).status_code == 302
    assert sam.post(url, HTTP_HX_REQUEST="true").status_code == 200
    assert AgreementDay.objects.count() == 1
    assert "Done today" in text_of(sam.get("/"))


def test_the_receiver_cannot_mark_the_givers_days(client_as, agreement):
    response = client_as("alex").post(
        f"/between/agreements/{agreement.public_id}/done/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Only the partner who agreed" in text_of(response)
    assert not AgreementDay.objects.exists()


def test_a_replayed_appreciation_is_saved_once(client_as, agreement):
    alex = client_as("alex")
    url = f"/between/agreements/{agreement.public_id}/thanks/"
    form = {"text": "Thank you for the coffee <b>really</b>", "token": "form-1"}
    assert alex.post(url, form).status_code == 302
    assert alex.post(url, form).status_code == 302
    assert AgreementThanks.objects.count() == 1
    page = client_as("sam").get("/").content.decode()
    assert "&lt;b&gt;really&lt;/b&gt;" in page and "<b>really</b>" not in page


@pytest.mark.parametrize(
    "form", [{}, {"text": ""}, {"text": "x" * 201}, {"text": "ok", "token": "no spaces!"}]
)
def test_bad_appreciations_get_a_clear_422(client_as, agreement, form):
    response = client_as("alex").post(
        f"/between/agreements/{agreement.public_id}/thanks/",
        form,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert not AgreementThanks.objects.exists()


@pytest.mark.parametrize("days", ["", "0", "91", "abc"])
def test_bad_lengths_get_a_clear_422(client_as, agreement, days):
    response = client_as("sam").post(
        f"/between/agreements/{agreement.public_id}/days/", {"days": days}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "number of days" in text_of(response)
    agreement.refresh_from_db()
    assert agreement.days == 14


def test_a_caring_item_posted_twice_is_one(client_as, pair):
    alex = client_as("alex")
    form = {"text": "hold my hand on walks", "token": "abc"}
    assert alex.post("/between/caring/items/", form).status_code == 302
    assert alex.post("/between/caring/items/", form).status_code == 302
    assert CaringBehaviour.objects.count() == 1


# --- a write form's one-time token is required ------------------------------------------------

OUT_OF_DATE = str(FORM_OUT_OF_DATE)
CARING_ADD = "/between/caring/items/"
TOKEN_WRITES = {  # name -> (url, what is posted, what it saves)
    "appreciation": (
        lambda agreement: f"/between/agreements/{agreement.public_id}/thanks/",
        {"text": "Thank you for the coffee"},
        AgreementThanks.objects.all,
    ),
    "caring item": (
        lambda agreement: CARING_ADD,
        {"text": "hold my hand"},
        CaringBehaviour.objects.all,
    ),
    "exit": (lambda agreement: "/between/exits/add/", {"text": "my phone"}, Exit.objects.all),
}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize("token", [None, "", "   "], ids=["no field", "empty", "blank"])
@pytest.mark.parametrize("name", TOKEN_WRITES)
def test_a_write_without_its_form_token_is_refused_with_a_clear_message_and_saves_nothing(
    client_as, agreement, name, token, htmx
):
    url, data, saved = TOKEN_WRITES[name]
    alex = client_as("alex")  # the agreement's receiver: the one who thanks
    posted = data if token is None else {**data, "token": token}
    response = alex.post(url(agreement), posted, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
    if response.status_code == 302:  # the home page without htmx: back home, which says why
        response = alex.get(response["Location"])
    else:
        assert response.status_code in (400, 422)
    assert OUT_OF_DATE in text_of(response)
    assert not saved().exists()


def test_a_caring_item_refused_for_want_of_a_token_is_shown_again_with_a_new_one(client_as, pair):
    """What was written stays, and the form now carries a token: adding it again works."""
    alex = client_as("alex")
    refused = alex.post(CARING_ADD, {"text": "hold my hand"})
    assert refused.status_code == 400 and OUT_OF_DATE in text_of(refused)
    page = refused.content.decode()
    assert 'value="hold my hand"' in page
    again = {"text": "hold my hand", "token": page_token(page, CARING_ADD)}
    assert alex.post(CARING_ADD, again).status_code == 302
    assert list(CaringBehaviour.objects.values_list("text", flat=True)) == ["hold my hand"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL and threads")
@pytest.mark.django_db(transaction=True)
def test_fifteen_identical_caring_items_save_one_with_their_token_and_none_without(client_as, pair):
    """Fifteen identical posts at the same moment: without a token each is refused, saying
    why (400), and nothing is saved; with the same token exactly one is."""
    clients = [client_as("alex") for _ in range(15)]
    item = {"text": "hold my hand on walks"}
    refused = at_once(*[lambda c=c: c.post(CARING_ADD, item) for c in clients])
    assert all(not isinstance(r, Exception) for r in refused), refused
    assert [r.status_code for r in refused] == [400] * 15
    assert all(OUT_OF_DATE in text_of(r) for r in refused)
    assert not CaringBehaviour.objects.exists()

    same = {**item, "token": form_token()}  # one showing of the form, sent fifteen times
    sent = at_once(*[lambda c=c: c.post(CARING_ADD, same) for c in clients])
    assert all(not isinstance(r, Exception) for r in sent), sent
    assert [r.status_code for r in sent] == [302] * 15
    assert CaringBehaviour.objects.count() == 1


@pytest.mark.parametrize("form", [{}, {"text": "  "}, {"text": "x" * 201}])
def test_bad_caring_items_get_a_clear_400(client_as, pair, form):
    response = client_as("alex").post("/between/caring/items/", form)
    assert response.status_code == 400 and "Please write one specific thing" in text_of(response)
    assert not CaringBehaviour.objects.exists()


def test_a_second_caring_behaviour_the_same_day_gets_a_400(client_as, sam_shared, sam):
    other = services.caring_item_add(user=sam, text="sing to me", token=form_token())
    alex = client_as("alex")
    assert alex.post(f"/between/caring/items/{sam_shared.public_id}/given/").status_code == 302
    response = alex.post(f"/between/caring/items/{other.public_id}/given/")
    assert response.status_code == 400 and "already marked" in text_of(response)
    assert CaringGiven.objects.count() == 1


def test_the_week_view_shows_what_each_gave(client_as, sam_shared, alex_private, alex, sam):
    services.caring_list_share(user=alex)
    services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    services.caring_give(user=sam, item_public_id=alex_private.public_id)
    alex_page = text_of(client_as("alex").get("/between/caring/"))
    sam_page = text_of(client_as("sam").get("/between/caring/"))
    assert SAM_ITEM in alex_page and ALEX_PRIVATE in alex_page
    assert "I noticed, thank you" in sam_page
    given = CaringGiven.objects.get(giver=alex)
    client_as("sam").post(f"/between/caring/given/{given.public_id}/acknowledge/")
    assert "Noticed" in text_of(client_as("alex").get("/between/caring/"))


@pytest.mark.parametrize("week", ["2026-13-01", "x", "\u00e9"])
def test_a_bad_week_shows_this_week(client_as, pair, week):
    assert client_as("alex").get("/between/caring/", {"week": week}).status_code == 200


# --- nothing of a private list before it is shared ------------------------------------------


def _everything_as(client_as, role, pair):
    pages = [
        "/",
        "/between/caring/",
        "/between/progress/",
        "/account/data/export/",
        f"/therapist/couples/{pair.public_id}/",
        f"/therapist/couples/{pair.public_id}/progress/",
        "/therapist/",
    ]
    client = client_as(role)
    return " ".join(client.get(p).content.decode() for p in pages)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "alex"])
def test_nothing_of_a_private_list_leaks_to_anyone_else(client_as, pair, alex_private, link, role):
    assert ALEX_PRIVATE not in _everything_as(client_as, role, pair)
    assert ALEX_PRIVATE in _everything_as(client_as, "alex", pair)


def test_once_shared_the_partner_and_linked_therapist_see_it(
    client_as, pair, alex_private, alex, link
):
    services.caring_list_share(user=alex)
    assert ALEX_PRIVATE in text_of(client_as("sam").get("/between/caring/"))
    assert ALEX_PRIVATE in text_of(
        client_as("therapist").get(f"/therapist/couples/{pair.public_id}/")
    )
    assert ALEX_PRIVATE not in _everything_as(client_as, "outsider", pair)
    assert ALEX_PRIVATE not in _everything_as(client_as, "staff", pair)


def test_practice_models_are_not_in_the_admin():
    from django.contrib import admin

    assert [m for m in admin.site._registry if m._meta.app_label == "practice"] == []


# --- the export ---------------------------------------------------------------------------


def test_each_partner_exports_their_agreements_and_lists(
    client_as, agreement, alex_private, sam_shared, alex, sam
):
    services.agreement_thank(
        user=alex, agreement_public_id=agreement.public_id, text="zq-thanks", token=form_token()
    )
    alex_data = client_as("alex").get("/account/data/export/").json()
    sam_data = client_as("sam").get("/account/data/export/").json()
    assert alex_data["agreements"][0]["text"] == REQUEST
    assert alex_data["agreements"][0]["you"] == "received"
    assert sam_data["agreements"][0]["you"] == "gave"
    assert sam_data["agreements"][0]["appreciations"][0]["text"] == "zq-thanks"
    assert alex_data["caring_behaviours"]["my_lists"][0]["items"][0]["text"] == ALEX_PRIVATE
    assert alex_data["caring_behaviours"]["shared_with_me"][0]["items"][0]["text"] == SAM_ITEM
    assert ALEX_PRIVATE not in str(sam_data)  # not shared with Sam


# --- the childhood reflection: private until shared, with each audience separately ----------

ALEX_CHILDHOOD = "zq-alex-childhood-answer"
REFLECTION = "/between/reflection/"
SHARE = "/between/reflection/share/"


@pytest.fixture
def alex_reflection(pair, alex):
    """Alex's reflection, written alone and not shared."""
    return services.reflection_save(
        user=alex,
        answers={"wanted_most": f"{ALEX_CHILDHOOD} to be listened to", "reactions": "went quiet"},
    )


def _therapist_page(client_as, who, pair):
    return client_as(who).get(f"/therapist/couples/{pair.public_id}/")


@pytest.mark.parametrize("role", ROLES)
def test_the_reflection_page_is_each_partners_own_and_private_before_sharing(
    client_as, pair, alex_reflection, link, role
):
    response = client_as(role).get(REFLECTION)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in PARTNERS or role == "outsider":
        assert response.status_code == 200
        body = text_of(response)
        assert (ALEX_CHILDHOOD in body) == (role == "alex")
        if role == "sam":
            assert "Alex hasn't shared a reflection with you" in body
    else:  # single, therapists, staff: there is no such page for them
        assert response.status_code == 404
        assert ALEX_CHILDHOOD not in response.content.decode()


def test_the_partner_reads_it_once_shared_and_no_longer_once_withdrawn(
    client_as, pair, alex_reflection, link, therapist
):
    alex_client, sam_client = client_as("alex"), client_as("sam")
    response = alex_client.post(SHARE, {"audience": "partner", "shared": "1"})
    assert response.status_code == 302
    assert ALEX_CHILDHOOD in text_of(sam_client.get(REFLECTION))
    assert "What you wanted most as a child and didn't get" in text_of(sam_client.get(REFLECTION))
    # shared with the partner only: the therapist still doesn't see it
    assert ALEX_CHILDHOOD not in text_of(_therapist_page(client_as, therapist, pair))
    assert ALEX_CHILDHOOD not in text_of(client_as("outsider").get(REFLECTION))
    alex_client.post(SHARE, {"audience": "partner", "shared": "0"})
    assert ALEX_CHILDHOOD not in text_of(sam_client.get(REFLECTION))


def test_the_linked_therapist_reads_it_once_shared_with_them_and_the_read_is_audited(
    client_as, pair, alex_reflection, link, therapist
):
    from security.models import AuditEvent

    before = text_of(_therapist_page(client_as, therapist, pair))
    assert ALEX_CHILDHOOD not in before and "Neither partner shares a childhood" in before
    services.reflection_share(user=alex_reflection.author, audience="therapist", shared=True)
    page = text_of(_therapist_page(client_as, therapist, pair))
    assert ALEX_CHILDHOOD in page
    assert (
        AuditEvent.objects.filter(
            action="therapist.read", actor=therapist, details__what="childhood_reflection"
        ).count()
        == 1
    )
    # shared with the therapist only: Sam still doesn't see it
    assert ALEX_CHILDHOOD not in text_of(client_as("sam").get(REFLECTION))
    services.reflection_share(user=alex_reflection.author, audience="therapist", shared=False)
    assert ALEX_CHILDHOOD not in text_of(_therapist_page(client_as, therapist, pair))


def test_an_unlinked_therapist_staff_and_another_couple_never_reach_it(
    client_as, pair, alex_reflection, link, staff
):
    for audience in ("partner", "therapist"):
        services.reflection_share(user=alex_reflection.author, audience=audience, shared=True)
    for role in ("unverified_therapist", "staff", "outsider", "single"):
        for url in (REFLECTION, f"/therapist/couples/{pair.public_id}/"):
            response = client_as(role).get(url)
            assert ALEX_CHILDHOOD not in response.content.decode(), (role, url)
    from tests.factories import TherapistFactory

    unlinked = TherapistFactory(email="unlinked@example.com")
    assert _therapist_page(client_as, unlinked, pair).status_code == 404


def test_it_is_in_its_authors_export_and_never_in_the_partners(
    client_as, pair, alex_reflection, link
):
    services.reflection_share(user=alex_reflection.author, audience="partner", shared=True)
    assert ALEX_CHILDHOOD in client_as("alex").get("/account/data/export/").content.decode()
    assert ALEX_CHILDHOOD not in client_as("sam").get("/account/data/export/").content.decode()


def test_it_is_never_logged_and_encrypted_at_rest(client_as, pair, alex, caplog):
    from django.db import connection

    from practice.models import ChildhoodReflection

    caplog.set_level("DEBUG")
    client = client_as("alex")
    client.post(REFLECTION, {"wanted_most": ALEX_CHILDHOOD, "feelings_now": "alone"})
    client.post(SHARE, {"audience": "partner", "shared": "1"})
    client.get(REFLECTION)
    assert ALEX_CHILDHOOD not in caplog.text
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT answers FROM {ChildhoodReflection._meta.db_table}")
        (raw,) = cursor.fetchone()
    assert ALEX_CHILDHOOD not in raw and raw.startswith(PREFIX)
    assert ChildhoodReflection.objects.get().answers["wanted_most"] == ALEX_CHILDHOOD


def test_it_is_not_in_the_admin(root, pair, alex_reflection):
    from django.contrib import admin

    from practice.models import ChildhoodReflection

    assert not admin.site.is_registered(ChildhoodReflection)
    for page in ("/admin/", "/admin/practice/", "/admin/couples/user/"):
        assert ALEX_CHILDHOOD not in root.get(page).content.decode()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"wanted_most": "x" * 2001}, "Please shorten the answers"),
        ({"wanted_most": "a\x00b"}, "Request not accepted"),  # the site refuses NUL bytes
    ],
)
def test_a_bad_answer_gets_a_clear_message_and_saves_nothing(client_as, pair, data, message):
    from practice.models import ChildhoodReflection

    response = client_as("alex").post(REFLECTION, data)
    assert response.status_code == 400 and message in text_of(response)
    assert not ChildhoodReflection.objects.exists()


def test_sharing_needs_something_written_and_a_known_audience(client_as, pair, alex):
    client = client_as("alex")
    response = client.post(SHARE, {"audience": "partner", "shared": "1"})
    assert response.status_code == 400 and "Write at least one answer" in text_of(response)
    services.reflection_save(user=alex, answers={"reactions": "hid"})
    response = client.post(SHARE, {"audience": "everyone", "shared": "1"})
    assert response.status_code == 400 and "Please choose whom" in text_of(response)


def test_saving_or_sharing_twice_is_once(client_as, pair, alex):
    from practice.models import ChildhoodReflection

    client = client_as("alex")
    for _ in range(2):
        client.post(REFLECTION, {"reactions": "hid"})
        client.post(SHARE, {"audience": "therapist", "shared": "1"})
    reflection = ChildhoodReflection.objects.get()
    assert reflection.answers == {"reactions": "hid"}
    first = reflection.shared_with_therapist_at
    client.post(SHARE, {"audience": "therapist", "shared": "1"})
    reflection.refresh_from_db()
    assert reflection.shared_with_therapist_at == first


def test_the_parent_child_dialogue_page_opens_the_shared_reflections(client_as, pair, alex):
    from dialogues import services as dialogue_services

    session = dialogue_services.dialogue_start(user=alex, kind="parent_child", topic="Growing up")
    page = client_as("sam").get(f"/dialogues/{session.public_id}/").content.decode()
    assert f'href="{REFLECTION}#shared-with-you"' in page
    dialogue_services.session_end(session_public_id=session.public_id, user=alex)
    other = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Sundays")
    assert REFLECTION not in client_as("sam").get(f"/dialogues/{other.public_id}/").content.decode()


# --- closing exits: a private list, one exit closed as an agreement the partner sees ----------

ALEX_EXIT = "zq-alex-exit-phone-at-dinner"
EXITS = "/between/exits/"


@pytest.fixture
def alex_exit(pair, alex):
    return services.exit_add(
        user=alex, text=ALEX_EXIT, avoids="the quiet after work", token=form_token()
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_exits_page_is_each_partners_own_and_the_list_private(
    client_as, pair, alex_exit, link, role
):
    response = client_as(role).get(EXITS)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in PARTNERS or role == "outsider":
        assert response.status_code == 200
        body = text_of(response)
        assert (ALEX_EXIT in body) == (role == "alex")
        assert ("the quiet after work" in body) == (role == "alex")
    else:
        assert response.status_code == 404


def test_closing_an_exit_is_an_agreement_the_partner_sees_and_appreciates(
    client_as, pair, alex_exit, sam
):
    from practice.models import Agreement

    alex_client, sam_client = client_as("alex"), client_as("sam")
    response = alex_client.post(
        f"{EXITS}{alex_exit.public_id}/close/", {"how": "lessen", "days": "10"}
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert agreement.giver.display_name == "Alex" and agreement.receiver == sam
    assert (agreement.pledge, agreement.text, agreement.days) == ("lessen", ALEX_EXIT, 10)
    # Sam sees it (on the exits page and at home) but still not the "what I avoid"
    for page in (EXITS, "/"):
        body = text_of(sam_client.get(page))
        assert f"reduce my exit: {ALEX_EXIT}" in body and "the quiet after work" not in body
    response = sam_client.post(
        f"/between/agreements/{agreement.public_id}/thanks/",
        {"text": "Thank you for dinners", "token": form_token()},
    )
    assert response.status_code in (200, 302)
    assert "Thank you for dinners" in text_of(alex_client.get("/"))
    # agreeing twice is once
    alex_client.post(f"{EXITS}{alex_exit.public_id}/close/", {"how": "shut", "days": "10"})
    assert Agreement.objects.count() == 1


def test_only_its_author_closes_or_removes_an_exit(client_as, pair, alex_exit, link):
    from practice.models import Agreement

    for role in ("sam", "outsider"):
        for action in ("close", "remove"):
            response = client_as(role).post(
                f"{EXITS}{alex_exit.public_id}/{action}/", {"how": "shut", "days": "7"}
            )
            assert response.status_code == 404, (role, action)
    for role in ("therapist", "staff", "single"):
        response = client_as(role).post(f"{EXITS}{alex_exit.public_id}/remove/")
        assert response.status_code == 404
    alex_exit.refresh_from_db()
    assert alex_exit.removed_at is None
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"how": "vanish", "days": "7"}, "close the exit or to reduce it"),
        ({"how": "shut", "days": "0"}, "Please choose 1 to 90 days"),
        ({"how": "shut", "days": "many"}, "Please choose 1 to 90 days"),
    ],
)
def test_a_bad_closing_gets_a_clear_message_and_agrees_nothing(
    client_as, pair, alex_exit, data, message
):
    from practice.models import Agreement

    response = client_as("alex").post(f"{EXITS}{alex_exit.public_id}/close/", data)
    assert response.status_code == 400 and message in text_of(response)
    assert not Agreement.objects.exists()


def test_an_exit_needs_a_name_and_one_line(client_as, pair):
    from practice.models import Exit

    client = client_as("alex")
    assert client.post(f"{EXITS}add/", {"text": ""}).status_code == 400
    assert client.post(f"{EXITS}add/", {"text": "x" * 201}).status_code == 400
    assert client.post(f"{EXITS}add/", {"text": "late\nnights"}).status_code == 400
    assert not Exit.objects.exists()
    token = "tok-1"
    for _ in range(2):
        client.post(f"{EXITS}add/", {"text": "Working late", "token": token})
    assert Exit.objects.count() == 1


def test_exits_are_in_their_authors_export_only(client_as, pair, alex_exit):
    assert ALEX_EXIT in client_as("alex").get("/account/data/export/").content.decode()
    assert ALEX_EXIT not in client_as("sam").get("/account/data/export/").content.decode()


def test_the_exits_page_offers_an_exits_dialogue(client_as, pair, alex_exit):
    page = client_as("alex").get(EXITS).content.decode()
    assert 'href="/dialogues/new/?kind=exits"' in page
    start = client_as("alex").get("/dialogues/new/?kind=exits").content.decode()
    assert re.search(r'<input[^>]*value="exits"[^>]*checked', start)


def test_the_partners_list_quotes_their_words_after_one_lead_line(client_as, sam_shared):
    # Sam wrote "… bring me tea" to finish "I feel loved when you …": Alex reads Sam's words
    # quoted, after "Sam feels loved when you:", not run into a sentence in another person.
    page = text_of(client_as("alex").get("/between/caring/"))
    assert "Sam feels loved when you:" in page
    assert f"“{SAM_ITEM}”" in page
    assert "feels loved when you …" not in page
