"""SMART-style authorization: scopes (v1 and v2), registered clients with JWKS, signed JWT assertions.

* Scopes: SMART App Launch 2.0 (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html):
  ``context/Type.perms`` with context ``patient``/``user``/``system`` and perms either v1
  (``read``, ``write``, ``*``) or v2 (a subset of ``cruds`` in that order). v1 ``read`` = ``rs``,
  ``write`` = ``cud``, ``*`` = ``cruds``.
* Client authentication (SMART Backend Services, https://hl7.org/fhir/smart-app-launch/backend-services.html;
  CDS Hooks 2.0 "Trusting CDS Clients", https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): a JWT
  signed with the client's private key (RS384/ES384; also RS256/ES256/RS512/ES512), verified with the
  public keys of the client's registered JWKS (inline or by URL). ``iss`` must be a registered client;
  ``aud`` the endpoint's URL; ``exp`` required and at most 5 minutes ahead; ``iat`` not in the future;
  ``jti`` rejected on replay. ``none`` and the shared-secret HS* algorithms are refused.
* Access tokens for backend clients are short-lived JWTs signed by the server's own secret (HS256);
  they never leave the trust domain that minted them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import orjson
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from hygeia.governance.access import AccessError, Role, User
from hygeia.governance.schema import jwt_replay, oauth_clients
from hygeia.records.store import Store, insert_many, select_in

ASYMMETRIC_ALGORITHMS = ("RS384", "ES384", "RS256", "ES256", "RS512", "ES512")
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
ACCESS_TOKEN_TTL = timedelta(minutes=5)
ACCESS_TOKEN_ISSUER = "hygeia"
ACCESS_TOKEN_AUDIENCE = "hygeia-api"
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE_RE = re.compile(r"^(patient|user|system)/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]{1,5})(\?[^\s]*)?$")


class ScopeError(ValueError):
    """A scope string is not a SMART scope."""


@dataclass(frozen=True)
class Scope:
    context: str  # patient | user | system
    resource_type: str  # a FHIR type or "*"
    perms: frozenset[str]  # subset of c r u d s

    def allows(self, resource_type: str, interaction: str) -> bool:
        return self.resource_type in ("*", resource_type) and interaction in self.perms


def parse_scope(text: str) -> Scope:
    """One SMART clinical scope, v1 (``patient/*.read``) or v2 (``user/Observation.rs``)."""
    m = _SCOPE_RE.match(text)
    if m is None:
        raise ScopeError(f"scope {text!r} is not context/Type.perms (e.g. patient/*.read, user/Observation.rs)")
    context, rtype, perms, _query = m.groups()
    if perms in _V1:
        letters = _V1[perms]
    else:
        if any(ch not in "cruds" for ch in perms) or "".join(ch for ch in "cruds" if ch in perms) != perms:
            raise ScopeError(f"scope {text!r}: v2 permissions must be a subset of 'cruds' in that order")
        letters = perms
    return Scope(context, rtype, frozenset(letters))


def parse_scopes(text: str) -> tuple[Scope, ...]:
    """The clinical scopes in a space-separated scope string (``openid``, ``launch`` etc. are skipped)."""
    out = []
    for item in text.split():
        if "/" in item:
            out.append(parse_scope(item))
    return tuple(out)


def scope_permits(scopes: tuple[str, ...], resource_type: str, interaction: str, patient_id: str | None,
                  own_patient: str | None) -> bool:
    """Whether any granted scope permits ``interaction`` (c r u d s) on ``resource_type``.

    ``patient/`` scopes are bound to the token's patient context: they permit only data of
    ``own_patient``.
    """
    for raw in scopes:
        try:
            scope = parse_scope(raw)
        except ScopeError:
            continue
        if not scope.allows(resource_type, interaction):
            continue
        if scope.context == "patient" and (own_patient is None or patient_id != own_patient):
            continue
        return True
    return False


def narrow(requested: str, allowed: str) -> str:
    """The requested scopes that some allowed scope covers (SMART: a server may grant fewer)."""
    allowed_scopes = parse_scopes(allowed)
    granted = []
    for raw in requested.split():
        scope = parse_scope(raw)
        if any(a.context == scope.context and a.resource_type in ("*", scope.resource_type)
               and scope.perms <= a.perms for a in allowed_scopes):
            granted.append(raw)
    return " ".join(granted)


# Shared, non-patient resources: any signed-in principal with a matching scope may read them.
SHARED_TYPES = frozenset({"Practitioner", "Organization", "Location"})


def authorize(user: User, resource_type: str, interaction: str, patient_id: str | None) -> str | None:
    """None when ``user`` may perform ``interaction`` (c r u d s) on ``resource_type`` data of
    ``patient_id`` (None: across patients, or a shared resource); otherwise the reason it may not.

    Both the token's scopes and the user's roles must permit it (least privilege):
    care-team roles (clinician, nurse, pharmacist) read and write any chart; a patient reads their
    own record and writes only their own Consent; researchers, governance, operations and
    administrators have no chart access here (researchers use consent-filtered, de-identified bulk
    export; governance reads the audit log and aggregates).
    """
    # Shared resources (a patient's practitioners, organisations) are in reach of patient/ scopes too.
    scoped_patient = user.patient_id if resource_type in SHARED_TYPES else patient_id
    if not scope_permits(user.scopes, resource_type, interaction, scoped_patient, user.patient_id):
        granted = " ".join(user.scopes) or "none"
        return f"the token's scopes ({granted}) do not permit '{interaction}' on {resource_type}"
    care = user.may_list_patients()
    if resource_type in SHARED_TYPES:
        if interaction in "rs" or care or user.has(Role.ADMIN):
            return None
        return "your role may not change shared resources"
    if care:
        return None
    if user.has(Role.PATIENT) and patient_id is not None and patient_id == user.patient_id:
        if interaction in "rs" or (resource_type == "Consent" and interaction in "cu"):
            return None
        return "a patient may change only their own Consent"
    if patient_id is None:
        return "your role may not access patient data across patients"
    return "your role does not permit access to this patient's data"


# -- registered clients ------------------------------------------------------------------------

@dataclass(frozen=True)
class Client:
    client_id: str
    kind: str  # backend | cds
    name: str
    role: Role
    scope: str
    jwks: dict[str, Any] | None
    jwks_url: str | None


def register_client(store: Store, client_id: str, *, kind: str, role: str, scope: str = "",
                    name: str | None = None, jwks: dict[str, Any] | None = None, jwks_url: str | None = None) -> Client:
    """Register a backend-services client or a CDS client (its ``iss``). Raises AccessError when invalid."""
    if kind not in ("backend", "cds"):
        raise AccessError("client kind must be 'backend' or 'cds'")
    if not client_id or len(client_id) > 255:
        raise AccessError("client id must be 1-255 characters")
    try:
        parsed_role = Role(role)
    except ValueError:
        raise AccessError(f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}") from None
    if (jwks is None) == (jwks_url is None):
        raise AccessError("give exactly one of a JWKS (inline keys) or a JWKS URL")
    if jwks is not None:
        keys = jwks.get("keys")
        if not isinstance(keys, list) or not keys:
            raise AccessError("JWKS must be an object with a non-empty 'keys' list")
        for key in keys:
            if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC") or "d" in key:
                raise AccessError("JWKS keys must be public RSA or EC keys (no private 'd', no 'oct')")
    if jwks_url is not None and not jwks_url.startswith("https://") and not jwks_url.startswith("http://127.0.0.1"):
        raise AccessError("JWKS URL must be https:// (http:// only on 127.0.0.1 for testing)")
    try:
        parse_scopes(scope)
    except ScopeError as exc:
        raise AccessError(str(exc)) from None
    if kind == "backend" and not any(s.startswith("system/") for s in scope.split()):
        raise AccessError("a backend-services client needs system/ scopes, e.g. 'system/*.rs'")
    try:
        with store.engine.begin() as conn:
            conn.execute(insert(oauth_clients).values(
                client_id=client_id, kind=kind, name=name or client_id, role=parsed_role.value, scope=scope,
                jwks=jwks, jwks_url=jwks_url, created=datetime.now(UTC), disabled=False))
    except IntegrityError:
        raise AccessError(f"client {client_id!r} is already registered") from None
    return Client(client_id, kind, name or client_id, parsed_role, scope, jwks, jwks_url)


def get_client(store: Store, client_id: str, kind: str) -> Client | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(oauth_clients).where(oauth_clients.c.client_id == client_id)).first()
    if row is None or row.disabled or row.kind != kind:
        return None
    return Client(row.client_id, row.kind, row.name, Role(row.role), row.scope, row.jwks, row.jwks_url)


def list_clients(store: Store) -> list[Client]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(oauth_clients).order_by(oauth_clients.c.client_id)).all()
    return [Client(r.client_id, r.kind, r.name, Role(r.role), r.scope, r.jwks, r.jwks_url) for r in rows]


class JwksCache:
    """What verifying a client JWT needs, cached per app (one store), so that a call costs one signature check:

    * public keys of clients that publish a JWKS URL, fetched with httpx and kept for ``ttl`` seconds;
    * registered clients, kept for ``client_ttl`` seconds (a disabled or re-keyed client is refused within
      that time), with their keys parsed once;
    * the ``jti`` of JWTs accepted by this process until they expire — a replay is refused before any work;
      the ``jwt_replay`` table stays the authority across processes (:func:`remember_jti`).
    """

    def __init__(self, ttl: float = 300.0, fetch: Callable[[str], dict[str, Any]] | None = None,
                 client_ttl: float = 10.0) -> None:
        self.ttl = ttl
        self.client_ttl = client_ttl
        self._fetch = fetch or self._http_fetch
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}
        self._clients: dict[tuple[str, str], tuple[float, Client, dict[tuple[str | None, str], Any]]] = {}
        self._seen: dict[str, float] = {}  # replay key -> expiry (epoch seconds)
        self._seen_swept = 0.0
        self._lock = threading.Lock()

    def client(self, store: Store, client_id: str, kind: str) -> Client | None:
        """The registered, enabled client (``get_client``), from the cache while fresh; unknown ids are not cached."""
        now = time.monotonic()
        hit = self._clients.get((client_id, kind))
        if hit is not None and now - hit[0] < self.client_ttl:
            return hit[1]
        client = get_client(store, client_id, kind)
        with self._lock:
            if client is None:
                self._clients.pop((client_id, kind), None)
            else:
                self._clients[(client_id, kind)] = (now, client, {})
        return client

    def key(self, client: Client, kid: str | None, alg: str) -> Any:
        """The client's public key for ``kid``/``alg``, parsed once per cached client (AccessError if none)."""
        hit = self._clients.get((client.client_id, client.kind))
        parsed = hit[2] if hit is not None and hit[1] is client and client.jwks is not None else None
        if parsed is not None and (kid, alg) in parsed:
            return parsed[(kid, alg)]
        key = _key_for(self.keys(client), kid, alg)
        if parsed is not None:
            parsed[(kid, alg)] = key
        return key

    def seen(self, issuer: str, jti: str, expires: float) -> bool:
        """Whether this process already accepted ``jti`` from ``issuer``; otherwise remember it until ``expires``."""
        key = _replay_key(issuer, jti)
        now = time.time()
        with self._lock:
            if now - self._seen_swept > 60:
                self._seen = {k: e for k, e in self._seen.items() if e + CLOCK_SKEW.total_seconds() >= now}
                self._seen_swept = now
            if key in self._seen:
                return True
            self._seen[key] = expires
        return False

    @staticmethod
    def _http_fetch(url: str) -> dict[str, Any]:
        response = httpx.get(url, timeout=5.0, follow_redirects=False)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("JWKS is not a JSON object")
        return body

    def keys(self, client: Client) -> dict[str, Any]:
        if client.jwks is not None:
            return client.jwks
        assert client.jwks_url is not None
        with self._lock:
            hit = self._cache.get(client.jwks_url)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return hit[1]
        try:
            jwks = self._fetch(client.jwks_url)
        except (httpx.HTTPError, ValueError) as exc:
            raise AccessError(f"could not fetch the client's JWKS: {type(exc).__name__}") from None
        with self._lock:
            self._cache[client.jwks_url] = (time.monotonic(), jwks)
        return jwks


def _key_for(jwks: dict[str, Any], kid: str | None, alg: str) -> Any:
    kty = "RSA" if alg.startswith("RS") else "EC"
    candidates = [k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kty") == kty
                  and (kid is None or k.get("kid") == kid)]
    if not candidates:
        raise AccessError("no key in the client's JWKS matches the JWT's kid and alg")
    try:
        return jwt.PyJWK.from_dict(candidates[0], algorithm=alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, ValueError):
        raise AccessError("the client's JWKS key is not usable") from None


def _replay_key(issuer: str, jti: str) -> str:
    return hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()


@dataclass(frozen=True)
class VerifiedJwt:
    """A client JWT whose signature and claims checked out; its ``jti`` is recorded with :func:`remember_jti`."""

    client: Client
    claims: dict[str, Any]
    expires: datetime

    def remember(self, conn: Connection) -> None:
        remember_jti(conn, self.client.client_id, str(self.claims["jti"]), self.expires)


_last_sweep = 0.0


def _sweep_replay(conn: Connection) -> None:
    """Delete expired replay records, at most once a minute per process."""
    global _last_sweep
    now = time.monotonic()
    if now - _last_sweep > 60:
        _last_sweep = now
        conn.execute(delete(jwt_replay).where(jwt_replay.c.expires < datetime.now(UTC) - CLOCK_SKEW))


def remember_jti(conn: Connection, issuer: str, jti: str, expires: datetime) -> None:
    """Record an accepted ``jti`` in the ``jwt_replay`` table inside the caller's transaction (so it commits with
    the call's audit entry); AccessError — and the transaction must roll back — when it was used before.
    Expired entries are swept at most once a minute per process."""
    _sweep_replay(conn)
    try:
        conn.execute(insert(jwt_replay).values(key=_replay_key(issuer, jti), expires=expires))
    except IntegrityError:
        raise AccessError("jti already used (replayed JWT)") from None


def remember_jtis(conn: Connection, accepted: Sequence[VerifiedJwt]) -> list[bool]:
    """Record the ``jti`` of several verified JWTs inside the caller's transaction (a group commit), with one
    read and one insert; returns, per JWT, whether it was fresh — False for a replay (recorded before, or
    earlier in ``accepted``), which is not recorded again and must be refused.

    Run it under :func:`hygeia.governance.audit.chain_transaction`, which serialises the callers that use it.
    A writer outside that lock (``verify_client_jwt``) inserting the same key between the read and the insert
    makes the insert fail with IntegrityError and the transaction roll back; retried, the read then sees it.
    """
    _sweep_replay(conn)
    keys = [_replay_key(v.client.client_id, str(v.claims["jti"])) for v in accepted]
    used = {key for (key,) in select_in(conn, "SELECT key FROM jwt_replay WHERE key IN ({})", keys)}
    fresh: list[bool] = []
    rows: list[tuple[str, datetime]] = []
    for key, verified in zip(keys, accepted, strict=True):
        fresh.append(key not in used)
        if key not in used:
            used.add(key)
            rows.append((key, verified.expires))
    insert_many(conn, jwt_replay, ["key", "expires"], rows)
    return fresh


def _remember_jti(store: Store, issuer: str, jti: str, expires: datetime) -> None:
    with store.engine.begin() as conn:
        remember_jti(conn, issuer, jti, expires)


def verify_client_jwt(store: Store, token: str, *, kind: str, audience: str | list[str], keys: JwksCache,
                      require_sub: bool = False) -> tuple[Client, dict[str, Any]]:
    """Verify a client-signed JWT and record its ``jti`` (own transaction); returns the registered client and
    the claims. Raises AccessError."""
    verified = check_client_jwt(store, token, kind=kind, audience=audience, keys=keys, require_sub=require_sub)
    _remember_jti(store, verified.client.client_id, str(verified.claims["jti"]), verified.expires)
    return verified.client, verified.claims


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JWT's header and claims, unverified: only to choose the client and key that ``jwt.decode`` then
    verifies the token with (strictly: signature, encoding, claims). Cheaper than PyJWT's own unverified decode,
    which checks the encoding character by character and is repeated by the verified one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise AccessError("malformed JWT")
    try:
        header = orjson.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):  # orjson.JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise AccessError("malformed JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise AccessError("malformed JWT")
    return header, claims


def check_client_jwt(store: Store, token: str, *, kind: str, audience: str | list[str], keys: JwksCache,
                     require_sub: bool = False) -> VerifiedJwt:
    """Verify a client-signed JWT: signature, iss, aud, exp, iat, and a ``jti`` this process has not accepted
    before. The caller records the jti (:meth:`VerifiedJwt.remember`) in the transaction that writes the
    call's audit entry — one commit per call — and refuses the call when that reports a replay."""
    header, unverified = _peek(token)
    alg = header.get("alg")
    if alg not in ASYMMETRIC_ALGORITHMS:
        raise AccessError(f"JWT alg {alg!r} refused: use RS384 or ES384 (never none or HS*)")
    issuer = unverified.get("iss")
    if not isinstance(issuer, str):
        raise AccessError("JWT has no iss")
    client = keys.client(store, issuer, kind)
    if client is None:
        raise AccessError("JWT iss is not a registered client")
    key = keys.key(client, header.get("kid"), alg)
    try:
        claims: dict[str, Any] = jwt.decode(token, key, algorithms=[alg], audience=audience,
                                            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
                                            leeway=CLOCK_SKEW.total_seconds())
    except jwt.ExpiredSignatureError:
        raise AccessError("JWT expired") from None
    except jwt.InvalidAudienceError:
        raise AccessError("JWT aud is not this endpoint's URL") from None
    except jwt.PyJWTError as exc:
        raise AccessError(f"JWT rejected: {exc}") from None
    if claims["iss"] != issuer:  # the key was chosen by the unverified iss: it must be the signed one
        raise AccessError("JWT iss is not the registered client's")
    now = datetime.now(UTC)
    expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
    issued = datetime.fromtimestamp(float(claims["iat"]), UTC)
    if issued > now + CLOCK_SKEW:
        raise AccessError("JWT iat is in the future")
    if expires > now + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise AccessError("JWT exp is more than 5 minutes ahead")
    if require_sub and claims.get("sub") != issuer:
        raise AccessError("JWT sub must equal iss (the client id)")
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise AccessError("JWT jti must be a non-empty string")
    if keys.seen(issuer, claims["jti"], expires.timestamp()):
        raise AccessError("jti already used (replayed JWT)")
    return VerifiedJwt(client, claims, expires)


# -- access tokens for backend clients ----------------------------------------------------------

def _signing_key(secret: str) -> bytes:
    """A 256-bit key for access tokens derived from the server secret (domain-separated)."""
    return hashlib.sha256(b"hygeia-access-token\x00" + secret.encode()).digest()


def issue_access_token(client: Client, scope: str, secret: str) -> tuple[str, int]:
    now = datetime.now(UTC)
    claims = {"iss": ACCESS_TOKEN_ISSUER, "aud": ACCESS_TOKEN_AUDIENCE, "sub": client.client_id,
              "scope": scope, "role": client.role.value, "iat": now, "exp": now + ACCESS_TOKEN_TTL,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, _signing_key(secret), algorithm="HS256"), int(ACCESS_TOKEN_TTL.total_seconds())


def user_for_access_token(store: Store, token: str, secret: str) -> User:
    """The principal of a backend-client access token; AccessError when invalid or the client is gone."""
    try:
        claims = jwt.decode(token, _signing_key(secret), algorithms=["HS256"], audience=ACCESS_TOKEN_AUDIENCE,
                            issuer=ACCESS_TOKEN_ISSUER, options={"require": ["sub", "exp", "scope", "role"]})
    except jwt.ExpiredSignatureError:
        raise AccessError("token expired") from None
    except jwt.PyJWTError:
        raise AccessError("invalid token") from None
    client = get_client(store, str(claims["sub"]), "backend")
    if client is None:
        raise AccessError("invalid token: client disabled or unknown")
    return User(f"client:{client.client_id}", (client.role,), None, tuple(str(claims["scope"]).split()),
                client.client_id)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


__all__ = ["ASYMMETRIC_ALGORITHMS", "Client", "JwksCache", "Scope", "ScopeError", "VerifiedJwt", "check_client_jwt",
           "get_client", "issue_access_token", "list_clients", "narrow", "parse_scope", "parse_scopes",
           "register_client", "remember_jti", "remember_jtis", "scope_permits", "user_for_access_token",
           "verify_client_jwt"]
