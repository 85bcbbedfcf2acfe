"""Partners may turn on two-factor authentication, and it is offered once they are paired: a
calm suggestion on the home page, until they set it up or say no thanks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from couples.models import User
from tests.conftest import ROLES
from tests.factories import make_couple
from tests.mfa import give_mfa

pytestmark = pytest.mark.django_db

HINT = "A second lock for your account"
DISMISS = reverse("couples:two_factor_hint_dismiss")


@pytest.mark.parametrize("role", ROLES)
def test_it_is_offered_to_paired_partners_only(role, user_in_role, client_as, pair, link):
    page = client_as(role).get("/").content.decode()
    if role in ("alex", "sam", "outsider"):
        assert HINT in page
        assert f'href="{reverse("mfa_activate_totp")}"' in page
        assert f'action="{DISMISS}"' in page
    else:  # not paired yet, a therapist or staff (who must have it), or nobody logged in
        assert HINT not in page


def test_it_appears_once_the_couple_becomes_paired(client_as, single):
    client = client_as(single)
    assert HINT not in client.get("/").content.decode()
    make_couple(single)  # the invitation accepted: paired
    assert HINT in client.get("/").content.decode()


def test_it_is_not_offered_to_a_partner_who_has_two_factor(client_as, pair, alex, sam):
    give_mfa(alex)
    assert HINT not in client_as(alex).get("/").content.decode()
    assert HINT in client_as(sam).get("/").content.decode()  # each partner decides alone


def test_setting_up_two_factor_from_it_works_for_a_partner(client_as, pair, alex):
    client = client_as(alex)
    # Just logged in: no second password first (tests/couples/test_adapter.py has the later case).
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 200
    assert "data:image" in response.content.decode()  # the QR code to scan


def test_no_thanks_hides_it_for_good_for_that_partner_only(client_as, pair, alex, sam):
    client = client_as(alex)
    response = client.post(DISMISS)
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/").content.decode()
    assert HINT not in page and "any time from your account pages" in page
    assert HINT not in client_as(alex).get("/").content.decode()  # another login too
    assert HINT in client_as(sam).get("/").content.decode()


def test_no_thanks_over_htmx_swaps_it_out(client_as, pair, alex):
    response = client_as(alex).post(DISMISS, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response.content == b""


def test_no_thanks_twice_keeps_the_first_answer(client_as, pair, alex):
    client = client_as(alex)
    client.post(DISMISS)
    first = User.objects.get(pk=alex.pk).two_factor_hint_dismissed_at
    client.post(DISMISS)
    assert User.objects.get(pk=alex.pk).two_factor_hint_dismissed_at == first is not None


@pytest.mark.parametrize("role", ROLES)
def test_only_partners_can_say_no_thanks(role, user_in_role, client_as, pair):
    person = user_in_role(role)
    response = client_as(role).post(DISMISS)
    if person is None:
        assert response.status_code == 302 and reverse("account_login") in response["Location"]
        return
    if person.is_partner:
        assert response.status_code == 302
        assert User.objects.get(pk=person.pk).two_factor_hint_dismissed_at is not None
    else:
        assert response.status_code == 404
        assert User.objects.get(pk=person.pk).two_factor_hint_dismissed_at is None


def test_no_thanks_takes_only_a_post(client_as, alex):
    assert client_as(alex).get(DISMISS).status_code == 405


def test_therapists_and_staff_still_must_set_it_up(client_as, db):
    from tests.factories import StaffFactory, TherapistFactory

    for person in (TherapistFactory(mfa=False), StaffFactory(mfa=False)):
        response = client_as(person).get("/")
        assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")
