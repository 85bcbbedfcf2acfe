"""Content-Security-Policy reports: browsers POST what the policy blocked to /csp-report/
(imago_site/middleware.py names it in `report-uri` and `report-to`); each kind is counted in
`CspReport`, browsable read-only in the admin.

Both formats are accepted: the older `report-uri` JSON (`{"csp-report": {...}}`) and the
Reporting API's (`[{"type": "csp-violation", "body": {...}}, ...]`). Nothing from a report is
stored as it came: only the directive (a known name), the blocked resource's scheme and host
(or a keyword such as `inline`), and the page's path without its query string, with every
long random segment (a dialogue's id, an invitation link's token) masked as `<id>`. Reports
are small, counted per network address (`CSP_REPORTS_PER_MINUTE`), and the table has at most
`CSP_REPORT_MAX_ROWS` kinds, so nobody can fill it.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from live import clock
from security.audit import client_ip
from security.models import CspReport

MAX_BODY = 16 * 1024  # bytes: one report is well under 2 KiB
MAX_PER_POST = 20  # the Reporting API batches reports

DIRECTIVES = frozenset(
    [
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "media-src",
        "object-src",
        "frame-src",
        "child-src",
        "worker-src",
        "manifest-src",
        "prefetch-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
        "navigate-to",
        "sandbox",
        "upgrade-insecure-requests",
        "require-trusted-types-for",
        "trusted-types",
    ]
)
KEYWORDS = frozenset(
    ["inline", "eval", "wasm-eval", "self", "data", "blob", "trusted-types-policy",
     "trusted-types-sink"]
)  # fmt: skip
WEB_SCHEMES = frozenset(["http", "https", "ws", "wss"])
HOST = re.compile(r"[a-z0-9.\-\[\]:]{1,100}")
SCHEME = re.compile(r"[a-z][a-z0-9+.\-]{0,30}")
RANDOM_SEGMENT = re.compile(r"[A-Za-z0-9_\-]{16,}")
UNSAFE_PATH = re.compile(r"[^A-Za-z0-9/._~%!$&'()*+,;=:@\-]")


def directive_of(value: object) -> str:
    name = str(value or "").strip().lower().split(" ")[0]
    return name if name in DIRECTIVES else "other"


def blocked_of(value: object) -> str:
    """The blocked resource as scheme and host (`https://cdn.example`), a scheme (`data`) or a
    keyword (`inline`): never its path or query."""
    text = str(value or "").strip()
    if not text:
        return ""
    if text.lower() in KEYWORDS:
        return text.lower()
    try:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return "other"
    if scheme in WEB_SCHEMES:
        if not HOST.fullmatch(host):
            return "other"
        return f"{scheme}://{host}" + (f":{port}" if port else "")
    return scheme if SCHEME.fullmatch(scheme) else "other"


def document_of(value: object) -> str:
    """The page's path, without query or fragment, random ids masked."""
    try:
        path = urlsplit(str(value or "").strip()).path
    except ValueError:
        return ""
    if not path.startswith("/"):
        return ""
    segments = [
        "<id>" if RANDOM_SEGMENT.fullmatch(s) else UNSAFE_PATH.sub("", s) for s in path.split("/")
    ]
    return "/".join(segments)[:200]


def reports_in(data: Any) -> list[tuple[str, str, str]]:
    """(directive, blocked, document) for each report in either format; [] for anything else."""
    if isinstance(data, dict) and isinstance(data.get("csp-report"), dict):
        r = data["csp-report"]
        return [
            (
                directive_of(r.get("effective-directive") or r.get("violated-directive")),
                blocked_of(r.get("blocked-uri")),
                document_of(r.get("document-uri")),
            )
        ]
    found = []
    if isinstance(data, list):
        for item in data[:MAX_PER_POST]:
            if not isinstance(item, dict) or item.get("type") != "csp-violation":
                continue
            body = item.get("body")
            if not isinstance(body, dict):
                continue
            found.append(
                (
                    directive_of(body.get("effectiveDirective") or body.get("violatedDirective")),
                    blocked_of(body.get("blockedURL") or body.get("blockedURI")),
                    document_of(body.get("documentURL") or item.get("url")),
                )
            )
    return found


def report_count(*, directive: str, blocked: str, document: str) -> None:
    now = clock.now()
    kind = CspReport.objects.filter(directive=directive, blocked=blocked, document=document)
    if kind.update(count=F("count") + 1, last_seen=now):
        return
    if CspReport.objects.count() >= settings.CSP_REPORT_MAX_ROWS:
        return  # a full table counts the kinds it has; new ones wait for staff to clear it
    try:
        with transaction.atomic():
            CspReport.objects.create(
                directive=directive, blocked=blocked, document=document, first_seen=now,
                last_seen=now,
            )  # fmt: skip
    except IntegrityError:  # the same kind, reported at the same moment
        kind.update(count=F("count") + 1, last_seen=now)


def _too_many(request: HttpRequest) -> bool:
    minute = int(clock.now().timestamp() // 60)
    key = f"csp-report:{client_ip(request) or '-'}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        return cache.incr(key) > settings.CSP_REPORTS_PER_MINUTE
    except ValueError:  # expired between add and incr
        return False


@csrf_exempt  # browsers send reports without a token; nothing here acts for anyone
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if length > MAX_BODY:
        return HttpResponse(status=413)
    if _too_many(request):
        return HttpResponse(status=429)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return HttpResponse(status=413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return HttpResponse(status=400)
    reports = reports_in(data)
    if not reports:
        return HttpResponse(status=400)
    for directive, blocked, document in reports:
        report_count(directive=directive, blocked=blocked, document=document)
    return HttpResponse(status=204)
