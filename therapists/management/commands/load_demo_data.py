"""Demo accounts for trying Imago locally: a paired couple and a verified therapist linked
to them with both partners' consent.

Idempotent: running it again changes nothing. It lives in the top app because it seeds every
app below it (people and couples, safety answers, a therapist link).
"""

from allauth.account.models import EmailAddress
from django.core.management.base import BaseCommand
from django.db import transaction

from couples.models import Couple, Membership, User
from live import clock
from therapists.models import Consent, TherapistLink

DEMO_PASSWORD = "imago-demo-password"
DEMO_PEOPLE = [
    ("alex@example.com", "Alex", User.Kind.PARTNER),
    ("sam@example.com", "Sam", User.Kind.PARTNER),
    ("dr.rivera@example.com", "Dr. Rivera", User.Kind.THERAPIST),
]


class Command(BaseCommand):
    help = "Create demo accounts (a paired couple and a therapist) and print how to log in."

    @transaction.atomic
    def handle(self, *args, **options):
        people = {}
        for email, name, kind in DEMO_PEOPLE:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email, password=DEMO_PASSWORD, display_name=name, kind=kind
                )
            if kind == User.Kind.THERAPIST and user.therapist_verified_at is None:
                user.therapist_verified_at = clock.now()
                user.save(update_fields=["therapist_verified_at"])
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            people[email] = user
        alex, sam = people["alex@example.com"], people["sam@example.com"]
        if not Membership.objects.filter(user=alex, is_active=True).exists() and not (
            Membership.objects.filter(user=sam, is_active=True).exists()
        ):
            couple = Couple.objects.create(created_by=alex)
            Membership.objects.create(couple=couple, user=alex)
            Membership.objects.create(couple=couple, user=sam)
        self._link_therapist(people["dr.rivera@example.com"], alex, sam)

        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD})")
        for email, name, kind in DEMO_PEOPLE:
            self.stdout.write(f"  {kind.label:<10} {name:<11} {email}")
        self.stdout.write("")
        self.stdout.write(
            "Dr. Rivera sets up two-factor authentication at the first log-in (any"
            " authenticator app; the page also shows the secret to type in)."
        )
        self.stdout.write(
            "Alex and Sam each answer a few private questions before their first dialogue"
            " (their home page leads there)."
        )
        self.stdout.write("")

    def _link_therapist(self, therapist: User, alex: User, sam: User) -> None:
        """Dr. Rivera facilitates Alex and Sam, with both partners' consent (made once)."""
        membership = Membership.objects.filter(user=alex, is_active=True).first()
        if membership is None or not therapist.is_verified_therapist:
            return
        couple = membership.couple
        if not couple.memberships.filter(user=sam, is_active=True).exists():
            return
        if TherapistLink.objects.filter(
            therapist=therapist, couple=couple, status__in=["pending", "active"]
        ).exists():
            return
        now = clock.now()
        link = TherapistLink.objects.create(
            therapist=therapist,
            couple=couple,
            created_by=therapist,
            therapist_accepted_at=now,
            status=TherapistLink.Status.ACTIVE,
            activated_at=now,
        )
        for partner in (alex, sam):
            Consent.objects.create(link=link, partner=partner, given_at=now)
