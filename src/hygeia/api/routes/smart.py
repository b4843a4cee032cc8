"""SMART App Launch discovery and the OAuth 2 token endpoint for backend services.

SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): a registered
client (``hygeia users add-client``) posts ``grant_type=client_credentials`` with a
``client_assertion`` JWT signed by its private key (RS384/ES384) and gets a short-lived bearer token
carrying the granted ``system/`` scopes. Errors follow RFC 6749 §5.2.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from hygeia.api.deps import SettingsDep, StoreDep
from hygeia.governance import audit
from hygeia.governance.access import AccessError
from hygeia.governance.smart import (
    ASYMMETRIC_ALGORITHMS,
    JwksCache,
    ScopeError,
    issue_access_token,
    narrow,
    verify_client_jwt,
)

router = APIRouter(tags=["smart"])
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPES_SUPPORTED = ["system/*.rs", "system/*.read", "user/*.cruds", "user/*.read", "user/Observation.rs",
                    "patient/*.rs", "patient/*.read"]


def jwks_cache(request: Request) -> JwksCache:
    cache = getattr(request.app.state, "jwks_cache", None)
    if cache is None:
        cache = request.app.state.jwks_cache = JwksCache()
    return cache


@router.get("/.well-known/smart-configuration")
def smart_configuration(request: Request) -> dict[str, Any]:
    """SMART configuration (discovery): the token endpoint, auth methods, scopes and capabilities."""
    base = str(request.base_url).rstrip("/")
    return {
        "issuer": base,
        "token_endpoint": f"{base}/oauth/token",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["token"],
        "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
        "code_challenge_methods_supported": [],
    }


def _oauth_error(code: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=code,
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.post("/oauth/token", responses={400: {"description": "OAuth error"}, 401: {"description": "OAuth error"}})
def oauth_token(
    request: Request, store: StoreDep, settings: SettingsDep,
    grant_type: Annotated[str, Form(max_length=64)],
    client_assertion_type: Annotated[str, Form(max_length=128)],
    client_assertion: Annotated[str, Form(max_length=16_384)],
    scope: Annotated[str, Form(max_length=2_000)] = "",
) -> JSONResponse:
    """Client credentials with a signed JWT assertion → a bearer token with the granted system scopes."""
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported")
    if client_assertion_type != ASSERTION_TYPE:
        return _oauth_error(400, "invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
    audience = str(request.url).split("?")[0]
    try:
        client, _claims = verify_client_jwt(store, client_assertion, kind="backend", audience=audience,
                                            keys=jwks_cache(request), require_sub=True)
    except AccessError as exc:
        audit.record(store, username="(unknown client)", role=None, action="E", resource="oauth/token",
                     outcome="4", purpose=None, detail=f"client authentication failed: {exc}"[:500])
        return _oauth_error(401, "invalid_client", str(exc))
    try:
        granted = narrow(scope or client.scope, client.scope)
    except ScopeError as exc:
        return _oauth_error(400, "invalid_scope", str(exc))
    if not granted:
        return _oauth_error(400, "invalid_scope", f"none of the requested scopes is allowed for this client "
                            f"(allowed: {client.scope})")
    token, ttl = issue_access_token(client, granted, settings.secret_key.get_secret_value())
    audit.record(store, username=f"client:{client.client_id}", role=client.role.value, action="E",
                 resource="oauth/token", purpose=None, detail=f"token issued: {granted}"[:500])
    return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": ttl, "scope": granted},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


__all__ = ["ASYMMETRIC_ALGORITHMS", "router"]
