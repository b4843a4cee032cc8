"""Shared helpers for the API tests: a small synthetic hospital with one user per role, and signing keys."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from hygeia.config import Settings
from hygeia.governance.access import add_user, list_users
from hygeia.records import Store, ingest_bundle
from tests.records.bundles import patient, transaction, vital

PASSWORD = "a-long-test-password"


@dataclass
class Hospital:
    client: TestClient
    store: Store
    settings: Settings
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def auth(self, username: str) -> dict[str, str]:
        """Bearer headers for a user named after its role (``patient`` → p1, ``patient2`` → p2), created on
        first use (password = PASSWORD); cached per test."""
        if username not in self.tokens:
            if username not in {u.username for u in list_users(self.store)}:
                role = "patient" if username.startswith("patient") else username
                add_user(self.store, username, PASSWORD, [role],
                         patient_id={"patient": "p1", "patient2": "p2"}.get(username))
            response = self.client.post("/auth/token", data={"username": username, "password": PASSWORD})
            assert response.status_code == 200, response.text
            self.tokens[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return self.tokens[username]


def seed(store: Store) -> None:
    """Two patients with vitals (p1 sick, p2 well). Users are created on first use (Hospital.auth)."""
    sick = [vital(f"p1-v{i}", "p1", code, value, unit, "2024-01-01T08:00:00Z") for i, (code, value, unit) in
            enumerate([("9279-1", 26, "/min"), ("59408-5", 90, "%"), ("8480-6", 95, "mm[Hg]"),
                       ("8867-4", 125, "/min"), ("8310-5", 38.5, "Cel")])]
    ingest_bundle(store, transaction([patient("p1"), *sick]))
    ingest_bundle(store, transaction([patient("p2", family="Otherperson", given="Bea"),
                                      vital("p2-hr", "p2", "8867-4", 70, "/min", "2024-01-01T08:00:00Z")]))


# -- keys and JWTs --------------------------------------------------------------------------------

@dataclass
class KeyPair:
    alg: str
    private: Any
    jwk: dict[str, Any]

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(claims, self.private, algorithm=self.alg, headers={"kid": self.jwk["kid"], **header})


def keypair(alg: str = "ES384", kid: str | None = None) -> KeyPair:
    if alg.startswith("ES"):
        curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
        private: Any = ec.generate_private_key(curve)
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid or uuid.uuid4().hex[:8], "alg": alg, "use": "sig"})
    return KeyPair(alg, private, jwk)


def claims(iss: str, aud: str, *, lifetime: int = 120, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": iss, "sub": iss, "aud": aud, "iat": now, "exp": now + lifetime, "jti": uuid.uuid4().hex,
            **extra}
