"""The web dashboard under ``/web``: server-rendered pages (Jinja2) with plotly charts, for each role.

| page | roles |
|---|---|
| ``/web/ward``, ``/web/patient/{id}``, ``/web/alerts`` | clinician, nurse, pharmacist |
| ``/web/ops`` | operations |
| ``/web/governance`` (+ model cards) | governance (model registry and cards also researcher) |
| ``/web/me`` | patient (their own record only) |

Sign-in uses the platform's users; the session is the bearer token in an HttpOnly, SameSite=Strict
cookie; every POST needs the CSRF token. Every view of a patient's data is audited (denials too).
Everything shown is decision support for a qualified clinician.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.governance.access import AccessError, Role, User, authenticate, issue_token, revoke_token
from hygeia.records.record import PatientRecord
from hygeia.records.store import NotFound, Store
from hygeia.web import clinical, panels
from hygeia.web.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    csrf_for,
    csrf_ok,
    login_csrf,
    session_user,
    set_cookie,
)

HERE = Path(__file__).parent
router = APIRouter(prefix="/web", tags=["dashboard"], include_in_schema=False)
templates = Jinja2Templates(directory=str(HERE / "templates"))
_md = MarkdownIt("commonmark", {"html": False}).enable("table")
templates.env.filters["markdown"] = lambda text: Markup(_md.render(str(text or "")))
templates.env.filters["tojson_fig"] = lambda fig: Markup(
    orjson.dumps(fig, option=orjson.OPT_SERIALIZE_NUMPY).decode().replace("</", "<\\/"))

CARE = (Role.CLINICIAN, Role.NURSE, Role.PHARMACIST)
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
NAV = (("ward", "Ward", CARE), ("alerts", "Alerts", CARE), ("ops", "Operations", (Role.OPERATIONS,)),
       ("governance", "Governance", (Role.GOVERNANCE, Role.RESEARCHER)), ("me", "My record", (Role.PATIENT,)))


def purpose_of(user: User) -> str:
    from hygeia.api.deps import purpose_of as api_purpose  # not at import time: hygeia.api imports this module

    return api_purpose(user)


def require_patient_access(store: Store, user: User, patient_id: str, resource: str, action: str = "R") -> None:
    """The API's check: 403 (audited) unless the role may read this patient; the permitted view is audited."""
    from hygeia.api.deps import require_patient_access as api_require

    api_require(store, user, patient_id, resource, action)


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def now_of(request: Request) -> datetime:
    """The dashboard's clock (``app.state.web_clock`` when set, for replaying a synthetic hospital)."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "web_clock", None)
    return clock() if clock else datetime.now(UTC)


def artefacts_dir(request: Request) -> Path:
    found: Path | None = getattr(request.app.state, "web_artefacts", None)
    return found or _settings(request).data_dir / "artefacts"


def _page(request: Request, name: str, user: User | None, token: str | None, status: int = 200,
          **context: Any) -> HTMLResponse:
    nav = [(key, label) for key, label, roles in NAV if user is not None and user.has(*roles)]
    response = templates.TemplateResponse(request, name, {
        "user": user, "nav": nav, "csrf": csrf_for(_settings(request), token) if token else "",
        "notice": DECISION_SUPPORT_NOTICE, **context}, status_code=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _signed_in(request: Request, *roles: Role) -> tuple[User, str] | Response:
    """The session's user if it has one of ``roles`` (any, when none given); else the sign-in page or a 403."""
    found = session_user(request, _store(request))
    if found is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/web/login?next={target}", status_code=303)
    user, token = found
    if roles and not user.has(*roles):
        return _page(request, "error.html", user, token, status=403, title="Not permitted",
                     message=f"Your role ({user.role.value}) does not give access to this page.")
    return found


def _patient_access(request: Request, user: User, token: str, patient_id: str, resource: str) -> Response | None:
    try:
        require_patient_access(_store(request), user, patient_id, resource)
    except HTTPException as exc:
        return _page(request, "error.html", user, token, status=exc.status_code, title="Not permitted",
                     message=str(exc.detail) + " This attempt has been recorded in the audit log.")
    return None


# ----------------------------------------------------------------------------------------------------
# static files and sign-in

_STATIC = {"app.js": "text/javascript", "style.css": "text/css"}


@lru_cache(maxsize=1)
def plotly_js() -> Path:
    """plotly.min.js from the installed plotly wheel (never a CDN: the dashboard works offline)."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name == "plotly.min.js":
        path = plotly_js()
        if not path.is_file():
            raise HTTPException(404, "plotly.min.js is missing from the plotly package; reinstall plotly")
        media = "text/javascript"
    elif name in _STATIC:
        path, media = HERE / "static" / name, _STATIC[name]
    else:
        raise HTTPException(404, f"no static file {name!r}")
    response = FileResponse(path, media_type=media)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _home(user: User) -> str:
    for key, _, roles in NAV:
        if user.has(*roles):
            return f"/web/{key}"
    return "/web/home"


@router.get("")
@router.get("/")
def index(request: Request) -> Response:
    found = _signed_in(request)
    if isinstance(found, Response):
        return found
    return RedirectResponse(_home(found[0]), status_code=303)


@router.get("/home")
def home(request: Request) -> Response:
    found = _signed_in(request)
    if isinstance(found, Response):
        return found
    return _page(request, "home.html", *found, title="Hygeia")


def _safe_next(target: str | None) -> str | None:
    return target if target and target.startswith("/web/") and not target.startswith("//") else None


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    token = login_csrf(request)
    response = _page(request, "login.html", None, None, title="Sign in", login_csrf=token,
                     next=_safe_next(next) or "")
    set_cookie(response, request, LOGIN_COOKIE, token, 3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    """JSON ``{username, password, next}`` with the sign-in CSRF token in ``X-CSRF-Token``."""
    store, settings = _store(request), _settings(request)
    cookie = request.cookies.get(LOGIN_COOKIE)
    if not cookie or request.headers.get("x-csrf-token") != cookie:
        return JSONResponse({"detail": "sign-in form expired; reload the page"}, status_code=403)
    try:
        body = await request.json()
        username, password = str(body["username"])[:128], str(body["password"])[:1024]
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"detail": "send username and password"}, status_code=400)
    try:
        user = await asyncio.to_thread(authenticate, store, username, password)
    except AccessError:
        await asyncio.to_thread(audit.record, store, username=username, role=None, action="E",
                                resource="web/login", outcome="4", purpose=None, detail="failed sign-in")
        return JSONResponse({"detail": "invalid username or password"}, status_code=401)
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    token, _ = await asyncio.to_thread(issue_token, store, user, ttl)
    await asyncio.to_thread(audit.record, store, username=user.username, role=user.role.value, action="E",
                            resource="web/login", purpose=None, detail="sign-in")
    response = JSONResponse({"redirect": _safe_next(str(body.get("next") or "")) or _home(user)})
    set_cookie(response, request, SESSION_COOKIE, token, int(ttl.total_seconds()))
    clear_cookie(response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    found = session_user(request, _store(request))
    if found is not None:
        if not csrf_ok(request, _settings(request), found[1]):
            return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
        revoke_token(_store(request), found[1])
    response = JSONResponse({"redirect": "/web/login"})
    clear_cookie(response, SESSION_COOKIE)
    return response


# ----------------------------------------------------------------------------------------------------
# ward, patient, alerts (care team)

_places_cache: dict[int, tuple[float, clinical.Places]] = {}


def places(store: Store) -> clinical.Places:
    """Locations change rarely: cached for 5 minutes per store."""
    hit = _places_cache.get(id(store))
    if hit is None or time.monotonic() - hit[0] > 300:
        hit = (time.monotonic(), clinical.load_places(store))
        _places_cache[id(store)] = hit
    return hit[1]


def _ward_data(request: Request, user: User, ward: str | None) -> tuple[list[str], str | None,
                                                                        list[clinical.WardRow]]:
    store = _store(request)
    stays = clinical.current_stays(store, places(store))
    wards = sorted({s.ward for s in stays})
    chosen = ward if ward in wards else None
    shown = [s for s in stays if chosen is None or s.ward == chosen]
    rows = clinical.ward_rows(store, shown, now_of(request))
    with audit.chain_transaction(store) as conn:  # every patient the page shows is audited, in one commit
        for row in rows:
            audit.append(conn, username=user.username, role=user.role.value, action="R", patient_id=row.patient_id,
                         resource="web/ward", purpose=purpose_of(user))
    rows.sort(key=lambda r: (-r.top_alert_level, -(r.news2 or -1), r.name))
    return wards, chosen, rows


@router.get("/ward")
def ward_page(request: Request, ward: str | None = None) -> Response:
    found = _signed_in(request, *CARE)
    if isinstance(found, Response):
        return found
    wards, chosen, rows = _ward_data(request, found[0], ward)
    return _page(request, "ward.html", *found, title=f"Ward — {chosen or 'all wards'}", wards=wards, ward=chosen,
                 rows=rows, now=now_of(request))


@router.get("/ward/table")
def ward_table(request: Request, ward: str | None = None) -> Response:
    """The ward table's rows alone (the page swaps them in on each alert event)."""
    found = _signed_in(request, *CARE)
    if isinstance(found, Response):
        return found
    _, _, rows = _ward_data(request, found[0], ward)
    return _page(request, "ward_rows.html", *found, rows=rows)


@router.get("/events")
async def events(request: Request, ward: str | None = None,
                 since: int | None = Query(None, ge=0)) -> Response:
    """Server-sent alert events (raised, resent, acknowledged, superseded) for the signed-in care team."""
    from hygeia.ews.monitor import alert_events, last_event_seq

    found = _signed_in(request, *CARE)
    if isinstance(found, Response):
        return JSONResponse({"detail": "sign in as a care-team role"}, status_code=403)
    user = found[0]
    store = _store(request)
    cursor = since if since is not None else await asyncio.to_thread(last_event_seq, store)

    async def stream() -> AsyncIterator[str]:
        nonlocal cursor
        audited: set[str] = set()
        yield f"retry: 3000\n: {DECISION_SUPPORT_NOTICE}\n\n"
        idle = 0
        while not await request.is_disconnected():
            batch = await asyncio.to_thread(alert_events, store, cursor, ward=ward)
            for seq, event, doc in batch:
                cursor = seq
                if doc["patient_id"] not in audited:
                    await asyncio.to_thread(audit.record, store, username=user.username, role=user.role.value,
                                            action="R", patient_id=doc["patient_id"], resource="web/events",
                                            purpose=purpose_of(user))
                    audited.add(doc["patient_id"])
                yield f"id: {seq}\nevent: {event}\ndata: {json.dumps(doc)}\n\n"
            idle = 0 if batch else idle + 1
            if idle and idle % 15 == 0:
                yield ": keep-alive\n\n"
            await asyncio.sleep(1.0)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})


@router.get("/patient/{patient_id}")
def patient_page(request: Request, patient_id: str, days: int = Query(7, ge=1, le=365)) -> Response:
    found = _signed_in(request, *CARE, Role.PATIENT)
    if isinstance(found, Response):
        return found
    user, token = found
    if (denied := _patient_access(request, user, token, patient_id, "web/patient")) is not None:
        return denied
    if user.has(Role.PATIENT) and not user.has(*CARE):
        return RedirectResponse("/web/me", status_code=303)
    try:
        record = PatientRecord.load(_store(request), patient_id)
    except NotFound:
        return _page(request, "error.html", user, token, status=404, title="Not found",
                     message=f"There is no patient {patient_id}.")
    chart = panels.patient_chart(_store(request), record, now_of(request), days=days)
    return _page(request, "patient.html", user, token, title=chart.demographics.name or patient_id, chart=chart,
                 days=days, plain=False)


@router.get("/me")
def my_record(request: Request, days: int = Query(30, ge=1, le=365)) -> Response:
    found = _signed_in(request, Role.PATIENT)
    if isinstance(found, Response):
        return found
    user, token = found
    if not user.patient_id:
        return _page(request, "error.html", user, token, status=404, title="No record",
                     message="Your account is not linked to a patient record.")
    if (denied := _patient_access(request, user, token, user.patient_id, "web/me")) is not None:
        return denied
    try:
        record = PatientRecord.load(_store(request), user.patient_id)
    except NotFound:
        return _page(request, "error.html", user, token, status=404, title="No record",
                     message="Your record is not in this system.")
    chart = panels.patient_chart(_store(request), record, now_of(request), days=days, plain=True)
    return _page(request, "me.html", user, token, title="My record", chart=chart, days=days, plain=True)


@router.get("/alerts")
def alerts_page(request: Request, ward: str | None = None) -> Response:
    found = _signed_in(request, *CARE)
    if isinstance(found, Response):
        return found
    user, token = found
    store = _store(request)
    inbox = panels.alert_inbox(store, now_of(request), ward=ward)
    for pid in sorted({a["patient_id"] for a in inbox.open + inbox.recent}):
        audit.record(store, username=user.username, role=user.role.value, action="R", patient_id=pid,
                     resource="web/alerts", purpose=purpose_of(user))
    return _page(request, "alerts.html", user, token, title="Alert inbox", inbox=inbox, ward=ward)


@router.post("/alerts/{alert_id}/ack")
def ack(request: Request, alert_id: str) -> Response:
    from hygeia.ews.monitor import acknowledge_alert, get_alert

    found = session_user(request, _store(request))
    if found is None:
        return JSONResponse({"detail": "sign in first"}, status_code=401)
    user, token = found
    if not csrf_ok(request, _settings(request), token):
        return JSONResponse({"detail": "missing or wrong CSRF token"}, status_code=403)
    if not user.has(*CARE):
        return JSONResponse({"detail": "alerts are for care-team roles"}, status_code=403)
    alert = get_alert(_store(request), alert_id)
    if alert is None:
        return JSONResponse({"detail": f"no alert {alert_id!r}"}, status_code=404)
    require_patient_access(_store(request), user, alert["patient_id"], f"web/alerts/{alert_id}", action="U")
    return JSONResponse(acknowledge_alert(_store(request), alert_id, user.username))


# ----------------------------------------------------------------------------------------------------
# operations and governance


@router.get("/ops")
def ops_page(request: Request) -> Response:
    found = _signed_in(request, Role.OPERATIONS)
    if isinstance(found, Response):
        return found
    store = _store(request)
    board = panels.operations(store, places(store), now_of(request), artefacts_dir(request))
    return _page(request, "ops.html", *found, title="Operations", ops=board)


_verify_cache: dict[int, tuple[float, int, audit.ChainStatus]] = {}
_verify_lock = threading.Lock()


def chain_status(store: Store, max_age_s: float = 60.0) -> tuple[audit.ChainStatus, float]:
    """The audit chain's verification (walks the whole chain), cached for ``max_age_s``; and its age in s."""
    from hygeia.records.schema import audit_log

    with _verify_lock:
        hit = _verify_cache.get(id(store))
        if hit is None or time.monotonic() - hit[0] > max_age_s:
            with store.engine.connect() as conn:
                seq = int(conn.execute(select(func.coalesce(func.max(audit_log.c.seq), 0))).scalar_one())
            hit = (time.monotonic(), seq, audit.verify(store))
            _verify_cache[id(store)] = hit
    return hit[2], time.monotonic() - hit[0]


@router.get("/governance")
def governance_page(request: Request, patient: str | None = None, username: str | None = Query(None, alias="user"),
                    page: int = Query(0, ge=0, le=10_000)) -> Response:
    found = _signed_in(request, Role.GOVERNANCE, Role.RESEARCHER)
    if isinstance(found, Response):
        return found
    user, token = found
    store = _store(request)
    registry = panels.model_registry(_settings(request))
    context: dict[str, Any] = {"registry": registry, "full": user.has(Role.GOVERNANCE)}
    if user.has(Role.GOVERNANCE):
        context["feedback"] = panels.cds_feedback(store)
        context["entries"] = audit.query(store, patient_id=patient or None, username=username or None, limit=50,
                                         offset=page * 50)
        context["chain"], context["chain_age"] = chain_status(store)
        context["search"] = {"patient": patient or "", "user": username or "", "page": page}
    return _page(request, "governance.html", user, token, title="Governance", **context)


@router.get("/governance/models/{kind}/{name}")
def model_card(request: Request, kind: str, name: str) -> Response:
    found = _signed_in(request, Role.GOVERNANCE, Role.RESEARCHER)
    if isinstance(found, Response):
        return found
    card = panels.model_card(_settings(request), kind, name)
    if card is None:
        return _page(request, "error.html", *found, status=404, title="Not found", message=f"No model {kind}/{name}.")
    return _page(request, "model_card.html", *found, title=f"Model card — {card.title}", card=card)


@router.get("/governance/models/{kind}/{name}/card.html")
def model_card_html(request: Request, kind: str, name: str) -> Response:
    """A risk model's self-contained HTML card (from the registry), shown in a frame."""
    found = _signed_in(request, Role.GOVERNANCE, Role.RESEARCHER)
    if isinstance(found, Response):
        return found
    card = panels.model_card(_settings(request), kind, name)
    if card is None or card.html_path is None:
        raise HTTPException(404, "no HTML card for this model")
    response = FileResponse(card.html_path, media_type="text/html")
    response.headers["Content-Security-Policy"] = "default-src 'none'; script-src 'unsafe-inline'; " \
                                                  "style-src 'unsafe-inline'; img-src data:"
    return response


__all__ = ["router"]
