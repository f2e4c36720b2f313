"""Hostile host URIs over the API: refused with 422, and nothing ran, nothing was opened.

Two proofs: the real libvirt connector is given URIs whose parameters would run a
script that leaves a marker file (the marker never appears), and a recording connector
shows that no refused URI ever reached libvirt's client library at all.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.conftest import Vmpool, make_vmpool
from tests.unit.test_host_uri import REFUSED
from vmpool.api.app import create_app
from vmpool.domain.ports import Hypervisor, HypervisorConnector


class RecordingConnector:
    def __init__(self, real: HypervisorConnector) -> None:
        self.real = real
        self.asked: list[str] = []

    def connect(self, uri: str) -> Hypervisor:
        self.asked.append(uri)
        return self.real.connect(uri)

    def forget(self, uri: str) -> None:
        self.real.forget(uri)


@pytest.fixture
def vmpool_strict(migrated_url: str, tmp_path: Path) -> Iterator[Vmpool]:
    """vmpool with the production defaults for host URIs (no qemu+tcp, no test driver, no
    socket folder but the lab folder of the settings)."""
    yield from make_vmpool(
        migrated_url, tmp_path, allow_insecure_tcp=False, host_uri_socket_dirs=[]
    )


def _evil_script(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "ran"
    script = tmp_path / "evil.sh"
    script.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script, marker


def test_uris_that_would_run_a_program_are_refused_and_nothing_runs(
    vmpool_strict: Vmpool, tmp_path: Path
) -> None:
    script, marker = _evil_script(tmp_path)
    uris = [
        f"qemu+ssh://root@127.0.0.1:1/system?command={script}",
        f"qemu+ssh://root@127.0.0.1:1/system?netcat={script}",
        f"qemu+ssh://127.0.0.1/system?no_tty=1&command={script}",
        f"qemu+ext:///system?command={script}",
        f"qemu+ssh://-oProxyCommand={script}/system",
        f"qemu+unix:///system?socket={tmp_path}/x.sock",
        "test:///etc/passwd",
        "test:///default",
        "qemu+tcp://127.0.0.1:16710/system",
    ]
    for uri in uris:
        r = vmpool_strict.client.post("/v1/hosts", json={"uri": uri})
        assert r.status_code == 422, (uri, r.text)
        body = r.json()["error"]
        assert body["code"] == "invalid_input", body
        fields = [e["loc"][-1] for e in body["details"].get("errors", [])]
        assert body["details"].get("field") == "uri" or fields == ["uri"], body
    assert not marker.exists(), "a refused URI ran a program"
    assert vmpool_strict.client.get("/v1/hosts").json()["items"] == []


def test_no_refused_uri_reaches_libvirt(vmpool_strict: Vmpool) -> None:
    recorder = RecordingConnector(vmpool_strict.ctx.hypervisors)
    ctx = replace(vmpool_strict.ctx, hypervisors=recorder)
    with TestClient(create_app(ctx), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {vmpool_strict.admin_token}"
        for uri, part in REFUSED:
            r = client.post("/v1/hosts", json={"uri": uri})
            assert r.status_code == 422, (uri, r.text)
            details = r.json()["error"]["details"]
            if "errors" not in details:  # else the schema's grammar refused it first
                assert details["parameter"] == part, (uri, details)
    assert recorder.asked == []
