"""`vmpool token create|list|revoke` on a fresh SQLite database (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from vmpool.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("VMPOOL_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VMPOOL_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return runner


def test_tokens_are_made_listed_and_revoked(env: CliRunner) -> None:
    admin = env.invoke(app, ["token", "create", "--role", "admin", "--name", "ops"])
    assert admin.exit_code == 0 and admin.stdout.startswith("vmp_")
    member = env.invoke(
        app, ["token", "create", "--role", "member", "--name", "alice", "--project", "default",
              "--ttl-s", "3600"],
    )  # fmt: skip
    assert member.exit_code == 0, member.stdout
    refused = env.invoke(app, ["token", "create", "--role", "member", "--name", "bob"])
    assert refused.exit_code != 0 and "needs a project_id" in refused.output
    unknown = env.invoke(app, ["token", "create", "--role", "reader", "--project", "nobody"])
    assert unknown.exit_code != 0 and "no project named" in unknown.output

    listed = env.invoke(app, ["token", "list"]).stdout.splitlines()
    assert [line.split("\t")[1:3] for line in listed] == [["ops", "admin"], ["alice", "member"]]
    assert admin.stdout.strip() not in "\n".join(listed)  # secrets are never shown again
    assert env.invoke(app, ["token", "revoke", "2"]).exit_code == 0
    after = env.invoke(app, ["token", "list"]).stdout.splitlines()
    assert "revoked=-" in after[0] and "revoked=-" not in after[1]
    assert env.invoke(app, ["token", "revoke", "99"]).exit_code != 0
