"""OIDC/JWT bearer tokens (issue 12): signed by a key pair this test makes, verified against
a JWKS file, their claims mapped to a role and a project; anything forged, expired, for
another audience or issuer, or naming an unknown project is 401."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from tests.support.fake_world import World
from vmpool.adapters.auth.jwt_verifier import JwksVerifier
from vmpool.api.app import create_app
from vmpool.services import projects
from vmpool.services.tokens import Role, create_token

ISSUER, AUDIENCE = "https://idp.example", "vmpool"


@pytest.fixture
def keys() -> tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]:
    """The provider's key, and an attacker's."""
    return (
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@pytest.fixture
def client(
    world: World, tmp_path: Path, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> Iterator[TestClient]:
    jwk = json.loads(RSAAlgorithm.to_jwk(keys[0].public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}))
    ctx = replace(world.ctx, jwt=JwksVerifier(str(jwks), ISSUER, AUDIENCE))
    world.add_host("a")
    projects.create_project(ctx, "team-a")
    with TestClient(create_app(ctx), raise_server_exceptions=False) as c:
        # a vmpool token still works beside the JWTs
        admin = create_token(ctx, Role.ADMIN, "admin")
        assert c.get("/v1/hosts", headers=_as(admin)).status_code == 200
        yield c


def _token(key: rsa.RSAPrivateKey, **claims: Any) -> str:
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "exp": int(time.time()) + 300,
            "vmpool_role": "member", "vmpool_project": "team-a"}  # fmt: skip
    return jwt.encode({**base, **claims}, key, algorithm="RS256", headers={"kid": "k1"})


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_jwt_acts_with_its_role_in_its_project(
    client: TestClient, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    member = _as(_token(keys[0]))
    r = client.post("/v1/vms", headers=member, json={"name": "web", "vcpus": 1, "memory_mib": 64})
    assert r.status_code == 201, r.text
    assert r.json()["project_id"] == 2
    assert client.get("/v1/hosts", headers=member).status_code == 403  # a member, not admin
    admin = _as(_token(keys[0], vmpool_role="admin", vmpool_project=None))
    assert client.get("/v1/hosts", headers=admin).status_code == 200
    events = client.get("/v1/events?kind=api.call", headers=admin).json()["items"]
    assert any(e["actor"] == "jwt:alice" and e["project_id"] == 2 for e in events)


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": int(time.time()) - 10},
        {"aud": "someone-else"},
        {"iss": "https://evil.example"},
        {"vmpool_project": "nobody"},
        {"vmpool_role": "owner"},
        {"vmpool_project": None},
        {"sub": None},
    ],
)
def test_a_bad_jwt_is_401(
    client: TestClient, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey], claims: dict[str, Any]
) -> None:
    token = _token(keys[0], **{k: v for k, v in claims.items() if v is not None})
    if None in claims.values():  # the claim left out altogether
        payload = jwt.decode(token, options={"verify_signature": False})
        for k, v in claims.items():
            if v is None:
                payload.pop(k)
        token = jwt.encode(payload, keys[0], algorithm="RS256", headers={"kid": "k1"})
    assert client.get("/v1/vms", headers=_as(token)).status_code == 401


def test_a_forged_or_unsigned_jwt_is_401(
    client: TestClient, keys: tuple[rsa.RSAPrivateKey, rsa.RSAPrivateKey]
) -> None:
    forged = _token(keys[1])  # the attacker's key, the provider's kid
    assert client.get("/v1/vms", headers=_as(forged)).status_code == 401
    header, payload, _ = _token(keys[0]).split(".")
    unsigned = jwt.encode(jwt.decode(_token(keys[0]), options={"verify_signature": False}),
                          key="", algorithm="none")  # fmt: skip
    assert client.get("/v1/vms", headers=_as(unsigned)).status_code == 401
    tampered = f"{header}.{payload}x.{_token(keys[0]).split('.')[2]}"
    assert client.get("/v1/vms", headers=_as(tampered)).status_code == 401
