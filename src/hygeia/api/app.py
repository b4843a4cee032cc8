"""The FastAPI application: one router per area, mounted here."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hygeia import __version__
from hygeia.api.routes import auth, fhir, health
from hygeia.config import Settings
from hygeia.records.store import Store

log = logging.getLogger("hygeia.api")


def _outcome(status_code: int, message: str) -> dict[str, object]:
    severity = "error" if status_code >= 400 else "information"
    code = {401: "login", 403: "forbidden", 404: "not-found", 422: "invalid", 400: "invalid",
            413: "too-costly", 415: "not-supported"}.get(status_code, "exception")
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": message}]}


def create_app(store: Store, settings: Settings, *, demo: bool = False) -> FastAPI:
    """The API over ``store``. Refuses a default secret unless ``demo``."""
    if settings.has_default_secret() and not demo:
        raise RuntimeError(
            "refusing to start with the default secret: set HYGEIA_SECRET_KEY (e.g. `export "
            "HYGEIA_SECRET_KEY=$(python -c 'import secrets;print(secrets.token_hex(32))')`) or run with --demo")
    app = FastAPI(title="Hygeia", version=__version__,
                  description="Open clinical AI platform. Decision support for clinicians; every patient-data "
                              "access is authenticated and audited.")
    app.state.store = store
    app.state.settings = settings
    # One router per area; add yours here.
    for router in (health.router, auth.router, fhir.router):
        app.include_router(router)

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Logs the route template, never the concrete path or query (they carry patient ids).
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "-")
        log.info("%s %s %d %.1fms", request.method, template, response.status_code,
                 (time.perf_counter() - started) * 1000)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = _outcome(exc.status_code, str(exc.detail)) if request.url.path.startswith("/fhir") \
            else {"detail": exc.detail}
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        if request.url.path.startswith("/fhir"):
            text = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)
            return JSONResponse(_outcome(400, text), status_code=400)
        return JSONResponse({"detail": errors}, status_code=422)

    return app
