"""Typed dependencies shared by the routers: the store, the settings and the signed-in user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hygeia.config import Settings
from hygeia.governance import audit
from hygeia.governance.access import AccessError, User, user_for_token
from hygeia.records.store import Store

_bearer = HTTPBearer(auto_error=False, description="Token from POST /auth/token")


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def current_user(store: StoreDep, credentials: Annotated[HTTPAuthorizationCredentials | None,
                                                         Depends(_bearer)]) -> User:
    """The user behind the bearer token; 401 with a WWW-Authenticate header otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "authentication required: send "
                            "'Authorization: Bearer <token>' (POST /auth/token to get one)",
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        return user_for_token(store, credentials.credentials)
    except AccessError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc),
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None


UserDep = Annotated[User, Depends(current_user)]


def require_patient_access(store: Store, user: User, patient_id: str | None, resource: str, action: str = "R") -> None:
    """Refuse (403) and audit a denied access, or audit the permitted one."""
    if patient_id is not None and not user.may_read_patient(patient_id):
        audit.record(store, username=user.username, role=user.role.value, action=action, patient_id=patient_id,
                     resource=resource, outcome="4", detail="denied: role does not permit this patient")
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not permit access to this patient's data")
    if patient_id is not None:
        audit.record(store, username=user.username, role=user.role.value, action=action, patient_id=patient_id,
                     resource=resource)
