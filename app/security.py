"""HTTP security headers, including a strict Content-Security-Policy that the whole app runs under."""

from __future__ import annotations

from collections.abc import Callable


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
