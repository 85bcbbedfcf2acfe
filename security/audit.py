"""The audit trail: one function to record an event. Never pass private text."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import models

from security.models import AuditEvent

logger = logging.getLogger("imago.audit")


def client_ip(request) -> str | None:
    """The client's address: of an HTTP request, or of a websocket (its ASGI scope)."""
    if request is None:
        return None
    if isinstance(request, Mapping):  # a socket's scope: (host, port), as the server saw it
        client = request.get("client")
        return str(client[0]) if client else None
    return request.META.get("REMOTE_ADDR") or None


def audit(
    *,
    action: str,
    actor=None,
    target: models.Model | None = None,
    request=None,
    target_type: str = "",
    **details: object,
) -> AuditEvent:
    """Record that `actor` did `action` to `target`. `details`: ids and short codes only.

    `target_type` names the kind of thing when there is no one object (a list of people).
    `request`: the HTTP request, or a socket's ASGI scope (for the client's address)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_id = ""
    if target is not None:
        target_id = str(getattr(target, "public_id", None) or target.pk)
    event = AuditEvent.objects.create(
        actor=actor,
        actor_email=getattr(actor, "email", "") or "",
        action=action,
        target_type=target._meta.label_lower if target is not None else target_type,
        target_id=target_id,
        ip_address=client_ip(request),
        details=details,
    )
    logger.info("audit %s", action, extra={"target": target_id})
    return event
