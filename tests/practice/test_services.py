"""Agreements and caring behaviours: made once, kept by the right partner, idempotent."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from dialogues.models import Turn
from practice import services
from practice.models import (
    Agreement,
    AgreementDay,
    AgreementThanks,
    CaringBehaviour,
    CaringGiven,
    ChildhoodReflection,
)
from practice.services import NotFound, PracticeError
from tests.helpers import at_once, form_token
from tests.practice.conftest import REQUEST, SAM_ITEM, give_gift

pytestmark = pytest.mark.django_db


# --- agreements --------------------------------------------------------------------------------


def test_it_makes_the_chosen_gift_an_agreement_of_the_giver(agreement, alex, sam, pair, settings):
    assert agreement.giver == sam and agreement.receiver == alex and agreement.couple == pair
    assert agreement.text == REQUEST
    assert agreement.days == settings.AGREEMENT_DAYS == 14
    assert agreement.starts_on == timezone.localdate()
    assert agreement.ends_on == agreement.starts_on + datetime.timedelta(days=13)
    assert agreement.gift_turn == Turn.objects.get(move="give")


def test_it_makes_an_agreement_from_a_gift_in_an_intentional_dialogue(pair, alex, sam):
    from dialogues import services as ds

    s = ds.dialogue_start(user=alex, kind="intentional", topic="Evenings")
    steps = [
        (sam, "accept_now", {}),
        (alex, "send", {"text": "When you work late, I feel alone."}),
        (sam, "mirror", {"text": "You feel alone."}),
        (alex, "got_it", {}),
        (sam, "ask_more", {}),
        (alex, "thats_all", {}),
        (sam, "summary", {"text": "You feel alone when I work late."}),
        (alex, "got_it_all", {}),
        (sam, "validate", {"text": "You make sense."}),
        (alex, "acknowledge", {}),
        (sam, "empathize", {"text": "I imagine you feel lonely.", "feelings": ["lonely"]}),
        (alex, "confirm", {}),
        (alex, "make_requests", {"items": ["Text me when you'll be late"]}),
        (sam, "give", {"choice": "0"}),
    ]
    for user, move, payload in steps:
        ds.move_submit(
            session_public_id=s.public_id, user=user, move=move, payload=payload, token=form_token()
        )
    agreement = Agreement.objects.get()
    assert agreement.giver == sam and agreement.text == "Text me when you'll be late"
    assert agreement.session == s


INTENTIONAL_TO_REQUESTS = [
    ("sam", "accept_now", {}),
    ("alex", "send", {"text": "When you work late, I feel alone."}),
    ("sam", "mirror", {"text": "You feel alone."}),
    ("alex", "got_it", {}),
    ("sam", "ask_more", {}),
    ("alex", "thats_all", {}),
    ("sam", "summary", {"text": "You feel alone when I work late."}),
    ("alex", "got_it_all", {}),
    ("sam", "validate", {"text": "You make sense."}),
    ("alex", "acknowledge", {}),
    ("sam", "empathize", {"text": "I imagine you feel lonely.", "feelings": ["lonely"]}),
    ("alex", "confirm", {}),
]


def test_a_gift_chosen_again_after_a_rewind_replaces_the_first(pair, alex, sam, therapist, link):
    from dialogues import services as ds
    from therapists import services as therapist_services

    people = {"alex": alex, "sam": sam}
    s = ds.dialogue_start(user=alex, kind="intentional", topic="Evenings")

    def move(who, name, **payload):
        ds.move_submit(
            session_public_id=s.public_id,
            user=people[who],
            move=name,
            payload=payload,
            token=form_token(),
        )

    for who, name, payload in INTENTIONAL_TO_REQUESTS:
        move(who, name, **payload)
    move("alex", "make_requests", items=["Call me at lunch"])
    move("sam", "give", choice="0")
    therapist_services.session_rewind(
        session_public_id=s.public_id, therapist=therapist, step="requests"
    )
    move("alex", "make_requests", items=["Text me when you'll be late"])
    move("sam", "give", choice="0")
    assert [a.text for a in Agreement.objects.all()] == ["Text me when you'll be late"]


def test_a_gift_heard_twice_makes_one_agreement(agreement):
    turn = agreement.gift_turn
    again = services.agreement_from_gift(None, session=turn.session, turn=turn)
    assert again == agreement and Agreement.objects.count() == 1


def test_it_marks_a_day_once_however_often_it_is_clicked(agreement, sam):
    first = services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
    second = services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
    assert first == second and AgreementDay.objects.count() == 1


def test_only_the_giver_marks_days_done(agreement, alex, outsider, therapist, link):
    with pytest.raises(PracticeError):
        services.agreement_mark_done(user=alex, agreement_public_id=agreement.public_id)
    for someone in (outsider, therapist):
        with pytest.raises(NotFound):
            services.agreement_mark_done(user=someone, agreement_public_id=agreement.public_id)
    assert not AgreementDay.objects.exists()


def test_a_day_outside_the_agreement_or_still_to_come_is_refused(agreement, sam):
    today = timezone.localdate()
    for day in (today + datetime.timedelta(days=1), today - datetime.timedelta(days=1)):
        with pytest.raises(PracticeError):
            services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id, day=day)
    assert not AgreementDay.objects.exists()


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "a\x00b", "../../etc"])
def test_an_unknown_agreement_id_is_not_found(pair, sam, bad):
    with pytest.raises(NotFound):
        services.agreement_mark_done(user=sam, agreement_public_id=bad)


def test_the_receiver_thanks_once_per_form(agreement, alex, sam):
    first = services.agreement_thank(
        user=alex, agreement_public_id=agreement.public_id, text="Thank you!", token="tok-1"
    )
    again = services.agreement_thank(
        user=alex, agreement_public_id=agreement.public_id, text="Thank you!", token="tok-1"
    )
    assert first == again and AgreementThanks.objects.count() == 1
    with pytest.raises(PracticeError):
        services.agreement_thank(
            user=sam, agreement_public_id=agreement.public_id, text="Me?", token=form_token()
        )
    assert AgreementThanks.objects.count() == 1


@pytest.mark.parametrize(
    "text, token",
    [
        ("", None),
        ("   ", None),
        ("x" * 201, None),
        ("a\x00b", None),
        ("two\nlines", None),
        ("fine", "bad token!"),
        ("fine", "x" * 65),
    ],
)
def test_bad_appreciations_are_refused_and_save_nothing(agreement, alex, text, token):
    with pytest.raises(PracticeError):
        services.agreement_thank(
            user=alex, agreement_public_id=agreement.public_id, text=text, token=token
        )
    assert not AgreementThanks.objects.exists()


@pytest.mark.parametrize("days", ["0", "91", "-3", "seven", "", None, "1.5"])
def test_bad_lengths_are_refused(agreement, sam, days):
    with pytest.raises(PracticeError):
        services.agreement_set_days(user=sam, agreement_public_id=agreement.public_id, days=days)
    agreement.refresh_from_db()
    assert agreement.days == 14


def test_the_giver_changes_how_long_it_runs(agreement, sam, alex):
    services.agreement_set_days(user=sam, agreement_public_id=agreement.public_id, days="21")
    agreement.refresh_from_db()
    assert agreement.days == 21
    with pytest.raises(PracticeError):
        services.agreement_set_days(user=alex, agreement_public_id=agreement.public_id, days=3)


def test_agreement_text_is_encrypted_at_rest(agreement, alex):
    services.agreement_thank(
        user=alex, agreement_public_id=agreement.public_id, text="So kind", token=form_token()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM practice_agreement")
        (raw,) = cursor.fetchone()
        cursor.execute("SELECT text FROM practice_agreementthanks")
        (thanks,) = cursor.fetchone()
    assert REQUEST not in raw and raw.startswith("gAAAAA")
    assert "So kind" not in thanks and thanks.startswith("gAAAAA")


# --- caring behaviours -------------------------------------------------------------------------


def test_a_replayed_caring_item_is_saved_once(pair, alex):
    first = services.caring_item_add(user=alex, text="hold my hand", token="t1")
    again = services.caring_item_add(user=alex, text="hold my hand", token="t1")
    assert first == again and CaringBehaviour.objects.count() == 1


@pytest.mark.parametrize("text", ["", " ", "x" * 201, "a\x00b", "one\ntwo"])
def test_bad_caring_items_are_refused(pair, alex, text):
    with pytest.raises(PracticeError):
        services.caring_item_add(user=alex, text=text, token=form_token())
    assert not CaringBehaviour.objects.exists()


def test_a_list_holds_thirty_items(pair, alex):
    for i in range(30):
        services.caring_item_add(user=alex, text=f"thing {i}", token=form_token())
    with pytest.raises(PracticeError):
        services.caring_item_add(user=alex, text="one more", token=form_token())


def test_people_without_a_couple_have_no_list(single, therapist, staff):
    for someone in (single, therapist, staff):
        with pytest.raises(NotFound):
            services.caring_item_add(user=someone, text="anything", token=form_token())


def test_an_empty_list_cannot_be_shared(pair, alex):
    with pytest.raises(PracticeError):
        services.caring_list_share(user=alex)


def test_nothing_can_be_given_from_a_list_not_shared(alex_private, sam):
    with pytest.raises(NotFound):
        services.caring_give(user=sam, item_public_id=alex_private.public_id)
    assert not CaringGiven.objects.exists()


def test_one_caring_behaviour_a_day_and_a_double_click_is_one(sam_shared, alex, sam):
    other = services.caring_item_add(user=sam, text="sing to me", token=form_token())
    first = services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    again = services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    assert first == again
    with pytest.raises(PracticeError):
        services.caring_give(user=alex, item_public_id=other.public_id)
    assert CaringGiven.objects.count() == 1
    # One's own list is not given from, and another couple's is not found.
    with pytest.raises(NotFound):
        services.caring_give(user=sam, item_public_id=sam_shared.public_id)


def test_a_removed_item_cannot_be_given(sam_shared, alex, sam):
    services.caring_item_remove(user=sam, item_public_id=sam_shared.public_id)
    with pytest.raises(NotFound):
        services.caring_give(user=alex, item_public_id=sam_shared.public_id)


def test_only_the_lists_author_acknowledges(sam_shared, alex, sam, outsider):
    given = services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    for someone in (alex, outsider):
        with pytest.raises(NotFound):
            services.caring_acknowledge(user=someone, given_public_id=given.public_id)
    services.caring_acknowledge(user=sam, given_public_id=given.public_id)
    first = CaringGiven.objects.get().acknowledged_at
    services.caring_acknowledge(user=sam, given_public_id=given.public_id)
    assert first is not None and CaringGiven.objects.get().acknowledged_at == first


def test_caring_text_is_encrypted_at_rest(sam_shared):
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM practice_caringbehaviour")
        (raw,) = cursor.fetchone()
    assert SAM_ITEM not in raw and raw.startswith("gAAAAA")


# --- homework that completes itself ------------------------------------------------------------


def test_homework_of_caring_behaviours_completes_from_what_the_couple_records(
    link, therapist, pair, alex, sam, sam_shared, monkeypatch
):
    from therapists import services as therapist_services

    homework = therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Three caring behaviours",
        practice="caring",
        practice_target=2,
        token=form_token(),
    )
    services.caring_item_add(user=alex, text="cook with me", token=form_token())
    services.caring_list_share(user=alex)
    services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    homework.refresh_from_db()
    assert homework.done_at is None
    alex_item = CaringBehaviour.objects.get(caring_list__author=alex)
    services.caring_give(user=sam, item_public_id=alex_item.public_id)
    homework.refresh_from_db()
    assert homework.done_at is not None and homework.done_by is None


def test_homework_of_agreement_days_completes_and_others_stay_open(
    link, therapist, pair, sam, agreement
):
    from therapists import services as therapist_services

    days = therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Keep it",
        practice="agreement_day",
        practice_target=1,
        token=form_token(),
    )
    caring = therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Care",
        practice="caring",
        practice_target=1,
        token=form_token(),
    )
    services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
    days.refresh_from_db()
    caring.refresh_from_db()
    assert days.done_at is not None and caring.done_at is None


def test_practice_recorded_before_the_homework_does_not_count(
    link, therapist, pair, alex, sam_shared
):
    from therapists import services as therapist_services

    services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    homework = therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Care",
        practice="caring",
        practice_target=1,
        token=form_token(),
    )
    homework.refresh_from_db()
    assert homework.done_at is None


@pytest.mark.parametrize(
    "practice, target", [("dancing", 2), ("caring", None), ("caring", 0), ("caring", 15)]
)
def test_bad_practice_homework_is_refused(link, therapist, pair, practice, target):
    from therapists import services as therapist_services
    from therapists.models import Homework
    from therapists.services import TherapistError

    with pytest.raises(TherapistError):
        therapist_services.homework_assign(
            therapist=therapist,
            couple=pair,
            title="x",
            practice=practice,
            practice_target=target,
            token=form_token(),
        )
    assert not Homework.objects.exists()


# --- at the same moment (PostgreSQL: real row locks) -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_mark_dones_at_once_save_one_day(pair, alex, sam):
    give_gift(alex, sam)
    agreement = Agreement.objects.get()
    results = at_once(
        *[
            lambda: services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
            for _ in range(10)
        ]
    )
    if connection.vendor == "sqlite":
        # SQLite has one writer: some calls wait out its lock and report it; none saves twice.
        assert all(isinstance(r, (AgreementDay, Exception)) for r in results)
    else:
        assert [r for r in results if isinstance(r, Exception)] == []
    assert AgreementDay.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_gives_at_once_save_one(pair, alex, sam):
    item = services.caring_item_add(user=sam, text=SAM_ITEM, token=form_token())
    services.caring_list_share(user=sam)
    results = at_once(
        *[lambda: services.caring_give(user=alex, item_public_id=item.public_id) for _ in range(10)]
    )
    if connection.vendor != "sqlite":
        assert [r for r in results if isinstance(r, Exception)] == []
    assert CaringGiven.objects.count() == 1


# --- erasure ---------------------------------------------------------------------------------


def test_an_ended_couples_practice_is_erased_when_purged(agreement, alex, sam, sam_shared, pair):
    from couples import signals

    services.agreement_thank(
        user=alex, agreement_public_id=agreement.public_id, text="zq-thx", token=form_token()
    )
    signals.couple_purging.send(sender=None, couple=pair)
    assert {a.text for a in Agreement.objects.all()} == {services.PURGED_NOTE}
    assert {t.text for t in AgreementThanks.objects.all()} == {services.PURGED_NOTE}
    assert {c.text for c in CaringBehaviour.objects.all()} == {services.PURGED_NOTE}


def test_deleting_an_account_erases_only_what_that_person_wrote(agreement, alex, sam, sam_shared):
    services.caring_item_add(user=alex, text="zq-alex-item", token=form_token())
    services.agreement_thank(
        user=alex, agreement_public_id=agreement.public_id, text="zq-thx", token=form_token()
    )
    services.practice_erase_by(user=sam)
    agreement.refresh_from_db()
    assert agreement.text == REQUEST  # Alex's request: Alex's words stay
    assert CaringBehaviour.objects.get(caring_list__author=sam).text == services.REMOVED_NOTE
    assert CaringBehaviour.objects.get(caring_list__author=alex).text == "zq-alex-item"
    services.practice_erase_by(user=alex)
    agreement.refresh_from_db()
    assert agreement.text == services.REMOVED_NOTE
    assert AgreementThanks.objects.get().text == services.REMOVED_NOTE


# --- what a write costs ------------------------------------------------------------------------


def test_marking_a_day_done_is_six_statements_and_a_replay_four(
    agreement, sam, django_assert_num_queries
):
    # The membership, the couple locked, the agreement, the day looked for, the insert, and
    # the homework that might ask for it; and the test's savepoint around them.
    with django_assert_num_queries(6 + 2):
        services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
    with django_assert_num_queries(4 + 2):  # a replay stops once it finds the day
        services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)


# --- the childhood reflection ----------------------------------------------------------------


def test_a_reflection_keeps_only_the_worksheets_questions_and_what_was_written(pair, alex):
    reflection = services.reflection_save(
        user=alex,
        answers={"wanted_most": "  to be held  ", "reactions": "", "other": "dropped"},
    )
    assert reflection.answers == {"wanted_most": "to be held"}
    assert reflection.answered() == [
        ("What you wanted most as a child and didn't get", "to be held")
    ]
    assert reflection.shared_with_partner_at is None and reflection.shared_with_therapist_at is None


@pytest.mark.parametrize("value", ["a\x00b", "x" * 2001, 3, ["list"]])
def test_a_reflection_answer_must_be_plain_text_of_a_sensible_length(pair, alex, value):
    with pytest.raises(services.PracticeError):
        services.reflection_save(user=alex, answers={"wanted_most": value})
    assert not ChildhoodReflection.objects.exists()


def test_only_a_partner_in_a_couple_has_a_reflection(single, therapist):
    for person in (single, therapist):
        with pytest.raises(services.NotFound):
            services.reflection_save(user=person, answers={"wanted_most": "x"})


def test_sharing_with_the_partner_and_the_therapist_are_separate_and_revocable(pair, alex):
    services.reflection_save(user=alex, answers={"reactions": "hid"})
    r = services.reflection_share(user=alex, audience="partner", shared=True)
    assert r.shared_with_partner_at is not None and r.shared_with_therapist_at is None
    r = services.reflection_share(user=alex, audience="therapist", shared=True)
    assert r.shared_with_partner_at is not None and r.shared_with_therapist_at is not None
    r = services.reflection_share(user=alex, audience="partner", shared=False)
    assert r.shared_with_partner_at is None and r.shared_with_therapist_at is not None


def test_deleting_the_account_deletes_the_reflection_and_the_partners_stays(pair, alex, sam):
    services.reflection_save(user=alex, answers={"reactions": "hid"})
    services.reflection_save(user=sam, answers={"reactions": "shouted"})
    services.practice_erase_by(user=alex)
    assert [r.author for r in ChildhoodReflection.objects.all()] == [sam]
    services.practice_erase_of(couple=pair)
    assert not ChildhoodReflection.objects.exists()
