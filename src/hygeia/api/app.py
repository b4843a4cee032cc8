"""The FastAPI application: one router per area, mounted here, behind request limits."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hygeia import __version__
from hygeia.api.deps import PARSED_BODY
from hygeia.api.routes import alerts, audit, auth, bulk, cds_hooks, fhir, health, smart
from hygeia.config import Settings
from hygeia.governance.smart import JwksCache
from hygeia.records.store import Store
from hygeia.web.routes import router as web_router

log = logging.getLogger("hygeia.api")

MAX_BODY_BYTES = 10 * 1024 * 1024  # 10 MB: larger bodies get 413
MAX_JSON_DEPTH = 64  # deeper JSON gets 400 (FHIR resources nest ~10 levels)
JSON_TYPES = frozenset({"application/json", "application/fhir+json"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded"})
FORM_PATHS = frozenset({"/auth/token", "/oauth/token"})


def _outcome(status_code: int, message: str) -> dict[str, object]:
    severity = "error" if status_code >= 400 else "information"
    code = {401: "login", 403: "forbidden", 404: "not-found", 422: "processing", 400: "invalid",
            409: "conflict", 412: "conflict", 405: "not-supported", 413: "too-costly",
            415: "not-supported"}.get(status_code, "exception")
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": message}]}


def _error_body(path: str, status_code: int, message: str) -> dict[str, object]:
    return _outcome(status_code, message) if path.startswith("/fhir") else {"detail": message}


def _too_deep(value: Any, limit: int) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


class LimitsMiddleware:
    """Refuses, before any route runs: bodies over ``max_body`` (413), bodies whose content type the
    route does not take (415), malformed or too deeply nested JSON (400). The body is read once and
    replayed to the app."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app, self.max_body, self.max_depth = app, max_body, max_depth

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, code: int, message: str) -> None:
        response = JSONResponse(_error_body(scope["path"], code, message), status_code=code,
                                media_type="application/fhir+json" if scope["path"].startswith("/fhir") else None)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._refuse(scope, receive, send, 413, f"request body larger than {self.max_body} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._refuse(scope, receive, send, 413, f"request body larger than {self.max_body} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            ctype = headers.get("content-type", "").split(";")[0].strip().lower()
            allowed = FORM_TYPES if scope["path"] in FORM_PATHS else JSON_TYPES
            if ctype not in allowed:
                await self._refuse(scope, receive, send, 415, f"content type {ctype or '(none)'!r} not accepted "
                                   f"here; send {' or '.join(sorted(allowed))}")
                return
            if ctype in JSON_TYPES:
                try:
                    parsed = orjson.loads(body)
                except orjson.JSONDecodeError as exc:
                    await self._refuse(scope, receive, send, 400, f"body is not valid JSON: {exc}")
                    return
                if _too_deep(parsed, self.max_depth):
                    await self._refuse(scope, receive, send, 400, f"JSON nested deeper than {self.max_depth} levels")
                    return
                scope[PARSED_BODY] = parsed  # the same bytes are replayed below: routes may skip parsing them again
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class AccessLogMiddleware:
    """Logs method, route template, status and time of each request — never the concrete path or query
    (they carry patient ids) — and marks every response ``nosniff`` and ``no-store``. Plain ASGI: a
    ``BaseHTTPMiddleware`` would cost a task and a stream per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_marked(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_marked)
        finally:
            log.info("%s %s %d %.1fms", scope["method"], getattr(scope.get("route"), "path", "-"), status_code,
                     (time.perf_counter() - started) * 1000)


GC_THRESHOLD = (10_000, 10, 10)  # CPython's default first threshold is 700
SWITCH_INTERVAL = 0.0005  # seconds a thread waiting for the GIL waits before asking for it (default 0.005)


@asynccontextmanager
async def _warm_caches(app: FastAPI) -> AsyncIterator[None]:
    """Load before the first request what it would otherwise wait for: the PGx knowledge base (1-2 s), which
    order-select and order-sign consult on every call. Then tune the garbage collector for serving: the
    objects loaded so far (the platform's modules, the knowledge base: ~250,000) are frozen out of its
    reach, and the first generation is collected every 10,000 net allocations instead of 700. Without it a
    full collection walked them all every few thousand requests — 200-400 ms during which the worker
    answered nothing (the CDS benchmark's p99) — and young collections cost ~0.3 ms per call."""
    from hygeia.pgx.kb import KbError, cached_kb, default_kb_dir

    try:
        await asyncio.to_thread(lambda: cached_kb(str(default_kb_dir())))
    except (KbError, OSError) as exc:  # the hooks then answer with an "unavailable" card
        log.warning("pharmacogenomic knowledge base not loaded at start-up: %s", exc)
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    sys.setswitchinterval(SWITCH_INTERVAL)
    yield


def create_app(store: Store, settings: Settings, *, demo: bool = False, max_body: int = MAX_BODY_BYTES,
               warm: bool = False) -> FastAPI:
    """The API over ``store``. Refuses a default secret unless ``demo``. ``warm``: load the caches the
    first requests need at start-up (what `hygeia serve` does; tests build apps without it)."""
    if settings.has_default_secret() and not demo:
        raise RuntimeError(
            "refusing to start with the default secret: set HYGEIA_SECRET_KEY (e.g. `export "
            "HYGEIA_SECRET_KEY=$(python -c 'import secrets;print(secrets.token_hex(32))')`) or run with --demo")
    app = FastAPI(title="Hygeia", version=__version__, lifespan=_warm_caches if warm else None,
                  description="Open clinical AI platform. Decision support for clinicians; every patient-data "
                              "access is authenticated and audited.")
    app.state.store = store
    app.state.settings = settings
    # One router per area; add yours here. (bulk before fhir: /fhir/$export must not match /fhir/{type}.)
    for router in (health.router, auth.router, smart.router, bulk.router, fhir.router, alerts.router,
                   cds_hooks.router, audit.router, web_router):
        app.include_router(router)

    app.router.routes.insert(0, cds_hooks.fast_route)  # the CDS calls, ahead of FastAPI's route search
    app.state.jwks_cache = JwksCache()  # client keys, clients and accepted jtis, shared by the app's threads
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(LimitsMiddleware, max_body=max_body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = _error_body(request.url.path, exc.status_code, str(exc.detail))
        if exc.status_code == 422 and not request.url.path.startswith("/fhir"):  # the documented 422 shape
            body = {"detail": [{"loc": [], "msg": str(exc.detail), "type": "value_error"}]}
        return JSONResponse(body,
                            status_code=exc.status_code, headers=getattr(exc, "headers", None),
                            media_type="application/fhir+json" if request.url.path.startswith("/fhir") else None)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        if request.url.path.startswith("/fhir"):
            text = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
            return JSONResponse(_outcome(400, text), status_code=400, media_type="application/fhir+json")
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        # The exception's type and the route template only: messages may carry patient data.
        template = getattr(request.scope.get("route"), "path", "-")
        log.error("unhandled %s in %s %s", type(exc).__name__, request.method, template)
        return JSONResponse(_error_body(request.url.path, 500, "internal error (logged without patient data)"),
                            status_code=500)

    return app


def app_from_settings() -> FastAPI:
    """The app for the configured store — the factory uvicorn's worker processes call."""
    from hygeia.config import get_settings

    if not logging.getLogger().handlers:  # a spawned worker: log as `hygeia serve` does (the access log)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    return create_app(Store(settings.resolved_database_url()), settings, demo=settings.demo_mode, warm=True)
