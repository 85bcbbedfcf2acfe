"""The admin as each role; account actions; therapist verification; everything audited."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.sessions.models import Session
from django.urls import reverse

from couples.models import Invitation, User
from couples.services import couple_create
from security.models import AuditEvent
from tests.factories import PASSWORD, StaffFactory
from tests.mfa import give_mfa

USERS = "/admin/couples/user/"


def act(client, action, people, follow=False, **extra):
    return client.post(
        USERS,
        {"action": action, "_selected_action": [p.pk for p in people], **extra},
        follow=follow,
    )


# --- who gets in -----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_allauth_login(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    response = client.get("/admin/login/?next=/admin/couples/user/")
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2Fcouples%2Fuser%2F"


def test_the_admin_has_no_login_form_of_its_own(client, superuser):
    response = client.post("/admin/login/", {"username": "root@example.com", "password": "x"})
    assert response.status_code == 302 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["alex", "outsider", "therapist", "unverified_therapist", "single"])
def test_people_who_are_not_staff_are_refused(client_as, who):
    client = client_as(who)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert client.get(USERS).status_code in (302, 403)
    assert client.get("/admin/security/auditevent/", follow=True).status_code == 403


def test_staff_without_model_permissions_see_an_empty_admin(client_as):
    client = client_as("staff")
    assert client.get("/admin/").status_code == 200
    assert client.get(USERS).status_code == 403
    assert client.get("/admin/security/auditevent/").status_code == 403


# --- users -------------------------------------------------------------------------------------


def test_it_lists_users_with_their_last_login(root, alex, client_as):
    client_as(alex)
    body = root.get(USERS).content.decode()
    assert "alex@example.com" in body and "Last login" in body


def test_the_list_says_admin_or_staff_rather_than_partner_for_those_accounts(
    root, alex, staff, superuser
):
    response = root.get(USERS)
    kinds = {
        row.email: response.context["cl"].model_admin.kind_shown(row)
        for row in response.context["cl"].result_list
    }
    assert kinds[superuser.email] == "Admin"
    assert kinds[staff.email] == "Staff"
    assert kinds[alex.email] == "Partner"
    body = response.content.decode()
    assert '<td class="field-kind_shown">Admin</td>' in body


@pytest.mark.parametrize(
    "query,shown,hidden",
    [
        ("q=alex", "alex@example.com", "sam@example.com"),
        ("q=Rivera", "dr@example.com", "alex@example.com"),
        ("kind__exact=therapist", "dr@example.com", "alex@example.com"),
        ("verified=no", "new.dr@example.com", "dr@example.com"),
        ("verified=yes", "dr@example.com", "new.dr@example.com"),
    ],
)
def test_it_searches_and_filters_users(
    root, alex, sam, therapist, unverified_therapist, query, shown, hidden
):
    body = root.get(f"{USERS}?{query}").content.decode()
    assert f">{shown}<" in body and f">{hidden}<" not in body


def test_it_filters_by_status(root, alex, sam):
    User.objects.filter(pk=sam.pk).update(is_active=False)
    body = root.get(f"{USERS}?is_active__exact=0").content.decode()
    assert "sam@example.com" in body and "alex@example.com" not in body


def test_deactivating_logs_the_person_out_everywhere(root, alex, sam, superuser, client_as):
    phone, laptop, partner = client_as(alex), client_as(alex), client_as(sam)
    response = act(root, "deactivate", [alex])
    assert response.status_code == 302
    alex.refresh_from_db()
    assert alex.is_active is False
    keys = {s.session_key for s in Session.objects.all()}
    assert phone.session.session_key not in keys and laptop.session.session_key not in keys
    assert partner.session.session_key in keys
    assert phone.get("/").status_code == 200 and b"Log in" in phone.get("/").content
    event = AuditEvent.objects.get(action="user.deactivated")
    assert (event.actor, event.target_id) == (superuser, alex.public_id)
    assert LogEntry.objects.filter(object_id=str(alex.pk), change_message="Deactivated").exists()


def test_a_deactivated_person_cant_log_in(root, alex, client):
    act(root, "deactivate", [alex])
    client.post(reverse("account_login"), {"login": alex.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_staff_cant_deactivate_themselves(root, superuser):
    response = act(root, "deactivate", [superuser], follow=True)
    superuser.refresh_from_db()
    assert superuser.is_active
    assert "deactivate your own account" in response.content.decode()


def test_reactivating(root, alex):
    act(root, "deactivate", [alex])
    act(root, "reactivate", [alex])
    alex.refresh_from_db()
    assert alex.is_active
    assert AuditEvent.objects.filter(action="user.reactivated", target_id=alex.public_id).exists()


def test_is_active_and_verification_are_not_edited_in_the_form(root, alex):
    page = root.get(f"{USERS}{alex.pk}/change/").content.decode()
    assert 'name="is_active"' not in page and 'name="therapist_verified_at"' not in page


def test_only_superusers_hand_out_staff_rights(client_as, staff, alex):
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    page = client_as(staff).get(f"{USERS}{alex.pk}/change/").content.decode()
    assert 'name="display_name"' in page
    assert 'name="is_staff"' not in page and 'name="is_superuser"' not in page


def test_users_cant_be_deleted_in_the_admin(root, alex):
    assert root.get(f"{USERS}{alex.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=alex.pk).exists()


def test_an_edit_is_audited_with_field_names_only(root, alex, superuser):
    page = root.get(f"{USERS}{alex.pk}/change/")
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "password"}
    data.update({"display_name": "Alexandra", "email": alex.email, "kind": "partner"})
    response = root.post(f"{USERS}{alex.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    event = AuditEvent.objects.get(action="admin.changed")
    assert event.actor == superuser and event.target_id == alex.public_id
    assert event.details == {"fields": ["Display name"]}
    assert "Alexandra" not in str(event.details)


# --- therapist verification -------------------------------------------------------------------


def test_verifying_asks_for_a_reason_first(root, unverified_therapist):
    response = act(root, "verify_therapists", [unverified_therapist])
    assert response.status_code == 200
    body = response.content.decode()
    assert "new.dr@example.com" in body and 'name="reason"' in body
    unverified_therapist.refresh_from_db()
    assert unverified_therapist.therapist_verified_at is None


def test_verifying_records_the_reason(root, unverified_therapist, superuser):
    response = act(
        root, "verify_therapists", [unverified_therapist], apply="1", reason="Licence 12345 checked"
    )
    assert response.status_code == 302
    unverified_therapist.refresh_from_db()
    assert unverified_therapist.is_verified_therapist
    event = AuditEvent.objects.get(action="therapist.verified")
    assert event.actor == superuser and event.details == {"reason": "Licence 12345 checked"}
    page = root.get(f"{USERS}{unverified_therapist.pk}/change/").content.decode()
    assert "Licence 12345 checked" in page and "verified by root@example.com" in page


def test_an_empty_reason_changes_nothing(root, unverified_therapist):
    response = act(root, "verify_therapists", [unverified_therapist], apply="1", reason="  ")
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    unverified_therapist.refresh_from_db()
    assert unverified_therapist.therapist_verified_at is None
    assert not AuditEvent.objects.filter(action="therapist.verified").exists()


def test_partners_cant_be_verified_as_therapists(root, alex):
    response = act(root, "verify_therapists", [alex], apply="1", reason="oops", follow=True)
    assert "not a therapist account" in response.content.decode()
    alex.refresh_from_db()
    assert alex.therapist_verified_at is None


def test_unverifying_records_the_reason(root, therapist):
    act(root, "unverify_therapists", [therapist], apply="1", reason="Licence expired")
    therapist.refresh_from_db()
    assert therapist.therapist_verified_at is None
    event = AuditEvent.objects.get(action="therapist.unverified")
    assert event.details == {"reason": "Licence expired"}


# --- couples, invitations, two-factor devices --------------------------------------------------


def test_couples_can_be_browsed_not_changed(root, pair, alex):
    body = root.get("/admin/couples/couple/").content.decode()
    assert pair.public_id in body and "alex@example.com" in body
    page = root.get(f"/admin/couples/couple/{pair.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert root.get(f"/admin/couples/couple/{pair.pk}/delete/").status_code == 403
    assert root.get("/admin/couples/couple/add/").status_code == 403


def test_invitations_can_be_revoked(root, single, superuser):
    issued = couple_create(user=single, partner_email="friend@example.com")
    invitation = issued.invitation
    body = root.get("/admin/couples/invitation/?status=pending").content.decode()
    assert invitation.public_id in body
    root.post(
        "/admin/couples/invitation/", {"action": "revoke", "_selected_action": [invitation.pk]}
    )
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    event = AuditEvent.objects.get(action="invitation.revoked")
    assert event.actor == superuser and event.target_id == invitation.public_id
    assert "token" not in root.get(
        f"/admin/couples/invitation/{invitation.pk}/change/"
    ).content.decode().lower().replace("csrfmiddlewaretoken", "")


def test_two_factor_devices_show_no_secret_and_can_be_reset(root, therapist, superuser):
    device = Authenticator.objects.get(user=therapist, type="totp")
    secret = device.data["secret"]
    for url in ["/admin/mfa/authenticator/", f"/admin/mfa/authenticator/{device.pk}/change/"]:
        response = root.get(url)
        assert response.status_code == 200 and secret not in response.content.decode()
    root.post(f"/admin/mfa/authenticator/{device.pk}/delete/", {"post": "yes"})
    assert not Authenticator.objects.filter(pk=device.pk).exists()
    event = AuditEvent.objects.get(action="admin.deleted")
    assert event.actor == superuser and event.target_type == "mfa.authenticator"


def test_give_mfa_is_what_lets_staff_in(client_as, db):
    person = StaffFactory(mfa=False)
    assert client_as(person).get("/admin/").status_code == 302
    give_mfa(person)
    assert client_as(person).get("/admin/").status_code == 200
