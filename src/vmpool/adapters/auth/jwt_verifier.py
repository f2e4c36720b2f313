"""OIDC/JWT bearer tokens, verified with PyJWT against the keys of a JWKS document (a file,
or the identity provider's URL), with the issuer and audience the settings name. The
claims that carry the role and the project are configurable."""

from __future__ import annotations

import json
from pathlib import Path

import jwt

from vmpool.domain.ports import TokenClaims
from vmpool.errors import Unauthorized

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]  # never "none" or HMAC


class JwksVerifier:
    def __init__(
        self,
        jwks: str,
        issuer: str,
        audience: str,
        role_claim: str = "vmpool_role",
        project_claim: str = "vmpool_project",
        subject_claim: str = "sub",
    ) -> None:
        self._issuer, self._audience = issuer, audience
        self._role, self._project, self._subject = role_claim, project_claim, subject_claim
        if jwks.startswith(("https://", "http://")):
            self._client: jwt.PyJWKClient | None = jwt.PyJWKClient(jwks, cache_keys=True)
            self._keys: jwt.PyJWKSet | None = None
        else:
            self._client = None
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(jwks).read_text()))

    def _key(self, token: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token)
        kid = jwt.get_unverified_header(token).get("kid")
        assert self._keys is not None
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key
        raise Unauthorized("the token's signing key is not among the trusted keys")

    def verify(self, token: str) -> TokenClaims:
        """The token's subject, role and project, once its signature, expiry, issuer and
        audience are checked; 401 otherwise."""
        try:
            claims = jwt.decode(
                token, self._key(token), algorithms=ALGORITHMS, issuer=self._issuer,
                audience=self._audience, options={"require": ["exp", "iss", "aud"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise Unauthorized("this token expired") from None
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        subject, role = claims.get(self._subject), claims.get(self._role)
        project = claims.get(self._project)
        if not isinstance(subject, str) or not isinstance(role, str):
            raise Unauthorized(f"the token lacks the {self._subject} or {self._role} claim")
        if project is not None and not isinstance(project, str):
            raise Unauthorized(f"the {self._project} claim must be a project name")
        return TokenClaims(subject=subject, role=role, project=project)
