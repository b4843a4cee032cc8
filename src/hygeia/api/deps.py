"""Typed dependencies shared by the routers: the store, the settings and the signed-in principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.governance.access import AccessError, User, user_for_token
from hygeia.governance.smart import authorize, looks_like_jwt, user_for_access_token
from hygeia.records.store import Store

# ASGI scope key under which LimitsMiddleware leaves the JSON body it parsed (routes may reuse it).
PARSED_BODY = "hygeia.parsed_body"

_bearer = HTTPBearer(auto_error=False, description="Token from POST /auth/token (users) or /oauth/token "
                                                   "(SMART backend services)")


# `async def` for what does not block: FastAPI runs a sync dependency in the threadpool (a thread hop).
async def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def current_user(store: StoreDep, settings: SettingsDep,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    """The principal behind the bearer token; 401 with a WWW-Authenticate header otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required: send "
                            "'Authorization: Bearer <token>' (POST /auth/token to get one)",
                            headers={"WWW-Authenticate": "Bearer"})
    token = credentials.credentials
    try:
        if looks_like_jwt(token):
            return user_for_access_token(store, token, settings.secret_key.get_secret_value())
        return user_for_token(store, token)
    except AccessError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


UserDep = Annotated[User, Depends(current_user)]


def purpose_of(user: User) -> str:
    """AuditEvent purpose of use (v3-ActReason) implied by the principal's role."""
    from hygeia.governance.access import Role

    if user.has(Role.CLINICIAN, Role.NURSE, Role.PHARMACIST):
        return "TREAT"
    if user.has(Role.PATIENT):
        return "PATRQT"
    if user.has(Role.RESEARCHER):
        return "HRESCH"
    return "HOPERAT"


def check_access(store: Store, user: User, resource_type: str, interaction: str, patient_id: str | None,
                 label: str) -> None:
    """Scope + role check (403 on refusal). Every decision about patient data is audited."""
    reason = authorize(user, resource_type, interaction, patient_id)
    action = {"c": "C", "r": "R", "s": "R", "u": "U", "d": "D"}.get(interaction, "E")
    if reason is not None:
        audit.record(store, username=user.username, role=user.role.value, action=action, patient_id=patient_id,
                     resource=label[:255], outcome="4", purpose=purpose_of(user), detail=f"denied: {reason}")
        raise HTTPException(status.HTTP_403_FORBIDDEN, reason)
    if patient_id is not None:
        audit.record(store, username=user.username, role=user.role.value, action=action, patient_id=patient_id,
                     resource=label[:255], purpose=purpose_of(user))


def require_patient_access(store: Store, user: User, patient_id: str | None, resource: str, action: str = "R") -> None:
    """Refuse (403) and audit a denied access, or audit the permitted one (care-team or own record)."""
    if patient_id is not None and not user.may_read_patient(patient_id):
        audit.record(store, username=user.username, role=user.role.value, action=action, patient_id=patient_id,
                     resource=resource, outcome="4", purpose=purpose_of(user),
                     detail="denied: role does not permit this patient")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not permit access to this patient's data")
    if patient_id is not None:
        audit.record(store, username=user.username, role=user.role.value, action=action, patient_id=patient_id,
                     resource=resource, purpose=purpose_of(user))
