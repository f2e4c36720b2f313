"""Real lab hosts (libvirtd daemons on this machine), the tiny guest, and a wired vmpool."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import libvirt
import pytest
from fastapi.testclient import TestClient

from tests.conftest import migrated_db_url
from vmpool.adapters.db.migrations import upgrade
from vmpool.api.app import create_app
from vmpool.config import Settings
from vmpool.lab.hosts import LabHost, lab_down, lab_up
from vmpool.lab.image import GuestImage, build_tiny_image
from vmpool.services.tokens import Role, create_token
from vmpool.services.unit_of_work import ServiceContext
from vmpool.wiring import Runtime, build_runtime

TEST_LAB_DIR = Path(os.environ.get("VMPOOL_TEST_LAB_DIR", "/var/lib/vmpool-lab-test"))
TEST_LAB_BASE_PORT = int(os.environ.get("VMPOOL_TEST_LAB_BASE_PORT", "16710"))
TEST_LAB_HOSTS = 3
IMAGE_DIR = Path(os.environ.get("VMPOOL_TEST_IMAGE_DIR", "/var/cache/vmpool/images"))


@pytest.fixture(scope="session")
def lab() -> Iterator[list[LabHost]]:
    hosts = lab_up(TEST_LAB_HOSTS, TEST_LAB_DIR, TEST_LAB_BASE_PORT)
    yield hosts
    if os.environ.get("VMPOOL_TEST_KEEP_LAB") != "1":
        lab_down(TEST_LAB_DIR)


@pytest.fixture(scope="session")
def tiny_image() -> GuestImage:
    return build_tiny_image(IMAGE_DIR)


@dataclass
class Vmpool:
    """A wired vmpool on a fresh database, with an API client holding an admin token."""

    runtime: Runtime
    client: TestClient
    admin_token: str
    reader_token: str

    @property
    def ctx(self) -> ServiceContext:
        return self.runtime.ctx

    def register(self, host: LabHost) -> dict[str, object]:
        r = self.client.post("/v1/hosts", json=host.registration())
        assert r.status_code == 201, r.text
        body: dict[str, object] = r.json()
        return body


def make_vmpool(db_url: str, tmp_path: Path, **overrides: object) -> Iterator[Vmpool]:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "database_url": db_url,
        "image_dir": IMAGE_DIR,
        "serial_log_dir": tmp_path / "serial",
        "domain_type": "qemu",
        # the lab's hosts are reached over their UNIX sockets in the lab dir
        "host_uri_socket_dirs": [TEST_LAB_DIR],
        **overrides,
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    runtime = build_runtime(settings)
    upgrade(runtime.engine)  # at the head already if a migrated_db_url: only checked
    admin = create_token(runtime.ctx, Role.ADMIN, "test-admin")
    reader = create_token(runtime.ctx, Role.READER, "test-reader", project_id=1)
    client = TestClient(create_app(runtime.ctx), raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {admin}"
    yield Vmpool(runtime, client, admin, reader)
    client.close()
    runtime.close()


@pytest.fixture
def vmpool(lab: list[LabHost], migrated_url: str, tmp_path: Path) -> Iterator[Vmpool]:
    """vmpool on SQLite and on PostgreSQL; every domain it leaves on the lab is removed after."""
    yield from make_vmpool(migrated_url, tmp_path)
    wipe_lab_domains(lab)


@pytest.fixture
def vmpool_sqlite(
    lab: list[LabHost], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Vmpool]:
    """vmpool on SQLite only, for the slower lab tests where the database does not matter."""
    yield from make_vmpool(migrated_db_url("sqlite", tmp_path, request), tmp_path)
    wipe_lab_domains(lab)


def wipe_lab_domains(lab: list[LabHost]) -> None:
    """Every domain, and every libvirt network vmpool defined, off the lab hosts. The
    domains go all at once: a TCG guest's QEMU takes 1.5-2 s to exit, one after the other
    that would be most of a lab test's time."""
    conns = [libvirt.open(h.uri) for h in lab]
    try:
        doms = [d for conn in conns for d in conn.listAllDomains(0)]
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(doms)))) as pool:
            list(pool.map(_remove_domain, doms))
        for conn in conns:
            for net in conn.listAllNetworks(0):
                if not net.name().startswith("vmpool-"):
                    continue
                try:
                    if net.isActive():
                        net.destroy()
                    net.undefine()
                except libvirt.libvirtError:
                    pass
    finally:
        for conn in conns:
            conn.close()


def _remove_domain(dom: libvirt.virDomain) -> None:
    try:
        if dom.isActive():
            dom.destroy()
        # with its snapshots' records: a plain undefine refuses a domain that has any
        dom.undefineFlags(
            libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        )
    except libvirt.libvirtError:
        pass


def domains_on(host: LabHost) -> dict[str, int]:
    """name -> libvirt state, as libvirt itself reports it."""
    conn = libvirt.open(host.uri)
    try:
        return {d.name(): d.state()[0] for d in conn.listAllDomains(0)}
    finally:
        conn.close()


def where(lab: list[LabHost], vm_uuid: str) -> tuple[list[str], list[str]]:
    """(hosts where the domain runs, hosts where it is persistently defined)."""
    running, defined = [], []
    for h in lab:
        conn = libvirt.open(h.uri)
        try:
            dom = conn.lookupByUUIDString(vm_uuid)
            if dom.isActive():
                running.append(h.name)
            if dom.isPersistent():
                defined.append(h.name)
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()
    return running, defined
