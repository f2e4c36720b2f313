"""vmpool wired as the daemon wires it (a real SQLite database, the real migration runner)
with a `FakeCloud` as its hosts: the world of the fast use-case tests."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_hypervisor import FakeCloud, FakeHost
from vmpool.adapters.db.engine import make_engine
from vmpool.adapters.db.migrations import upgrade
from vmpool.config import Settings
from vmpool.services import hosts, migrations, vms
from vmpool.services.unit_of_work import ServiceContext
from vmpool.services.views import HostView, ResourceFigures, VmView
from vmpool.wiring import Runtime, build_runtime

POLL_S = 0.02  # the migration runner's progress sampling period
WAIT_S = 15.0  # generous: only a hung test ever waits this long
DISK_FOLDER = "/var/lib/libvirt/images/vmpool"  # Settings.default_local_disk_path
NOTHING = ResourceFigures(vcpus=0.0, memory_mib=0.0, disk_gib=0.0)
MAX_IMAGE_BYTES = 8 * 2**20  # uploads in these tests are small files


@dataclass
class World:
    runtime: Runtime
    cloud: FakeCloud

    @property
    def ctx(self) -> ServiceContext:
        return self.runtime.ctx

    def add_host(self, name: str, **inventory: Any) -> tuple[int, FakeHost]:
        """A fake host (`inventory`: FakeCloud.add_host's), registered under `name`."""
        uri = f"qemu+tls://{name}.example/system"
        fake = self.cloud.add_host(uri, hostname=f"{name}.example", **inventory)
        view = hosts.register_host(self.ctx, uri, name)
        return view.id, fake

    def create(
        self, name: str, on: str | None = None, *, vcpus: int = 1, memory_mib: int = 64,
        disk_gib: int = 0, disk_storage: str = "local", image: str | None = None,
    ) -> VmView:  # fmt: skip
        """A VM through the create use case; `on`: the host asked for, else placement's."""
        cmd = vms.CreateVm(
            name=name,
            vcpus=vcpus,
            memory_mib=memory_mib,
            disk_gib=disk_gib,
            disk_storage=disk_storage,
            image=image,
            hosts=frozenset({on}) if on is not None else None,
        )
        return vms.create_vm(self.ctx, cmd)

    def vm(self, vm_id: int) -> VmView:
        return vms.get_vm(self.ctx, vm_id)

    def host(self, host_id: int) -> HostView:
        return hosts.get_host(self.ctx, host_id)

    def allocated(self, host_id: int) -> ResourceFigures:
        return self.host(host_id).allocated

    def migration(self, migration_id: int) -> migrations.MigrationView:
        return migrations.get_migration(self.ctx, migration_id)

    def settled(self, migration_id: int) -> migrations.MigrationView:
        """The migration once it reached a final state (the runner runs it meanwhile)."""
        final = {"completed", "failed", "cancelled"}
        wait_until(lambda: self.migration(migration_id).state in final, f"migration {migration_id}")
        return self.migration(migration_id)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def to(target_host_id: int, **options: Any) -> migrations.MigrateOptions:
    return migrations.MigrateOptions(target_host_id=target_host_id, **options)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated to the head once (the migrations take half a second), copied
    by each test."""
    db = tmp_path_factory.mktemp("migrated") / "vmpool.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return db


def copy_sqlite(source: Path, db: Path) -> None:
    """A copy of the SQLite database `source` (and of its WAL files, if any) at `db`."""
    db.parent.mkdir(parents=True, exist_ok=True)
    for sidecar in ("", "-wal", "-shm"):
        part = source.with_name(source.name + sidecar)
        if part.exists():
            shutil.copyfile(part, db.with_name(db.name + sidecar))


@pytest.fixture
def world(tmp_path: Path, migrated_sqlite: Path) -> Iterator[World]:
    """vmpool wired as the daemon wires it, on SQLite, with the fake cloud as its hosts."""
    with open_world(tmp_path, migrated_sqlite) as w:
        yield w


@contextlib.contextmanager
def open_world(tmp_path: Path, migrated_sqlite: Path) -> Iterator[World]:
    """A world in `tmp_path` (for tests that need more than one)."""
    db = tmp_path / "vmpool.db"
    copy_sqlite(migrated_sqlite, db)
    with fake_runtime(
        tmp_path, f"sqlite:///{db}", migration_poll_s=POLL_S, max_image_bytes=MAX_IMAGE_BYTES
    ) as (runtime, cloud):
        yield World(runtime, cloud)


@contextlib.contextmanager
def fake_runtime(
    tmp_path: Path, database_url: str, **settings: Any
) -> Iterator[tuple[Runtime, FakeCloud]]:
    """vmpool wired as the daemon wires it, on `database_url` (migrated already: e.g.
    `migrated_url`), with the fake cloud as its hosts; its folders in `tmp_path`, `settings`
    on top. Released after: nothing held may block the runner's shutdown."""
    cloud = FakeCloud()
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "image_dir": tmp_path / "images",
        "serial_log_dir": tmp_path / "serial",
        **settings,
    }
    runtime = build_runtime(Settings(**values), connector=cloud)
    upgrade(runtime.engine)  # already at the head: only checked
    try:
        yield runtime, cloud
    finally:
        cloud.release_all()
        runtime.close()
