"""The domain package stays pure: no I/O libraries, no frameworks."""

import ast
from pathlib import Path

import vmpool.domain

FORBIDDEN = {"sqlalchemy", "libvirt", "fastapi", "starlette", "apscheduler", "pydantic",
             "os", "subprocess", "socket", "requests", "httpx", "psycopg", "sqlite3"}  # fmt: skip


def test_domain_imports_nothing_that_does_io() -> None:
    root = Path(vmpool.domain.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
