"""The therapist's console socket: a linked therapist watching a couple's live dialogue.

It is the partners' dialogue socket seen from the facilitator's seat: every step, the step
machine's state, and which partners are on the page. Access is checked when it connects, and
it closes at once when access ends (a partner withdraws consent, the link ends, the therapist
is un-verified, switched off or deleted: `therapist.access_ended` on the link's group).
"""

from __future__ import annotations

from dialogues import push
from dialogues import selectors as dialogue_selectors
from dialogues.consumers import CLOSE_FORBIDDEN, DialogueConsumer
from dialogues.selectors import FACILITATOR
from imago_site.live import access_group
from therapists.selectors import therapist_access_link


class FacilitatorConsumer(DialogueConsumer):
    """A linked therapist's console on a couple's live dialogue: sees every step, shown to the
    partners as present. Closed at once when either partner withdraws consent."""

    role = FACILITATOR

    def _authorize(self) -> dict | None:
        session = dialogue_selectors.session_with_partners(self.public_id)
        link = (
            therapist_access_link(therapist=self.user, couple_id=session.couple_id)
            if session is not None
            else None
        )  # the one access check, once
        if session is None or link is None:
            return None
        partners = {
            p.pk: p.display_name for p in (session.partner_a, session.partner_b) if p is not None
        }
        return {"session": session, "groups": [access_group(link.public_id)], "partners": partners}

    async def send_presence(self, part: str = "all") -> None:
        online = set(self.present.values())
        await self.send(
            push.render_partners_presence(
                partners=[(name, pk in online) for pk, name in self.watched.items()]
            )
        )

    async def therapist_access_ended(self, event) -> None:
        await self.close(code=CLOSE_FORBIDDEN)
