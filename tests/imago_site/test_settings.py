"""Production settings, checked in a fresh process with a production-like environment."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from channels_redis.core import RedisChannelLayer
from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Run Python in the repository with a clean environment plus `env`."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_passes_djangos_deployment_checks():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="imago.example.org",
        DJANGO_SETTINGS_MODULE="imago_site.settings",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run_python(
        ["-c", "import imago_site.settings"], DEBUG="0", ALLOWED_HOSTS="imago.example.org"
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_it_refuses_to_start_without_field_encryption_keys_when_debug_is_off():
    result = run_python(
        ["-c", "import imago_site.settings"],
        DEBUG="0",
        SECRET_KEY="x" * 60,
        ALLOWED_HOSTS="imago.example.org",
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set when DEBUG is off." in result.stderr


def test_it_refuses_a_field_encryption_key_that_is_not_a_fernet_key():
    result = run_python(
        ["-c", "import imago_site.settings"],
        DEBUG="0",
        SECRET_KEY="x" * 60,
        FIELD_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},too-short",
        ALLOWED_HOSTS="imago.example.org",
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be Fernet keys" in result.stderr


def test_in_debug_the_field_key_is_derived_from_the_secret_key():
    code = "import imago_site.settings as s; print(len(s.FIELD_ENCRYPTION_KEYS))"
    result = run_python(["-c", code], DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_it_starts_without_a_secret_key_in_debug():
    result = run_python(
        ["-c", "import imago_site.settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)"],
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


def test_it_is_secure_by_default_in_production():
    code = (
        "import imago_site.settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.ALLOWED_HOSTS, s.PASSWORD_HASHERS[0].split('.')[-1], "
        "s.ACCOUNT_EMAIL_VERIFICATION)"
    )
    result = run_python(
        ["-c", code],
        DEBUG="0",
        SECRET_KEY="x" * 60,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="imago.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True True True True ['imago.example.org'] Argon2PasswordHasher mandatory"
    )


def test_the_channel_layer_has_room_for_bursts_and_idle_sockets_on_every_redis_host():
    code = (
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.CHANNEL_LAYERS['default']['CONFIG']['hosts']))"
    )
    result = run_python(
        ["-c", f"import django; django.setup(); {code}"],
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="imago_site.settings",
        REDIS_URL="redis://r1:6379/0,redis://r2:6379/0",
    )
    assert result.returncode == 0, result.stderr
    hosts = json.loads(result.stdout)
    assert [h["address"] for h in hosts] == ["redis://r1:6379/0", "redis://r2:6379/0"]
    for host in hosts:
        assert host["max_connections"] == 1000
        # Before: redis-py's 5 s read timeout raced channels-redis's 5 s BZPOPMIN, and an idle
        # socket's consumer died with redis.exceptions.TimeoutError about every 20 seconds.
        assert host["socket_timeout"] >= 2 * RedisChannelLayer.brpop_timeout
        assert host["socket_keepalive"] is True


def test_the_core_layer_is_refused_over_several_redis_hosts_and_pubsub_is_not():
    """channels-redis's core layer, sharded, loses messages sent to one socket's channel (the
    calls' signalling): with several hosts only the pub/sub layer starts."""
    code = "import django; django.setup(); print('started')"
    env = {"DEBUG": "1", "DJANGO_SETTINGS_MODULE": "imago_site.settings"}
    two = "redis://r1:6379/0,redis://r2:6379/0"
    core = run_python(["-c", code], CHANNEL_LAYER="redis", REDIS_URL=two, **env)
    assert core.returncode != 0 and "can't be sharded" in core.stderr
    pubsub = run_python(["-c", code], CHANNEL_LAYER="pubsub", REDIS_URL=two, **env)
    one_core = run_python(["-c", code], CHANNEL_LAYER="redis", REDIS_URL="redis://r1:6379/0", **env)
    for started in (pubsub, one_core):
        assert started.returncode == 0 and started.stdout.strip() == "started", started.stderr


def test_fast_path_names_the_shortcuts_and_each_one_off_takes_djangos_plain_path():
    """FAST_PATH unset: every shortcut on; `-i18n`: the others stay on, and Django's
    translations are left as Django made them (live/i18n.py patches nothing); a name it
    doesn't know (the render thread, removed) stops the start."""
    code = (
        "import django; django.setup(); from django.utils.translation import trans_real; "
        "from live import fast, i18n; "
        "print(sorted(fast.shortcuts()), trans_real.DjangoTranslation.gettext is i18n._gettext)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    default = run_python(["-c", code], **env)
    assert default.stdout.strip() == "['audiences', 'dispatch', 'i18n', 'prepared'] True", default
    without = run_python(["-c", code], FAST_PATH="-i18n", **env)
    assert without.stdout.strip() == "['audiences', 'dispatch', 'prepared'] False", without
    plain = run_python(["-c", code], FAST_PATH="0", **env)
    assert plain.stdout.strip() == "[] False", plain
    removed = run_python(["-c", code], FAST_PATH="-render", **env)
    assert removed.returncode != 0 and "ImproperlyConfigured" in removed.stderr


def test_partner_idle_minutes_comes_from_the_environment():
    code = "from django.conf import settings; print(settings.SESSION_IDLE_SECONDS_PARTNER)"
    env = {"DJANGO_SETTINGS_MODULE": "tests.settings"}
    default = run_python(["-c", "import django; django.setup(); " + code], **env)
    assert default.stdout.strip() == str(4 * 3600), default.stderr
    set_ = run_python(
        ["-c", "import django; django.setup(); " + code], PARTNER_IDLE_MINUTES="2880", **env
    )
    assert set_.stdout.strip() == str(2880 * 60), set_.stderr


def test_make_run_links_emails_to_the_port_it_serves():
    # `make run`'s three commands (migrate, demo data, the server), each replaced by printing
    # the SITE_URL Django would use for links in emails; -o: don't reinstall the venv.
    show = (
        "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'imago_site.settings'; "
        "from django.conf import settings; print('SITE_URL', settings.SITE_URL)"
    )
    result = subprocess.run(
        [
            "make",
            "-s",
            "-o",
            ".venv/.installed",
            "run",
            "PORT=8123",
            f'PY={sys.executable} -c "{show}"',
        ],
        cwd=REPO_ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split("\n")[:3] == ["SITE_URL http://127.0.0.1:8123"] * 3


def test_site_url_defaults_to_the_port_and_can_be_set():
    show = ["-c", "import imago_site.settings as s; print(s.SITE_URL)"]
    assert run_python(show, DEBUG="1").stdout.strip() == "http://127.0.0.1:8000"
    assert run_python(show, DEBUG="1", PORT="9001").stdout.strip() == "http://127.0.0.1:9001"
    given = run_python(show, DEBUG="1", PORT="9001", SITE_URL="https://imago.example.org/")
    assert given.stdout.strip() == "https://imago.example.org"
