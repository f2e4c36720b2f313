"""Hosts over TLS (issue 12): two lab hosts whose libvirtd listens with TLS only for vmpool
(certificates of the lab's CA, `vmpool.lab.pki`), registered with `qemu+tls://` URIs whose
`pkipath` lies in `host_uri_key_dirs`, and a live migration between them that QEMU encrypts
(the pool's `migration_tls`, VIR_MIGRATE_TLS): the hosts' libvirtd talk to each other over
TLS too (`peer_uri`), and QEMU sends the memory over TLS with each host's own certificates.

A migration with VIR_MIGRATE_TLS fails unless both QEMUs load their TLS credentials, so a
completed one is the proof; the test also watches the source QEMU's migration parameters
during the move (`query-migrate-parameters`: `tls-creds` set, `tls-hostname` the target)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libvirt
import libvirt_qemu  # type: ignore[import-untyped]
import pytest

from tests.conftest import migrated_db_url
from tests.integration.conftest import Vmpool, make_vmpool, wipe_lab_domains
from tests.integration.test_migration_lab import wait_for_line, wait_migration
from vmpool.lab.hosts import LabHost, lab_down, lab_up
from vmpool.lab.image import GuestImage, parse_serial_log
from vmpool.lab.pki import pki_dir

pytestmark = pytest.mark.lab

TLS_LAB_DIR = Path(os.environ.get("VMPOOL_TEST_TLS_LAB_DIR", "/var/lib/vmpool-lab-test-tls"))
TLS_LAB_BASE_PORT = int(os.environ.get("VMPOOL_TEST_TLS_LAB_BASE_PORT", "16750"))


@pytest.fixture(scope="module")
def tls_lab() -> Iterator[list[LabHost]]:
    hosts = lab_up(2, TLS_LAB_DIR, TLS_LAB_BASE_PORT, tls=True)
    yield hosts
    if os.environ.get("VMPOOL_TEST_KEEP_LAB") != "1":
        lab_down(TLS_LAB_DIR)


@pytest.fixture
def vmpool_tls(
    tls_lab: list[LabHost], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Vmpool]:
    yield from make_vmpool(
        migrated_db_url("sqlite", tmp_path, request),
        tmp_path,
        host_uri_key_dirs=[pki_dir(TLS_LAB_DIR)],
        host_uri_socket_dirs=[],  # nothing over UNIX sockets here
    )
    wipe_lab_domains(tls_lab)


class MigrationParameters(threading.Thread):
    """Samples the source QEMU's migration parameters until stopped."""

    def __init__(self, uri: str, vm_uuid: str) -> None:
        super().__init__(daemon=True)
        self.uri, self.vm_uuid = uri, vm_uuid
        self.seen: list[dict[str, Any]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        conn = libvirt.open(self.uri)
        try:
            dom = conn.lookupByUUIDString(self.vm_uuid)
            while not self.stop.is_set():
                try:
                    out = libvirt_qemu.qemuMonitorCommand(
                        dom, '{"execute": "query-migrate-parameters"}', 0
                    )
                except libvirt.libvirtError:
                    try:
                        if not dom.isActive():
                            return  # moved away
                    except libvirt.libvirtError:
                        return  # moved away and undefined here
                else:
                    self.seen.append(json.loads(out)["return"])
                time.sleep(0.01)
        finally:
            conn.close()


def test_hosts_over_tls_and_an_encrypted_migration(
    vmpool_tls: Vmpool, tls_lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_tls
    src, dst = tls_lab
    assert src.tls and src.uri.startswith("qemu+tls://127.0.0.1:")
    assert src.peer_uri == (
        f"qemu+tls://{src.migration_address}:{src.tls_port}/system?pkipath={src.pkipath}"
    )

    # a pkipath outside host_uri_key_dirs is refused, in uri and in peer_uri alike
    for bad in ("/tmp/pki", f"{pki_dir(TLS_LAB_DIR)}/../../../tmp", str(pki_dir(TLS_LAB_DIR))):
        for field in ("uri", "peer_uri"):
            body: dict[str, object] = {
                **src.registration(),
                field: src.uri.replace(str(src.pkipath), bad),
            }
            r = vp.client.post("/v1/hosts", json=body)
            assert r.status_code == 422, (field, bad, r.text)
            assert "pkipath" in r.text

    hosts: dict[str, dict[str, Any]] = {}
    for h in tls_lab:
        body = vp.register(h)
        assert body["uri"] == h.uri and body["peer_uri"] == h.peer_uri
        hosts[h.name] = body

    pool = next(p for p in vp.client.get("/v1/pools").json()["items"] if p["name"] == "default")
    r = vp.client.patch(f"/v1/pools/{pool['id']}", json={"migration_tls": True})
    assert r.status_code == 200 and r.json()["migration_tls"] is True, r.text

    r = vp.client.post(
        "/v1/vms",
        json={"name": "tls-mover", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name,
              "hosts": [src.name]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    vm: dict[str, Any] = r.json()
    assert vm["host_name"] == src.name
    log = Path(vp.runtime.settings.effective_serial_log_dir) / f"{vm['name']}-{vm['uuid']}.log"
    wait_for_line(log, "VMPOOL-HEARTBEAT 2")

    # there over TLS (the pool's migration_tls) ...
    m, seconds, params = migrate(vp, vm, src, hosts[dst.name]["id"])
    assert m["state"] == "completed", m["error"]
    conn = libvirt.open(dst.uri)  # over TLS through the forwarder
    try:
        assert conn.lookupByUUIDString(vm["uuid"]).isActive()
    finally:
        conn.close()
    assert vp.client.get(f"/v1/vms/{vm['id']}").json()["host_name"] == dst.name
    beat = parse_serial_log(log.read_text(errors="replace")).last_heartbeat or 0
    wait_for_line(log, f"VMPOOL-HEARTBEAT {beat + 2}")  # it goes on running on dst
    assert parse_serial_log(log.read_text(errors="replace")).ready_count == 1
    tls_seen = [p for p in params if p.get("tls-creds")]
    print(
        f"\nTLS migration: {seconds:.1f} s wall, {len(params)} samples of the source's "
        f"migration parameters, {len(tls_seen)} with tls-creds "
        f"{sorted({(p['tls-creds'], p.get('tls-hostname')) for p in tls_seen})}"
    )
    # the source QEMU had TLS credentials for the migration, checking the target's name
    assert tls_seen, params
    assert all(p.get("tls-hostname") == dst.migration_address for p in tls_seen)

    # ... and back without (a control: the same look sees no TLS credentials then)
    r = vp.client.patch(f"/v1/pools/{pool['id']}", json={"migration_tls": False})
    assert r.status_code == 200, r.text
    m, seconds, params = migrate(vp, vm, dst, hosts[src.name]["id"])
    assert m["state"] == "completed", m["error"]
    print(f"plain migration back: {seconds:.1f} s wall, {len(params)} samples")
    assert params and not any(p.get("tls-creds") for p in params), params
    assert vp.client.get(f"/v1/vms/{vm['id']}").json()["host_name"] == src.name


def migrate(
    vp: Vmpool, vm: dict[str, Any], source: LabHost, target_id: int
) -> tuple[dict[str, Any], float, list[dict[str, Any]]]:
    """Migrate through the API while sampling the source QEMU's migration parameters."""
    sampler = MigrationParameters(source.uri, vm["uuid"])
    sampler.start()
    started = time.monotonic()
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": target_id})
    assert r.status_code == 202, r.text
    m = wait_migration(vp, r.json()["id"])
    seconds = time.monotonic() - started
    sampler.stop.set()
    sampler.join(10)
    return m, seconds, sampler.seen
