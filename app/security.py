"""HTTP security headers, including a strict Content-Security-Policy that the whole app runs under."""

from __future__ import annotations


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


def install(server, csp: str | None) -> None:
    """Add security headers to every Flask response."""

    @server.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if csp:
            response.headers.setdefault("Content-Security-Policy", csp)
        return response
