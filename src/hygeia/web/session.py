"""Browser sessions: the bearer token of ``hygeia.governance.access`` in an HttpOnly, SameSite=Strict
cookie, and CSRF tokens for every state-changing request.

* Signed in: the CSRF token is an HMAC of the session token under the server secret; pages carry it in
  ``<meta name="csrf-token">`` and scripts send it as ``X-CSRF-Token``.
* Signing in: a random pre-session token in a cookie, echoed in the form (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from hygeia.config import Settings
from hygeia.governance.access import AccessError, User, user_for_token
from hygeia.records.store import Store

SESSION_COOKIE = "hygeia_session"
LOGIN_COOKIE = "hygeia_login_csrf"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/web"


def csrf_for(settings: Settings, session_token: str) -> str:
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()[:40]


def session_user(request: Request, store: Store) -> tuple[User, str] | None:
    """The signed-in user and their session token, or None (no cookie, expired or revoked token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 256:
        return None
    try:
        return user_for_token(store, token), token
    except AccessError:
        return None


def csrf_ok(request: Request, settings: Settings, session_token: str, sent: str | None = None) -> bool:
    given = sent or request.headers.get(CSRF_HEADER) or ""
    return bool(given) and hmac.compare_digest(given, csrf_for(settings, session_token))


def login_csrf(request: Request) -> str:
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="strict")
