"""API tokens: random secrets, stored only as their SHA-256."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

from vmpool.adapters.db.tables import ApiTokenRow
from vmpool.domain.names import validate_name
from vmpool.errors import Unauthorized
from vmpool.services.unit_of_work import ServiceContext

TOKEN_PREFIX = "vmp_"


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything
    READER = "reader"  # GET only


def hash_token(token: str) -> str:
    # The secret has 256 bits of entropy, so a plain hash is enough (no slow KDF needed).
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ctx: ServiceContext, role: Role, name: str = "cli") -> str:
    validate_name(name, "token name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        uow.tokens.add(ApiTokenRow(name=name, role=role.value, token_hash=hash_token(token)))
        uow.events.record("cli", "token.created", f"token/{name}", role=role.value)
        uow.commit()
    return token


@dataclass(frozen=True)
class Principal:
    """Who calls: the token's name (recorded in the audit trail) and its role."""

    name: str
    role: Role


def authenticate(ctx: ServiceContext, token: str) -> Principal:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise Unauthorized("invalid token")
    with ctx.uow() as uow:
        row = uow.tokens.by_hash(hash_token(token))
        if row is None:
            raise Unauthorized("invalid token")
        return Principal(name=row.name, role=Role(row.role))
