# Two commands do everything: `make run` and `make test`. See README.md.
# `make serve` runs the app for production (docs/deployment.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
FORWARDED_ALLOW_IPS ?= 127.0.0.1
# Per-message deflate costs each idle socket about 50 KiB of zlib state; pushes are small.
WS_DEFLATE ?= false
# uvicorn's supervisor kills a worker that doesn't answer its health check in time (its
# default, 5 s, killed both workers while 3,000 sockets were connecting at once).
WORKER_HEALTHCHECK ?= 30
# The ASGI application served; the bench serves bench.asgi:application (docs/performance.md).
ASGI_APP ?= imago_site.asgi:application
STAMP := $(VENV)/.installed
# `make messages`: every language with a catalogue in locale/, and the folders with no text of ours.
LOCALES ?= $(notdir $(wildcard locale/*))
NOT_OURS := .venv venv tests bench staticfiles node_modules .git .cache
VAPID_DEV := .vapid-dev.env

# What `make test` runs a second time with FAST_PATH=0: the hot path and every socket.
PLAIN_PATH_TESTS := tests/live tests/dialogues/test_hot_path.py tests/dialogues/test_services.py \
	tests/dialogues/test_push.py tests/dialogues/test_consumers.py \
	tests/dialogues/test_consumers_security.py tests/therapists/test_consumers.py \
	tests/dialogues/test_dialogue_in_spanish.py

.PHONY: run serve worker test lint messages install lock clean

# Installs exactly the versions in requirements.lock (pyproject.toml keeps the ranges).
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24,<27"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## Re-resolve requirements.lock from pyproject.toml's ranges (UPGRADE=1: newest allowed versions)
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links $(if $(UPGRADE),--upgrade) -o requirements.lock pyproject.toml

## Set up everything and serve the app over ASGI at http://127.0.0.1:$(PORT)
run: export DEBUG ?= 1
run: export PORT := $(PORT)
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo_data
	$(PY) manage.py jobs_start
	@# Notifications need a VAPID key pair: one for development, made once and kept (README).
	@test -n "$$VAPID_PRIVATE_KEY" || test -f $(VAPID_DEV) || { $(PY) manage.py vapid_keys > $(VAPID_DEV) && \
		echo "make run: made a development VAPID key pair for notifications in $(VAPID_DEV) (never use it in production)"; }
	@# The background worker (reminders, calendar emails, pushes) runs beside the server and stops with it.
	test -n "$$VAPID_PRIVATE_KEY" || { set -a; . ./$(VAPID_DEV); set +a; }; \
	$(PY) manage.py db_worker --interval 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

## Production: $(WORKERS) uvicorn worker processes on $(HOST):$(PORT), PostgreSQL and Redis required
serve: export DEBUG := 0
serve: export FORWARDED_ALLOW_IPS := $(FORWARDED_ALLOW_IPS)
serve: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make serve: set DATABASE_URL (postgres://user:pass@host:5432/imago)." >&2; exit 2; }
	@case "$$DATABASE_URL" in postgres://*|postgresql://*) ;; *) echo "make serve: DATABASE_URL must be a PostgreSQL URL (several workers can't share SQLite)." >&2; exit 2;; esac
	@test -n "$$REDIS_URL" || { echo "make serve: set REDIS_URL (redis://host:6379/0): workers share live updates through Redis." >&2; exit 2; }
	@test -n "$$SECRET_KEY" || { echo "make serve: set SECRET_KEY (a long random string, the same on every machine)." >&2; exit 2; }
	@test -n "$$FIELD_ENCRYPTION_KEYS" || { echo "make serve: set FIELD_ENCRYPTION_KEYS (Fernet keys for encryption at rest, the same on every machine; docs/security.md)." >&2; exit 2; }
	$(PY) manage.py check --deploy --fail-level ERROR
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py migrate --noinput
	$(PY) manage.py jobs_start
	exec $(PY) -m uvicorn $(ASGI_APP) --host $(HOST) --port $(PORT) \
		--workers $(WORKERS) --proxy-headers --forwarded-allow-ips "$(FORWARDED_ALLOW_IPS)" \
		--lifespan off --no-access-log --timeout-graceful-shutdown 10 \
		--ws-per-message-deflate $(WS_DEFLATE) --timeout-worker-healthcheck $(WORKER_HEALTHCHECK) \
		$(SERVE_ARGS)

## Production: one background worker (run as many as you like, on any machine; see docs/deployment.md)
worker: export DEBUG := 0
worker: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make worker: set DATABASE_URL (the same as make serve's)." >&2; exit 2; }
	exec $(PY) manage.py db_worker --interval 1

## The whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set)
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest
	@# The hot path and the sockets again on Django's plain path, without the shortcuts (live/fast.py).
	FAST_PATH=0 $(PY) -m pytest -q $(PLAIN_PATH_TESTS)

## The catalogues: Django's makemessages then compilemessages, over our code and templates only
## (LOCALES=fr to start a language; docs/languages.md)
messages: $(STAMP)
	DEBUG=1 $(PY) manage.py makemessages $(addprefix --locale=,$(LOCALES)) \
		$(addprefix --ignore=,$(NOT_OURS)) --no-obsolete --add-location=file
	DEBUG=1 $(PY) manage.py compilemessages $(addprefix --ignore=,$(NOT_OURS))

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
