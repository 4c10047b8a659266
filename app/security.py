"""HTTP security headers, including a strict Content-Security-Policy that the whole app runs under, and
optional basic authentication for private deployments (NEON_BASIC_AUTH_USER / NEON_BASIC_AUTH_PASSWORD)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Callable

from flask import Response, request

log = logging.getLogger("neon.http")


def csp_header(script_hashes: list[str]) -> str:
    # Everything is served from 'self' (the bootswatch theme and fonts are vendored in assets/).
    # Plotly and Dash components set inline styles, hence style-src 'unsafe-inline'; scripts stay strict.
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "media-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{key} {' '.join(values)}" for key, values in directives.items())


def install(server, csp: Callable[[], str] | None) -> None:
    """Add security headers to every Flask response; `csp` builds the policy (None: no CSP header).

    The policy is built per response from a cheap memo: Dash adds some inline scripts (the pages title
    updater) only when it sets itself up on the first request, after create_app has returned.
    """

    @server.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if csp is not None:
            response.headers.setdefault("Content-Security-Policy", csp())
        return response


def dash_csp(app) -> Callable[[], str]:
    """A CSP builder for a Dash app: script hashes of its inline scripts, rebuilt only when they change."""
    memo: dict[int, str] = {}

    def build() -> str:
        count = len(getattr(app, "_inline_scripts", ()))
        if count not in memo:
            memo.clear()
            memo[count] = csp_header(list(app.csp_hashes()))
        return memo[count]

    return build


def install_basic_auth(server, user: str, password: str, open_paths: tuple[str, ...] = ("/healthz",)) -> None:
    """HTTP basic authentication on every path but `open_paths` (probes); no-op when `user` is empty.

    Credentials are compared in constant time (HMAC compare of SHA-256 digests, so neither the content nor
    the length of a guess leaks through timing). Browsers resend them with every same-origin request,
    including Dash's callback POSTs.
    """
    if not user:
        return
    expected = (_digest(user), _digest(password))

    @server.before_request
    def _basic_auth():
        if request.path in open_paths:
            return None
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            # both comparisons always run: no early exit on a wrong user name
            user_ok = hmac.compare_digest(_digest(auth.username or ""), expected[0])
            password_ok = hmac.compare_digest(_digest(auth.password or ""), expected[1])
            if user_ok and password_ok:
                return None
            log.warning("401 %s %r from %s: wrong basic-auth credentials", request.method, request.path[:120],
                        request.remote_addr or "-")
        return Response("Authentication required.\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Basic realm="Neon Arena", charset="UTF-8"'})


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()
