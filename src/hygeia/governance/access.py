"""Users, roles and bearer tokens — least privilege from the first endpoint.

Passwords are stored as scrypt hashes; tokens are random 256-bit values stored only as SHA-256
hashes, so a copy of the database does not hand out sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from hygeia.governance.schema import token_scopes
from hygeia.records.schema import api_tokens, users
from hygeia.records.store import Store


class Role(StrEnum):
    CLINICIAN = "clinician"
    NURSE = "nurse"
    PHARMACIST = "pharmacist"
    OPERATIONS = "operations"
    RESEARCHER = "researcher"
    GOVERNANCE = "governance"
    PATIENT = "patient"
    ADMIN = "admin"


# Roles that may read identified patient data of any patient (care-team roles).
CHART_ROLES = frozenset({Role.CLINICIAN, Role.NURSE, Role.PHARMACIST})


class AccessError(Exception):
    """Authentication or authorisation failed."""


@dataclass(frozen=True)
class User:
    """A principal: a person (password token) or a backend client (``client_id`` set).

    ``scopes`` are the SMART scopes of the token in use; every FHIR route checks them *and* the roles.
    """

    username: str
    roles: tuple[Role, ...]
    patient_id: str | None = None
    scopes: tuple[str, ...] = ()
    client_id: str | None = None

    @property
    def role(self) -> Role:
        return self.roles[0]

    def may_read_patient(self, patient_id: str | None) -> bool:
        """Least privilege: care-team roles read any chart; a patient reads only their own."""
        if any(r in CHART_ROLES for r in self.roles):
            return True
        return Role.PATIENT in self.roles and patient_id is not None and patient_id == self.patient_id

    def may_list_patients(self) -> bool:
        return any(r in CHART_ROLES for r in self.roles)

    def has(self, *roles: Role) -> bool:
        return any(r in roles for r in self.roles)


def default_scopes(roles: tuple[Role, ...]) -> tuple[str, ...]:
    """The SMART scopes a password token carries unless the user asks for fewer (least privilege)."""
    if any(r in CHART_ROLES for r in roles):
        return ("user/*.cruds",)
    if Role.PATIENT in roles:
        return ("patient/*.rs", "patient/Consent.cu")
    return ("user/*.rs",)


_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt_b64), dklen=32, **_SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(store: Store, username: str, password: str, roles: list[str], patient_id: str | None = None) -> User:
    """Create a user. Raises AccessError for an unknown role, a weak password or a taken name."""
    if not username or len(username) > 128:
        raise AccessError("username must be 1-128 characters")
    if len(password) < 8:
        raise AccessError("password must be at least 8 characters")
    try:
        parsed = tuple(Role(r) for r in roles)
    except ValueError as exc:
        raise AccessError(f"unknown role ({exc}); roles: {', '.join(r.value for r in Role)}") from None
    if not parsed:
        raise AccessError("a user needs at least one role")
    if Role.PATIENT in parsed and not patient_id:
        raise AccessError("a user with the patient role needs --patient-id (their own record)")
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(users).values(
                    username=username,
                    password_hash=hash_password(password),
                    roles=[r.value for r in parsed],
                    patient_id=patient_id,
                    created=datetime.now(UTC),
                    disabled=False,
                )
            )
    except IntegrityError:
        raise AccessError(f"user {username!r} already exists") from None
    return User(username, parsed, patient_id)


def list_users(store: Store) -> list[User]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).all()
    return [User(r.username, tuple(Role(x) for x in r.roles), r.patient_id) for r in rows]


def authenticate(store: Store, username: str, password: str) -> User:
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None or row.disabled or not verify_password(password, row.password_hash):
        raise AccessError("invalid username or password")
    roles = tuple(Role(x) for x in row.roles)
    return User(row.username, roles, row.patient_id, default_scopes(roles))


def issue_token(store: Store, user: User, ttl: timedelta, scope: str | None = None) -> tuple[str, datetime]:
    """A bearer token for ``user``; ``scope`` (already narrowed to what the user may have) is stored with it."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires = now + ttl
    with store.engine.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                token_hash=_token_hash(token), username=user.username, issued=now, expires=expires, revoked=False
            )
        )
        if scope is not None:
            conn.execute(insert(token_scopes).values(token_hash=_token_hash(token), scope=scope))
    return token, expires


def user_for_token(store: Store, token: str) -> User:
    """The user a bearer token belongs to; AccessError when unknown, expired or revoked."""
    with store.engine.connect() as conn:
        narrowed = conn.execute(select(token_scopes.c.scope).where(
            token_scopes.c.token_hash == _token_hash(token))).scalar_one_or_none()
        row = conn.execute(
            select(
                users.c.username,
                users.c.roles,
                users.c.patient_id,
                users.c.disabled,
                api_tokens.c.expires,
                api_tokens.c.revoked,
            )
            .join(api_tokens, api_tokens.c.username == users.c.username)
            .where(api_tokens.c.token_hash == _token_hash(token))
        ).first()
    if row is None or row.revoked or row.disabled:
        raise AccessError("invalid token")
    expires = row.expires if row.expires.tzinfo else row.expires.replace(tzinfo=UTC)
    if expires <= datetime.now(UTC):
        raise AccessError("token expired")
    roles = tuple(Role(x) for x in row.roles)
    scopes = tuple(narrowed.split()) if narrowed is not None else default_scopes(roles)
    return User(row.username, roles, row.patient_id, scopes)


def revoke_token(store: Store, token: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(api_tokens).where(and_(api_tokens.c.token_hash == _token_hash(token))).values(revoked=True))
