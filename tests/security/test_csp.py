"""Content-Security-Policy reports: our endpoint (/csp-report/, security/csp.py) counts what the
policy blocked, in both report formats, storing no full URL; the admin lists the counts."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from imago_site.middleware import CSP_REPORT_PATH
from security.models import CspReport

pytestmark = pytest.mark.django_db

TOKEN = "Zx9" * 15  # like an invitation link's token: a secret in a URL
OLD_STYLE = {
    "csp-report": {
        "document-uri": f"https://imago.example.org/invite/{TOKEN}/?next=/private#frag",
        "referrer": "https://mail.example.com/inbox?u=alex@example.com",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'",
        "blocked-uri": "https://evil.example.com:8443/x.js?user=alex@example.com",
        "status-code": 200,
    }
}
REPORTING_API = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://imago.example.org/dialogues/AbCdEfGhIjKlMnOpQrStUv/?x=1",
        "user_agent": "Mozilla/5.0",
        "body": {
            "documentURL": "https://imago.example.org/dialogues/AbCdEfGhIjKlMnOpQrStUv/?x=1",
            "effectiveDirective": "style-src-attr",
            "blockedURL": "inline",
            "sample": "color: red /* alex@example.com */",
            "disposition": "enforce",
        },
    },
    {
        "type": "csp-violation",
        "url": "https://imago.example.org/",
        "body": {
            "documentURL": "https://imago.example.org/",
            "effectiveDirective": "img-src",
            "blockedURL": "data:image/png;base64,AAAA",
        },
    },
    {"type": "deprecation", "body": {"id": "x"}},  # not ours: ignored
]


@pytest.fixture
def browser(client_as):
    """A browser sending a report: not logged in, and no CSRF token (the check is on)."""
    client = client_as(None)
    client.handler.enforce_csrf_checks = True
    return client


def send(client, payload, content_type="application/csp-report", **extra):
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return client.post(CSP_REPORT_PATH, body, content_type=content_type, **extra)


def stored() -> list[tuple[str, str, str, int]]:
    return sorted(
        CspReport.objects.values_list("directive", "blocked", "document", "count"),
        key=lambda row: row[0],
    )


def test_the_policy_names_our_endpoint(client_as):
    assert reverse("security:csp_report") == CSP_REPORT_PATH
    response = client_as("alex").get("/")
    policy = response["Content-Security-Policy"]
    assert f"report-uri {CSP_REPORT_PATH}" in policy and "report-to csp" in policy
    assert response["Reporting-Endpoints"] == f'csp="{CSP_REPORT_PATH}"'


def test_a_report_uri_report_is_counted_without_any_full_url(browser):
    assert send(browser, OLD_STYLE).status_code == 204
    assert send(browser, OLD_STYLE).status_code == 204
    assert stored() == [("script-src-elem", "https://evil.example.com:8443", "/invite/<id>/", 2)]
    every_value = " ".join(str(v) for row in stored() for v in row)
    for secret in (TOKEN, "?", "#", "alex", "next", "x.js", "mail.example.com", "private"):
        assert secret not in every_value


def test_reporting_api_reports_are_counted(browser):
    response = send(browser, REPORTING_API, content_type="application/reports+json")
    assert response.status_code == 204
    assert stored() == [
        ("img-src", "data", "/", 1),
        ("style-src-attr", "inline", "/dialogues/<id>/", 1),
    ]
    assert "alex" not in str(stored())


def test_unknown_directives_and_odd_values_are_reduced(browser):
    report = {
        "csp-report": {
            "violated-directive": "made-up-src\x00 'self'",
            "blocked-uri": "https://ex\x00ample.com/",
            "document-uri": "/page\x00/x?y",
        }
    }
    assert send(browser, report).status_code == 204
    [(directive, blocked, document, _)] = stored()
    assert (directive, blocked) == ("other", "other")
    assert "\x00" not in document and "?" not in document


@pytest.mark.parametrize(
    "body, status",
    [
        ("not json", 400),
        ({"something": "else"}, 400),
        ([{"type": "deprecation"}], 400),
        (b"\xff\xfe", 400),
        ("x" * 20_000, 413),
    ],
)
def test_bad_reports_are_refused_and_nothing_is_saved(browser, body, status):
    assert send(browser, body).status_code == status
    assert CspReport.objects.count() == 0


def test_only_post(browser):
    assert browser.get(CSP_REPORT_PATH).status_code == 405
    assert CspReport.objects.count() == 0


def test_reports_are_rate_limited_per_address(browser, client_as, settings):
    settings.CSP_REPORTS_PER_MINUTE = 3
    statuses = [send(browser, OLD_STYLE, REMOTE_ADDR="198.51.100.3").status_code for _ in range(5)]
    assert statuses == [204, 204, 204, 429, 429]
    assert stored()[0][3] == 3
    assert send(client_as(None), OLD_STYLE, REMOTE_ADDR="198.51.100.4").status_code == 204


def test_the_table_cannot_be_filled(browser, settings):
    settings.CSP_REPORT_MAX_ROWS = 2
    for n in range(5):
        report = {"csp-report": {**OLD_STYLE["csp-report"], "document-uri": f"/p{n}/"}}
        assert send(browser, report).status_code == 204
    assert CspReport.objects.count() == 2
    send(browser, {"csp-report": {**OLD_STYLE["csp-report"], "document-uri": "/p0/"}})
    assert CspReport.objects.get(document="/p0/").count == 2


def test_the_admin_lists_the_counts_read_only(browser, root, client_as):
    send(browser, OLD_STYLE)
    send(browser, OLD_STYLE)
    page = root.get(reverse("admin:security_cspreport_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "script-src-elem" in text and "https://evil.example.com:8443" in text
    assert "/invite/&lt;id&gt;/" in text
    report = CspReport.objects.get()
    assert root.get(reverse("admin:security_cspreport_add")).status_code == 403
    change = reverse("admin:security_cspreport_change", args=[report.pk])
    root.post(change, {"directive": "img-src", "count": 1})
    report.refresh_from_db()
    assert (report.directive, report.count) == ("script-src-elem", 2)
    # Staff without the permission to view it see nothing.
    assert client_as("staff").get(reverse("admin:security_cspreport_changelist")).status_code == 403
