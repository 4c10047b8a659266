"""docker-compose.yml and the Dockerfile stay valid and match the nginx and gunicorn setup.

There is no Docker engine on these machines (STACK.md): the compose file is parsed with PyYAML and the
Dockerfile read as text. Optional profiles (the `scale` profile's redis + Celery worker) are accepted; the
always-on services are web and nginx.
"""

from __future__ import annotations

import json
import re
import runpy
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> dict:
    """Instructions of the Dockerfile: [(INSTRUCTION, arguments)], continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    steps = [line.strip().split(None, 1) for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {"steps": [(s[0].upper(), s[1] if len(s) > 1 else "") for s in steps]}


def _args(steps, name: str) -> list[str]:
    return [args for instruction, args in steps if instruction == name]


def _command(value) -> list[str]:
    return value if isinstance(value, list) else shlex.split(value)


def test_always_on_services_and_optional_profiles(compose):
    services = compose["services"]
    always = {name for name, svc in services.items() if not svc.get("profiles")}
    assert always == {"web", "nginx"}
    for name, svc in services.items():
        assert "image" in svc or "build" in svc, name
        for dep in svc.get("depends_on", {}):
            assert dep in services, (name, dep)
            spec = svc["depends_on"][dep] if isinstance(svc["depends_on"], dict) else {}
            if services[dep].get("profiles") and not svc.get("profiles"):
                assert spec.get("required") is False, f"{name} must not require {dep} (profile-only)"
    # only nginx is published; gunicorn, Redis and workers stay on the compose network
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"nginx"} and services["nginx"]["ports"] == ["8080:80"]


def test_nginx_mounts_the_repository_config_and_proxies_to_web(compose):
    nginx = compose["services"]["nginx"]
    assert nginx["image"].startswith("nginx:")
    mounts = [v.split(":") for v in nginx["volumes"]]
    assert ["./deploy/nginx.conf", "/etc/nginx/conf.d/default.conf", "ro"] in mounts
    for source, *_ in mounts:
        assert (ROOT / source).exists(), source
    assert "web" in nginx["depends_on"]
    conf = (ROOT / "deploy/nginx.conf").read_text()
    upstream = re.search(r"^\s*server\s+([\w.-]+):(\d+);\s*# neon: upstream", conf, re.MULTILINE)
    assert upstream and upstream.group(1) == "web"
    assert re.search(r"^\s*listen\s+80;\s*# neon: listen", conf, re.MULTILINE)
    assert re.search(r"^\s*client_max_body_size\s+\d+m;", conf, re.MULTILINE)
    assert re.search(r"^\s*server_tokens\s+off;", conf, re.MULTILINE)


def test_web_runs_gunicorn_with_the_repository_conf_on_the_port_nginx_expects(compose, dockerfile, monkeypatch):
    web = compose["services"]["web"]
    cmd_args = _args(dockerfile["steps"], "CMD")
    command = _command(web["command"]) if "command" in web else json.loads(cmd_args[-1])
    assert command[0] == "gunicorn" and "wsgi:server" in command
    assert command[command.index("-c") + 1] == "deploy/gunicorn.conf.py"
    # the bind gunicorn.conf.py computes from the image's environment is what nginx proxies to
    env = dict(re.findall(r"(\w+)=(\S+)", " ".join(_args(dockerfile["steps"], "ENV"))))
    for key in ("HOST", "PORT", "BIND"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOST", env["HOST"])
    monkeypatch.setenv("PORT", env["PORT"])
    monkeypatch.setenv("NEON_JOB_CACHE_DIR", env["NEON_JOB_CACHE_DIR"])  # the conf setdefault()s it: undone after
    conf = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    port = re.search(r"server\s+web:(\d+);", (ROOT / "deploy/nginx.conf").read_text()).group(1)
    assert conf["bind"] == f"0.0.0.0:{port}" and conf["worker_class"] == "gthread"
    assert port in _args(dockerfile["steps"], "EXPOSE")
    # the job cache volume sits where the image points NEON_JOB_CACHE_DIR
    volumes = [v.split(":") for v in web["volumes"]]
    assert [compose_name for compose_name, target in volumes if target == env["NEON_JOB_CACHE_DIR"]] == ["jobcache"]
    named = {v.split(":")[0] for svc in compose["services"].values() for v in svc.get("volumes", [])
             if not v.startswith((".", "/"))}
    assert named <= set(compose.get("volumes") or {})


def test_dockerfile_base_image_requirements_user_and_healthcheck(dockerfile):
    steps = dockerfile["steps"]
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.11")
    assert any("pip install" in a and "-r requirements.txt" in a for a in _args(steps, "RUN"))
    assert any(a.split()[0] == "requirements.txt" for a in _args(steps, "COPY"))
    copied = {a.split()[0] for a in _args(steps, "COPY")}
    for needed in ("app", "core", "callbacks", "layouts", "assets", "models", "data", "deploy"):
        assert needed in copied, needed
    users = _args(steps, "USER")
    assert users and users[-1] not in ("root", "0")
    order = [name for name, _ in steps]
    assert order.index("USER") < order.index("CMD")
    assert len(_args(steps, "HEALTHCHECK")) == 1 and "/healthz" in _args(steps, "HEALTHCHECK")[0]
