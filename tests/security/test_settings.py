"""Production settings (``config.settings_production``): ``check --deploy`` clean, refused
without a real DJANGO_SECRET_KEY (the development key included), DEBUG off, HTTPS only.
Each case runs in a child process, as a server would start."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = "config.settings_production"
HOST = "contra.example.com"
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="{host}")
plain = client.get("/admin/login/")
tls = client.get("/admin/login/", secure=True)
print(json.dumps({{
    "debug": settings.DEBUG,
    "plain": [plain.status_code, plain.get("Location", "")],
    "tls": tls.status_code,
    "hsts": tls.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(tls.cookies["csrftoken"]["secure"]),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
}}))
"""


def run(*args: str, settings: str = PRODUCTION, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v
        for k, v in os.environ.items()
        # a deployment's environment: none of the dev knobs, nor the async-unsafe switch
        # the browser tests set in this process (check --deploy refuses it, async.E001)
        if k
        not in (
            "DJANGO_SECRET_KEY",
            "DJANGO_DEBUG",
            "DJANGO_ALLOWED_HOSTS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        )
    }
    environ |= {"DJANGO_SETTINGS_MODULE": settings, **env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=120
    )


def secret() -> str:
    return secrets.token_urlsafe(64)


def dev_secret_key() -> str:
    """The key config.settings falls back to when DJANGO_SECRET_KEY is unset."""
    done = run("-c", "import config.settings as s; print(s.SECRET_KEY)", settings="config.settings")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_check_deploy_is_clean_with_a_secret_key():
    done = run(
        "manage.py", "check", "--deploy", DJANGO_SECRET_KEY=secret(), DJANGO_ALLOWED_HOSTS=HOST
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_check_deploy_warns_on_the_development_settings():
    """The clean result above is the production settings' doing: the embedded defaults
    that `make run` and the tests use are not fit for deployment."""
    done = run("manage.py", "check", "--deploy", settings="config.settings")
    assert "security.W" in done.stdout + done.stderr


def test_production_refuses_to_start_without_a_secret_key():
    done = run("manage.py", "check", "--deploy", DJANGO_ALLOWED_HOSTS=HOST)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr
    assert "DJANGO_SECRET_KEY is not set" in done.stderr


@pytest.mark.parametrize(
    "key, why",
    [
        (None, "the development key"),  # config.settings' own default
        ("django-insecure-" + secrets.token_urlsafe(48), "the development key"),
        ("short-but-random-" + secrets.token_hex(4), "too weak"),
        ("a" * 60, "too weak"),
    ],
)
def test_production_refuses_a_development_or_weak_secret_key(key, why):
    key = key or dev_secret_key()
    done = run("manage.py", "check", DJANGO_SECRET_KEY=key, DJANGO_ALLOWED_HOSTS=HOST)
    assert done.returncode != 0
    assert f"DJANGO_SECRET_KEY is {why}" in done.stderr


def test_production_needs_allowed_hosts():
    done = run("manage.py", "check", DJANGO_SECRET_KEY=secret())
    assert done.returncode != 0 and "DJANGO_ALLOWED_HOSTS is not set" in done.stderr


@pytest.mark.parametrize("hosts", ["*", "contra.example.com,*", ".*"])
def test_production_refuses_to_answer_any_host(hosts):
    """Issue 18: ALLOWED_HOSTS=* would trust a forged Host header."""
    done = run("manage.py", "check", DJANGO_SECRET_KEY=secret(), DJANGO_ALLOWED_HOSTS=hosts)
    assert done.returncode != 0 and "DJANGO_ALLOWED_HOSTS may not be" in done.stderr


def test_production_serves_through_gunicorn_and_whitenoise(tmp_path):
    """The web process of a deployment: gunicorn on config.wsgi with the production
    settings answers the login page, and WhiteNoise serves the collected static files."""
    env = {
        "DJANGO_SECRET_KEY": secret(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "CONTRA_VAR_DIR": str(tmp_path),
    }
    done = run("manage.py", "collectstatic", "--noinput", "-v0", **env)
    assert done.returncode == 0, done.stderr
    code = """
import json, os, signal, socket, subprocess, sys, time, urllib.request
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
server = subprocess.Popen([sys.executable, "-m", "gunicorn", "config.wsgi", "--bind",
                           f"127.0.0.1:{port}", "--workers", "1"])
try:
    for _ in range(100):
        try:
            login = urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/")
            break
        except OSError:
            time.sleep(0.2)
    css = urllib.request.urlopen(f"http://127.0.0.1:{port}/static/admin/css/base.css")
    print(json.dumps({"login": login.status, "css": css.status,
                      "server": login.headers.get("Server", "")}))
finally:
    server.send_signal(signal.SIGTERM); server.wait(20)
"""
    done = run("-c", code, **env)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"login": 200, "css": 200, "server": "gunicorn"}


def test_production_is_debug_off_and_https_only():
    """DEBUG off by default; plain HTTP is redirected to HTTPS; over HTTPS the answer
    carries HSTS and the CSRF cookie is Secure."""
    done = run("-c", PROBE.format(host=HOST), DJANGO_SECRET_KEY=secret(), DJANGO_ALLOWED_HOSTS=HOST)
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout.strip().splitlines()[-1])
    assert facts["debug"] is False
    assert facts["plain"] == [301, f"https://{HOST}/admin/login/"]
    assert facts["tls"] == 200
    assert facts["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert facts["csrf_cookie_secure"] and facts["session_cookie_secure"]


def test_development_settings_stay_debug_on_for_make_run():
    code = "import config.settings as s; print(s.DEBUG, s.SECRET_KEY == '' )"
    done = run("-c", code, settings="config.settings")
    assert done.stdout.split() == ["True", "False"]


def readme_row(variable: str) -> list[str]:
    """The cells of ``variable``'s row in README.md's configuration table."""
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == f"`{variable}`":
            return cells
    raise AssertionError(f"README.md's configuration table has no row for {variable}")


def test_readme_gives_the_debug_default_of_each_settings_module():
    """The configuration table says what DEBUG is with DJANGO_DEBUG unset, under the
    development and under the production settings, as the code has it; production needs
    no `DJANGO_DEBUG=0` (it said "default 1, set 0 in production")."""
    debug = {}
    for settings in ("config.settings", PRODUCTION):
        code = "from django.conf import settings as s; print(int(s.DEBUG))"
        done = run(
            "-c", code, settings=settings, DJANGO_SECRET_KEY=secret(), DJANGO_ALLOWED_HOSTS=HOST
        )
        assert done.returncode == 0, done.stderr
        debug[settings] = done.stdout.strip()
    assert debug == {"config.settings": "1", PRODUCTION: "0"}
    _, default, meaning = readme_row("DJANGO_DEBUG")
    assert default == f"`{debug['config.settings']}`; `{debug[PRODUCTION]}` with `{PRODUCTION}`"
    assert f"set `{debug[PRODUCTION]}`" not in meaning
