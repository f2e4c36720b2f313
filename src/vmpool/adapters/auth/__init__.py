"""Verifiers of bearer tokens that vmpool did not issue (OIDC/JWT)."""
