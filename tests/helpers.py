"""Small helpers for reading responses in tests."""

from __future__ import annotations

import html
import re

from django.http import HttpResponse


def text_of(response: HttpResponse) -> str:
    """The page's visible text: tags dropped, entities decoded, whitespace squeezed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL)
    body = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def login_url(next_path: str) -> str:
    from urllib.parse import quote

    return f"/accounts/login/?next={quote(next_path)}"


def first_link(text: str) -> str:
    """The first http(s) link in an email's text."""
    match = re.search(r"https?://[^\s<>\"']+", text)
    if not match:
        raise AssertionError(f"No link in this email:\n{text}")
    return match.group(0)


def verification_code(text: str) -> str:
    """allauth's code in an email: a line of its own of capitals and digits, e.g. "TPHK-JGWV"."""
    match = re.search(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]{3,})*)\s*$", text, re.MULTILINE)
    if not match:
        raise AssertionError(f"No code in this email:\n{text}")
    return match.group(1)


def at_once(*calls):
    """Run the calls at the same moment in threads; return what each returned or raised."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results
