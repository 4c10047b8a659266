"""Hostile input at the HTTP edge: a 4xx and ONE log line, never a 500 with a stack trace.

- `/_dash-update-component` (Dash's callback dispatch): the body must be a JSON object whose `output`
  names a server-side callback of this app, with inputs/state lists of the declared length and the
  shape the renderer sends. Anything else gets 400 (415 for a body that is not JSON) before Dash sees it.
- What still slips through and makes Dash's own parsing fail (KeyError/TypeError/ValueError/IndexError/
  AttributeError/RecursionError raised inside dash or flask, with no frame of this repository's code in
  the traceback) is answered 400 too. An exception that passed through app code (a callback) is a real
  bug: it keeps Flask's 500 and its logged traceback. The app's callbacks already turn their own failures
  into in-page alerts (callbacks/__init__.py failed()), so a 500 there means something new broke.
- Bodies over MAX_CONTENT_LENGTH get 413 with a JSON message (assets/http_errors.js shows it in the page).
- `/assets/...` and `/_dash-component-suites/...`: a path that does not name one of their files (traversal,
  absolute, encoded, an unregistered library or bundle such as the `.dev.js` ones) gets 404, never the
  app's page shell and never Dash's DependencyException as a 500.
- Flask's debug flag is off unless Settings.dev (`make dev`), whatever FLASK_DEBUG says.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from dash import _callback as dash_callback
from dash.exceptions import CallbackException, DependencyException
from flask import jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.settings import REPO_ROOT

log = logging.getLogger("neon.http")

_PAYLOAD_ERRORS = (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError)
# Dash's own request checks ("Output does not match callback definition", ...) raise CallbackException
_DASH_REQUEST_CHECKS = {"validate_output_spec", "validate_and_group_input_args"}
# The frame Dash calls a callback from: an exception that passed through it came from the callback.
_CALLBACK_CODES = {f.__code__ for f in (getattr(dash_callback, "_invoke_callback", None),
                                        getattr(dash_callback, "_async_invoke_callback", None)) if f}
_HERE = str(Path(__file__).resolve())


class BadCallbackRequest(ValueError):
    """A callback request that no renderer of this app would send; the message says why (one line)."""


def _quote(value, limit: int = 80) -> str:
    """User-supplied text for a log line: repr'd (no newlines or control characters) and cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def reject(status: int, reason: str, **extra):
    """The JSON answer to a refused request, and its one log line."""
    log.warning("%s %s %s from %s: %s", status, request.method, _quote(request.path, 120),
                request.remote_addr or "-", reason)
    return jsonify({"error": reason, **extra}), status


def _is_dep(item) -> bool:
    return (isinstance(item, dict) and isinstance(item.get("property"), str)
            and isinstance(item.get("id"), (str, dict)))


def _check_deps(name: str, items, declared: list | None) -> None:
    if not isinstance(items, list):
        raise BadCallbackRequest(f"{name} must be a list")
    if declared is not None and len(items) != len(declared):
        raise BadCallbackRequest(f"{name} has {len(items)} entries, the callback declares {len(declared)}")
    for item in items:
        # pattern-matching inputs (ALL, ALLSMALLER) arrive as a list of matches
        if not (_is_dep(item) or (isinstance(item, list) and all(_is_dep(i) for i in item))):
            raise BadCallbackRequest(f"{name} entries must be {{id, property, value}} objects")


def check_callback_body(body, callback_map: dict) -> None:
    """BadCallbackRequest unless `body` has the shape the Dash renderer sends for a registered callback."""
    if not isinstance(body, dict):
        raise BadCallbackRequest("the body must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str):
        raise BadCallbackRequest("output must be a string")
    spec = callback_map.get(output)
    if spec is None or "callback" not in spec:
        raise BadCallbackRequest(f"unknown callback output {_quote(output)}")
    outputs = body.get("outputs", [])
    if _is_dep(outputs):
        outputs = [outputs]
    if not isinstance(outputs, list) or not all(_is_dep(o) or isinstance(o, list) for o in outputs):
        raise BadCallbackRequest("outputs must be {id, property} objects")
    declared = spec.get("output")
    if not spec.get("no_output") and declared is not None:
        count = len(declared) if isinstance(declared, (list, tuple)) else 1
        if len(outputs) != count:
            raise BadCallbackRequest(f"outputs has {len(outputs)} entries, the callback declares {count}")
    _check_deps("inputs", body.get("inputs"), spec.get("inputs"))
    if "state" in body or spec.get("state"):
        _check_deps("state", body.get("state"), spec.get("state"))
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadCallbackRequest("changedPropIds must be a list of strings")


def _is_app_file(path: str) -> bool:
    return path.startswith(str(REPO_ROOT)) and "site-packages" not in path and path != _HERE


def payload_error(exc: BaseException) -> bool:
    """True when Dash raised `exc` while reading a malformed request; False for a bug in (or after) a callback.

    A bug: the traceback passes through Dash's callback invocation or through this repository's code, or
    the exception is not one that bad input produces (e.g. InvalidCallbackReturnValue: a callback returned
    the wrong shape).
    """
    tb, codes = exc.__traceback__, []
    while tb is not None:
        codes.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    if any(code in _CALLBACK_CODES or _is_app_file(code.co_filename) for code in codes):
        return False
    if isinstance(exc, CallbackException):
        last = codes[-1] if codes else None
        return (last is not None and last.co_name in _DASH_REQUEST_CHECKS
                and Path(last.co_filename).name == "_validate.py")
    return isinstance(exc, _PAYLOAD_ERRORS)


def install(app) -> None:
    """Register the guards on the Dash app's Flask server (after the routes exist, i.e. after Dash())."""
    server = app.server
    settings = server.config.get("NEON_SETTINGS")
    if not getattr(settings, "dev", False):
        server.debug = False  # FLASK_DEBUG=1 in a production environment changes nothing
    prefix = app.config.routes_pathname_prefix
    dispatch = f"{prefix}_dash-update-component"
    suites_prefix = f"{prefix}_dash-component-suites/"
    suites_endpoint = f"{suites_prefix}<string:package_name>/<path:fingerprinted_path>"
    assets_prefix = f"{prefix}{app.config.assets_url_path.strip('/')}/"
    assets_endpoints = {e for e, rule in ((r.endpoint, r.rule) for r in server.url_map.iter_rules())
                        if rule.startswith(assets_prefix) and e != suites_endpoint}

    @server.before_request
    def _guard_static_paths():
        path = request.path
        if path.startswith(assets_prefix) and request.endpoint not in assets_endpoints:
            return reject(404, "no such asset")
        if path.startswith(suites_prefix) and (request.endpoint != suites_endpoint
                                               or ".." in path.split("/") or "\\" in path):
            return reject(404, "no such component bundle")
        return None

    @server.before_request
    def _validate_dispatch():
        if request.path != dispatch or request.method != "POST":
            return None
        if not request.is_json:
            return reject(415, "callback requests are JSON (Content-Type: application/json)")
        try:
            # cached by Flask: Dash's own request.get_json() reuses the parsed body
            body = request.get_json(silent=False)
        except RecursionError:
            return reject(400, "malformed JSON: nested too deeply")
        except HTTPException as exc:
            if isinstance(exc, RequestEntityTooLarge):
                raise
            return reject(400, "malformed JSON")
        try:
            check_callback_body(body, app.callback_map)
        except BadCallbackRequest as exc:
            return reject(400, str(exc))
        return None

    view = server.view_functions[dispatch]

    @functools.wraps(view)
    def guarded_dispatch(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except (*_PAYLOAD_ERRORS, CallbackException) as exc:
            if not payload_error(exc):
                raise  # a real bug in a callback: Flask's 500 and its logged traceback
            return reject(400, f"malformed callback request ({type(exc).__name__}: {_quote(str(exc), 100)})")

    server.view_functions[dispatch] = guarded_dispatch

    @server.after_request
    def _unknown_page_is_404(response):
        # Dash serves its index for any path and draws the not-found page in the browser; the status must
        # still say 404, or crawlers, monitors and caches take /etc/passwd or /arenaa for real pages.
        if (request.method == "GET" and request.endpoint in index_endpoints and response.status_code == 200
                and not _known_page(request.path)):
            response.status_code = 404
        return response

    def _known_page(path: str) -> bool:
        import dash

        page = "/" + path[len(prefix):].strip("/") if path.startswith(prefix) else path
        return page in {p["path"] for p in dash.page_registry.values()}

    index_endpoints = {r.endpoint for r in server.url_map.iter_rules()
                       if r.rule in (prefix, f"{prefix}<path:path>")}

    @server.errorhandler(DependencyException)
    def _unknown_bundle(exc):
        return reject(404, "no such component bundle")

    @server.errorhandler(RequestEntityTooLarge)
    def _too_large(exc):
        limit = server.config.get("MAX_CONTENT_LENGTH")
        mb = getattr(settings, "max_upload_mb", None)
        message = (f"This file is too large to upload: files up to {mb} MB are accepted. Choose a smaller file."
                   if mb else "This request is too large for the server.")
        return reject(413, "payload_too_large", message=message, limit_bytes=limit)

