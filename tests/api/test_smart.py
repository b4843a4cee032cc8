"""SMART discovery, the backend-services token endpoint (private_key_jwt RS384/ES384) and scopes on routes."""

from __future__ import annotations

import time

import jwt
import pytest

from hygeia.governance.access import AccessError
from hygeia.governance.smart import register_client
from tests.api.helpers import Hospital, KeyPair, claims, keypair

TOKEN_URL = "http://testserver/oauth/token"
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {"RS384": keypair("RS384"), "ES384": keypair("ES384"), "other": keypair("ES384")}


def _form(assertion: str, scope: str = "system/Observation.rs") -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_assertion_type": ASSERTION, "client_assertion": assertion,
            "scope": scope}


def test_smart_configuration(shared_hospital: Hospital) -> None:
    conf = shared_hospital.client.get("/.well-known/smart-configuration").json()
    assert conf["token_endpoint"] == TOKEN_URL
    assert conf["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert {"RS384", "ES384"} <= set(conf["token_endpoint_auth_signing_alg_values_supported"])
    assert {"permission-v1", "permission-v2", "client-confidential-asymmetric"} <= set(conf["capabilities"])


@pytest.mark.parametrize("alg", ["RS384", "ES384"])
def test_backend_client_gets_a_token_and_scopes_are_enforced(hospital: Hospital, keys: dict[str, KeyPair],
                                                             alg: str) -> None:
    key = keys[alg]
    register_client(hospital.store, "ehr-sync", kind="backend", role="clinician", jwks=key.jwks,
                    scope="system/Observation.rs system/Patient.read")
    c = hospital.client
    r = c.post("/oauth/token", data=_form(key.sign(claims("ehr-sync", TOKEN_URL))))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["scope"] == "system/Observation.rs" and body["expires_in"] <= 300
    h = {"Authorization": f"Bearer {body['access_token']}"}
    assert c.get("/fhir/Observation?patient=p1", headers=h).status_code == 200
    assert c.get("/fhir/Observation/p2-hr", headers=h).status_code == 200
    assert c.get("/fhir/Patient/p1", headers=h).status_code == 403  # scope granted is Observation only
    assert c.post("/fhir/Observation", json={"resourceType": "Observation"}, headers=h).status_code == 403  # no c
    me = c.get("/auth/me", headers=h).json()
    assert me["username"] == "client:ehr-sync" and me["scopes"] == ["system/Observation.rs"]


def test_token_endpoint_rejects_bad_assertions(hospital: Hospital, keys: dict[str, KeyPair]) -> None:
    key = keys["ES384"]
    register_client(hospital.store, "app", kind="backend", role="clinician", jwks=key.jwks, scope="system/*.rs")
    c = hospital.client
    replayed = key.sign(claims("app", TOKEN_URL))
    assert c.post("/oauth/token", data=_form(replayed)).status_code == 200
    cases = {
        "replay": replayed,
        "wrong aud": key.sign(claims("app", "http://elsewhere/token")),
        "expired": key.sign({**claims("app", TOKEN_URL), "exp": int(time.time()) - 600}),
        "too long": key.sign(claims("app", TOKEN_URL, lifetime=3600)),
        "sub differs": key.sign({**claims("app", TOKEN_URL), "sub": "someone"}),
        "unknown client": key.sign(claims("nobody", TOKEN_URL)),
        "wrong key": keys["other"].sign(claims("app", TOKEN_URL), kid=key.jwk["kid"]),
        "HS256": jwt.encode(claims("app", TOKEN_URL), "shared-secret-shared-secret-32by", algorithm="HS256"),
        "none": jwt.encode(claims("app", TOKEN_URL), None, algorithm="none"),
        "no jti": key.sign({k: v for k, v in claims("app", TOKEN_URL).items() if k != "jti"}),
        "garbage": "not.a.jwt",
    }
    for name, assertion in cases.items():
        r = c.post("/oauth/token", data=_form(assertion, "system/*.rs"))
        assert r.status_code == 401, (name, r.text)
        assert r.json()["error"] == "invalid_client"
    fresh = key.sign(claims("app", TOKEN_URL))
    assert c.post("/oauth/token", data=_form(fresh, "system/*.cruds")).json()["error"] == "invalid_scope"
    assert c.post("/oauth/token", data={**_form(fresh), "grant_type": "password"}).status_code == 400


def test_password_token_scopes_narrow_access(shared_hospital: Hospital) -> None:
    c = shared_hospital.client
    shared_hospital.auth("clinician")  # creates the user
    for scope in ("user/Observation.rs", "user/Observation.read"):
        r = c.post("/auth/token", data={"username": "clinician", "password": "a-long-test-password", "scope": scope})
        assert r.status_code == 200 and r.json()["scope"] == scope
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert c.get("/fhir/Observation?patient=p1", headers=h).status_code == 200
        assert c.get("/fhir/Patient/p1", headers=h).status_code == 403
        assert c.post("/fhir/Observation", json={"resourceType": "Observation"}, headers=h).status_code == 403
    shared_hospital.auth("patient")
    wider = c.post("/auth/token", data={"username": "patient", "password": "a-long-test-password",
                                        "scope": "user/*.cruds"})
    assert wider.status_code == 400  # a patient cannot ask for more than their role's scopes


def test_client_registration_is_validated(shared_hospital: Hospital, keys: dict[str, KeyPair]) -> None:
    store = shared_hospital.store
    with pytest.raises(AccessError, match="private"):
        register_client(store, "x1", kind="backend", role="clinician", scope="system/*.rs",
                        jwks={"keys": [{**keys["ES384"].jwk, "d": "secret"}]})
    with pytest.raises(AccessError, match="system/"):
        register_client(store, "x2", kind="backend", role="clinician", scope="user/*.rs", jwks=keys["ES384"].jwks)
    with pytest.raises(AccessError, match="https"):
        register_client(store, "x3", kind="cds", role="clinician", jwks_url="http://evil.example/jwks")
    with pytest.raises(AccessError, match="role"):
        register_client(store, "x4", kind="cds", role="wizard", jwks=keys["ES384"].jwks)
