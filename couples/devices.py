"""A person's signed-in devices: allauth's user sessions (`allauth.usersessions`), named the way
people recognise them, and signing one or all of the others out.

allauth records a row for every login (its `user_logged_in` receiver); ending one deletes
that login from the session store through our adapter (`couples.adapter.UserSessionsAdapter`),
which also closes that login's live sockets by event, as logging out does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allauth.usersessions.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ua_parser import parse as ua_parse

from couples.models import PushSubscription, User, login_id

# ua-parser's family names, shortened to the ones people use for their own browser and machine.
_BROWSER_NAMES = {
    "Mobile Safari": "Safari",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "HeadlessChrome": "Chrome",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
}
_SYSTEM_NAMES = {"Mac OS X": "Mac", "Chrome OS": "ChromeOS"}
_APPLE_DEVICES = {"iPhone", "iPad"}


def device_name(user_agent: str) -> str:
    """A device's name as people know it ("Firefox on Windows"), from the browser's
    user-agent string (read by ua-parser, which keeps up with browsers): a hint, not a proof."""
    result = ua_parse(user_agent)
    browser = result.user_agent.family if result.user_agent else None
    browser = _BROWSER_NAMES.get(browser, browser) if browser and browser != "Other" else None
    system = None
    if result.device and result.device.family in _APPLE_DEVICES:
        system = result.device.family
    elif result.os and result.os.family != "Other":
        system = _SYSTEM_NAMES.get(result.os.family, result.os.family)
    if browser and system:
        # Translators: a device, e.g. "Firefox on Windows".
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system or _("An unknown browser")


def device_id(session: UserSession) -> str:
    """The id a device is signed out by (and its pushes are found by): a hash of its
    session key (`models.login_id`)."""
    return login_id(session.session_key)


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    ip: str
    signed_in_at: datetime
    current: bool


def devices_of(*, user: User, request: HttpRequest) -> list[Device]:
    """Every login of this person that is still good, this one first, then newest first.
    Logins already over (logged out, expired) are forgotten on the way (allauth's purge)."""
    current_key = request.session.session_key
    sessions = UserSession.objects.purge_and_list(user)
    devices = [
        Device(
            id=device_id(s),
            name=device_name(s.user_agent),
            ip=s.ip,
            signed_in_at=s.created_at,
            current=s.session_key == current_key,
        )
        for s in sessions
    ]
    return sorted(devices, key=lambda d: (not d.current, -d.signed_in_at.timestamp()))


def devices_sign_out(*, user: User, request: HttpRequest, device: str | None = None) -> int:
    """Sign out one of the person's other devices (`device`), or all the others (None).
    This login is never ended here (that is logging out). Returns how many were ended."""
    current_key = getattr(getattr(request, "session", None), "session_key", None)
    others = []
    for session in UserSession.objects.filter(user_id=user.pk):
        if session.session_key == current_key or device not in (None, device_id(session)):
            continue
        # Its pushes end too (the rows directly: couples.push sits above this module).
        PushSubscription.objects.filter(login=device_id(session)).delete()
        if not session.exists():
            session.delete()  # over already (logged out, expired): nothing to end
            continue
        others.append(session)
    get_adapter().end_sessions(others)
    return len(others)


def devices_sign_out_after_new_password(*, user: User, request: HttpRequest) -> int:
    """A new password (changed, set or reset) ends every other login: Django already refuses
    their old session hash on their next request; ending them here also closes their live
    pages at once, and forgets them on the devices page."""
    return devices_sign_out(user=user, request=request)
