"""Sign-in: exchange a username and password for a bearer token (OAuth 2 password form)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status
from pydantic import BaseModel

from hygeia.api.deps import SettingsDep, StoreDep, UserDep
from hygeia.governance import audit
from hygeia.governance.access import AccessError, authenticate, issue_token
from hygeia.governance.smart import ScopeError, narrow

router = APIRouter(prefix="/auth", tags=["auth"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    roles: list[str]
    scope: str


class WhoAmI(BaseModel):
    username: str
    roles: list[str]
    patient_id: str | None
    scopes: list[str]


@router.post("/token", response_model=TokenResponse)
def token(store: StoreDep, settings: SettingsDep, username: Annotated[str, Form(max_length=128)],
          password: Annotated[str, Form(max_length=1024)],
          scope: Annotated[str | None, Form(max_length=2000)] = None) -> TokenResponse:
    """A bearer token for a platform user (created with `hygeia users add`). ``scope`` (SMART v1/v2,
    e.g. ``user/Observation.rs``) narrows the token below the role's default scopes."""
    try:
        user = authenticate(store, username, password)
    except AccessError:
        audit.record(store, username=username[:128], role=None, action="E", resource="auth/token", outcome="4",
                     purpose=None, detail="failed sign-in")
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid username or password",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    ttl = timedelta(minutes=settings.token_ttl_minutes)
    granted = None
    if scope:
        try:
            granted = narrow(scope, " ".join(user.scopes))
        except ScopeError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        if not granted:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"none of the requested scopes is within your "
                                f"role's scopes ({' '.join(user.scopes)})")
    value, _ = issue_token(store, user, ttl, granted)
    audit.record(store, username=user.username, role=user.role.value, action="E", resource="auth/token",
                 purpose=None, detail="sign-in")
    return TokenResponse(access_token=value, expires_in=int(ttl.total_seconds()), roles=[r.value for r in user.roles],
                         scope=granted or " ".join(user.scopes))


@router.get("/me", response_model=WhoAmI)
def me(user: UserDep) -> WhoAmI:
    return WhoAmI(username=user.username, roles=[r.value for r in user.roles], patient_id=user.patient_id,
                  scopes=list(user.scopes))
