"""The generated client (clients/python/vmpool_client) is what scripts/gen_client.sh makes of
docs/openapi.json today: a route or model changed without regenerating fails here, as a
stale spec fails test_openapi.py."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
COMMITTED = ROOT / "clients" / "python" / "vmpool_client"


def _differences(a: Path, b: Path) -> list[str]:
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [f"only in the committed client: {n}" for n in cmp.left_only]
    out += [f"only in a fresh one: {n}" for n in cmp.right_only]
    out += [f"differs: {n}" for n in cmp.diff_files]
    for name in cmp.common_dirs:
        out += [f"{name}/{d}" for d in _differences(a / name, b / name)]
    return out


def test_the_committed_client_is_generated_from_the_current_spec(tmp_path: Path) -> None:
    if shutil.which("openapi-python-client", path=str(ROOT / ".venv" / "bin")) is None:
        pytest.fail("openapi-python-client is missing: run scripts/install.sh")
    fresh = tmp_path / "vmpool_client"
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gen_client.sh"), str(fresh)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (fresh / "api").is_dir()
    assert _differences(COMMITTED, fresh) == [], "run scripts/gen_client.sh"
