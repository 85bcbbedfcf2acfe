"""A push service of our own, standing in for a browser vendor's (RFC 8030), on loopback.

It receives the real HTTP POST pywebpush makes, checks the VAPID header as a push service
does (RFC 8292: an ES256 JWT for our origin, signed by the key it names, not expired), and
decrypts the body (RFC 8291, aes128gcm) with the browser side's private keys, which a
`Browser` holds exactly as a real browser would. Tests read what each browser received.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from couples import push
from tests.conftest import TEST_BROWSER

ON = reverse("couples:push_subscribe")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """One browser's side of a subscription: its P-256 key pair and auth secret."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict:
        """What the browser's PushManager hands the page (PushSubscription.toJSON())."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)},
        }


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict
    vapid_key: str
    plaintext: bytes

    @property
    def data(self) -> dict:
        return json.loads(self.plaintext)


def verify_vapid(authorization: str, *, audience: str) -> tuple[dict, str]:
    """Check a `vapid t=<jwt>, k=<key>` header as a push service does; returns (claims, k)."""
    scheme, _, rest = authorization.partition(" ")
    assert scheme.lower() == "vapid", authorization
    params = dict(part.strip().split("=", 1) for part in rest.split(","))
    token, key = params["t"], params["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(unb64url(header_b64))
    assert header["alg"] == "ES256" and header["typ"] == "JWT", header
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    raw = unb64url(signature_b64)
    assert len(raw) == 64  # JWS: r || s
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    # Raises InvalidSignature when it wasn't signed by the key it names.
    public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == audience, claims
    assert claims["exp"] > time.time() and claims["exp"] <= time.time() + 24 * 3600, claims
    assert claims["sub"].startswith(("mailto:", "https:")), claims
    return claims, key


class PushService:
    """Start with `with PushService() as service:`; `service.browser()` makes a subscriber;
    `service.status` is what it answers (201, or 404/410/500 to play a gone or broken one)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.browsers: dict[str, Browser] = {}
        self.status = 201
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    service._receive(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                except BaseException as error:  # recorded: the test fails on it
                    service.errors.append(error)
                    self.send_response(400)
                    self.end_headers()
                    return
                self.send_response(service.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"

    def browser(self) -> Browser:
        browser = Browser(endpoint=f"{self.origin}/push/{b64url(os.urandom(12))}")
        self.browsers[browser.endpoint.removeprefix(self.origin)] = browser
        return browser

    def _receive(self, path: str, headers: dict[str, str], body: bytes) -> None:
        browser = self.browsers[path]
        claims, key = verify_vapid(headers["authorization"], audience=self.origin)
        assert headers["content-encoding"] == "aes128gcm"
        assert int(headers["ttl"]) > 0
        plaintext = http_ece.decrypt(
            body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm"
        )
        with self._lock:
            self.received.append(Received(path, headers, body, claims, key, plaintext))

    def __enter__(self) -> PushService:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- helpers for the tests that push (the fixtures `vapid` and `service`: tests/conftest.py) ---


def subscribe(client: Client, browser) -> dict:
    response = client.post(
        ON,
        json.dumps(browser.subscription()),
        content_type="application/json",
        HTTP_USER_AGENT=TEST_BROWSER,
    )
    assert response.status_code == 201, response.content
    return response.json()


def run_push_jobs() -> list[str]:
    """What a worker does: every push job due now, once."""
    results = []
    for job in DBTaskResult.objects.filter(task_path="couples.push.push_send").order_by("pk"):
        if job.run_after is not None and job.run_after > push.clock.now():
            continue
        job.delete()
        results.append(push.push_send.call(*job.args_kwargs["args"]))
    return results
