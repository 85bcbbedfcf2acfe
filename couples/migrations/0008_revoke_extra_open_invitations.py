"""Before the database allows one open invitation per couple (0009), revoke the extras.

Concurrent "new link" requests could leave a couple with several invitations neither
accepted nor revoked. The newest of each couple's stays open; the others are revoked now,
expired or not (expiry can't be part of the constraint), each recorded in the audit trail
as services._invitations_revoke would record it.
"""

from django.db import migrations
from django.db.models import Count
from django.utils import timezone

REASON = "one_open_per_couple"


def revoke_extras(apps, schema_editor):
    Invitation = apps.get_model("couples", "Invitation")
    AuditEvent = apps.get_model("couples", "AuditEvent")
    open_ = Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True)
    crowded = (
        open_.values("couple_id").annotate(n=Count("pk")).filter(n__gt=1).values("couple_id")
    )
    now = timezone.now()
    for couple_id in crowded.values_list("couple_id", flat=True):
        extras = list(open_.filter(couple_id=couple_id).order_by("-created_at", "-pk"))[1:]
        for invitation in extras:
            invitation.revoked_at = now
            invitation.save(update_fields=["revoked_at"])
            AuditEvent.objects.create(
                created_at=now,
                action="invitation.revoked",
                target_type="couples.invitation",
                target_id=invitation.public_id,
                details={"reason": REASON},
            )


class Migration(migrations.Migration):
    dependencies = [
        ("couples", "0007_therapist_links_move_to_therapists"),
    ]

    operations = [
        migrations.RunPython(revoke_extras, migrations.RunPython.noop),
    ]
