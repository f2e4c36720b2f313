"""API tokens: random secrets, stored only as their SHA-256, each with a name, a role, a
project (for members and readers), an expiry, a revocation and the time of its last use."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vmpool.adapters.db.tables import ApiTokenRow
from vmpool.domain.names import validate_name
from vmpool.errors import InvalidInput, NotFound, Unauthorized
from vmpool.services.unit_of_work import ServiceContext

TOKEN_PREFIX = "vmp_"
LAST_USED_EVERY_S = 60  # a token's last use is written at most this often


class Role(enum.StrEnum):
    ADMIN = "admin"  # everything, every project
    MEMBER = "member"  # its project's VMs, groups, disks and NICs
    READER = "reader"  # its project, read only


def hash_token(token: str) -> str:
    # The secret has 256 bits of entropy, so a plain hash is enough (no slow KDF needed).
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who calls: a name (recorded in the audit trail), a role, and the project a member or
    reader acts in (None for an admin: every project)."""

    name: str
    role: Role
    project_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    role: str
    project_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def token_view(row: ApiTokenRow) -> TokenView:
    return TokenView(
        id=row.id,
        name=row.name,
        role=row.role,
        project_id=row.project_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def create_token(ctx: ServiceContext, role: Role, name: str = "cli", **options: Any) -> str:
    """A new token's secret (`issue_token`'s options: project_id, ttl_s, actor)."""
    return issue_token(ctx, role, name, **options)[0]


def issue_token(
    ctx: ServiceContext,
    role: Role,
    name: str = "cli",
    project_id: int | None = None,
    ttl_s: int | None = None,
    actor: str = "cli",
) -> tuple[str, TokenView]:
    """A new token: its secret (shown once) and its record. Members and readers belong to a
    project, admins to none. It expires after `ttl_s` (the setting's default if None), at
    most the setting's maximum."""
    validate_name(name, "token name")
    if role is Role.ADMIN and project_id is not None:
        raise InvalidInput("an admin token acts in every project: give no project_id")
    if role is not Role.ADMIN and project_id is None:
        raise InvalidInput(f"a {role.value} token needs a project_id", field="project_id")
    ttl = ctx.token_default_ttl_s if ttl_s is None else ttl_s
    if not 60 <= ttl <= ctx.token_max_ttl_s:
        raise InvalidInput(
            f"ttl_s must be 60..{ctx.token_max_ttl_s} (setting token_max_ttl_s)", field="ttl_s"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = ctx.clock()
    with ctx.uow() as uow:
        if project_id is not None:
            uow.projects.get(project_id)
        row = uow.tokens.add(
            ApiTokenRow(name=name, role=role.value, project_id=project_id,
                        token_hash=hash_token(token), created_at=now,
                        expires_at=now + timedelta(seconds=ttl))
        )  # fmt: skip
        uow.events.record(actor, "token.created", f"token/{row.id}", project_id, name=name,
                          role=role.value)  # fmt: skip
        view = token_view(row)
        uow.commit()
    return token, view


def authenticate(ctx: ServiceContext, token: str) -> Principal:
    """The principal of a vmpool token, or of an OIDC/JWT token when one is configured; 401
    for an unknown, expired or revoked one."""
    if not token.startswith(TOKEN_PREFIX) and ctx.jwt is not None and token.count(".") == 2:
        return _from_jwt(ctx, token)
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        raise Unauthorized("invalid token")
    now = ctx.clock()
    with ctx.uow() as uow:
        row = uow.tokens.by_hash(hash_token(token))
        if row is None:
            raise Unauthorized("invalid token")
        if row.revoked_at is not None:
            raise Unauthorized("this token was revoked")
        if row.expires_at is not None and row.expires_at <= now:
            raise Unauthorized("this token expired")
        principal = Principal(name=row.name, role=Role(row.role), project_id=row.project_id)
        if row.last_used_at is None or now - row.last_used_at > timedelta(
            seconds=LAST_USED_EVERY_S
        ):
            row.last_used_at = now
            uow.commit()
        return principal


def _from_jwt(ctx: ServiceContext, token: str) -> Principal:
    """A JWT's subject acts with the role of its role claim, in the project its project
    claim names (by name); an unknown role or project is 401, as an invalid token is."""
    if len(token) > 16_384:
        raise Unauthorized("invalid token")
    assert ctx.jwt is not None
    claims = ctx.jwt.verify(token)
    try:
        role = Role(claims.role)
    except ValueError:
        raise Unauthorized(f"the token's role {claims.role[:30]!r} is unknown") from None
    project_id = None
    if role is not Role.ADMIN:
        if claims.project is None:
            raise Unauthorized(f"a {role.value} token needs a project claim")
        with ctx.uow() as uow:
            row = uow.projects.by_name(claims.project)
            if row is None:
                raise Unauthorized(f"the token's project {claims.project[:63]!r} is unknown")
            project_id = row.id
    return Principal(name=f"jwt:{claims.subject}"[:63], role=role, project_id=project_id)


def list_tokens(ctx: ServiceContext, after_id: int = 0, limit: int = 100) -> list[TokenView]:
    with ctx.uow() as uow:
        return [token_view(r) for r in uow.tokens.page(after_id, limit)]


def revoke_token(ctx: ServiceContext, token_id: int, actor: str = "cli") -> TokenView:
    """Revoked at once: its next call answers 401. Revoking twice is harmless."""
    with ctx.uow() as uow:
        row = uow.tokens.find(token_id)
        if row is None:
            raise NotFound(f"token {token_id} does not exist", token_id=token_id)
        if row.revoked_at is None:
            row.revoked_at = ctx.clock()
            uow.events.record(actor, "token.revoked", f"token/{token_id}", name=row.name)
        view = token_view(row)
        uow.commit()
        return view
