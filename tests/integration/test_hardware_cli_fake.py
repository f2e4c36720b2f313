"""The operator's CLI for special hardware (docs/hardware.md), against the API served live on
fake hosts, once on SQLite and once on PostgreSQL: a host's PCI devices listed and given an
alias, its CPUs split, and VMs created with a device, dedicated CPUs and a TPM, shown with
their hardware; bad options refused before any request."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.integration.live_server import serve_in_thread
from tests.support.fake_hypervisor import FakeCloud
from vmpool.adapters.db.migrations import upgrade
from vmpool.api.app import create_app
from vmpool.cli import app
from vmpool.config import Settings
from vmpool.domain.hardware import HostHardware, NumaCell, PciDevice
from vmpool.domain.hypervisor_features import HOTPLUG, LIVE_MIGRATION, SNAPSHOTS, TPM_EMULATOR
from vmpool.services import hosts
from vmpool.services.tokens import Role, create_token
from vmpool.wiring import build_runtime

GPU = PciDevice("0000:3b:00.0", "0x10de", "0x20b0", "NVIDIA Corporation", "GA100", 42, 0)
NIC = PciDevice("0000:42:00.0", "0x8086", "0x1572", "Intel Corporation", "X710", 7, 0)
Cli = Callable[..., Result]


@pytest.fixture
def cli(migrated_url: str, tmp_path: Path) -> Iterator[Cli]:
    cloud = FakeCloud()
    settings = Settings(
        data_dir=tmp_path / "data", database_url=migrated_url, image_dir=tmp_path / "images",
        serial_log_dir=tmp_path / "serial",
    )  # fmt: skip
    runtime = build_runtime(settings, connector=cloud)
    upgrade(runtime.engine)
    fake = cloud.add_host("qemu+tls://a.example/system", hostname="a.example", cpus=4)
    fake.pci_devices = (GPU, NIC)
    fake.hardware = HostHardware(
        cells=(NumaCell(0, frozenset(range(4)), 8192),),
        features=frozenset({LIVE_MIGRATION, SNAPSHOTS, HOTPLUG, TPM_EMULATOR}),
    )
    hosts.register_host(runtime.ctx, fake.uri, "a")
    token = create_token(runtime.ctx, Role.ADMIN, "cli")
    with serve_in_thread(create_app(runtime.ctx)) as url:
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("VMPOOL_")}
        env.update(VMPOOL_URL=url, VMPOOL_TOKEN=token, COLUMNS="200")
        yield lambda *args: CliRunner().invoke(app, list(args), env=env)
    cloud.release_all()
    runtime.close()


def test_devices_cpus_and_special_vms_through_the_cli(cli: Cli) -> None:
    r = cli("host", "devices", "a")
    assert r.exit_code == 0, r.output
    assert "0000:3b:00.0" in r.output and "0x10de:0x20b0" in r.output

    r = cli("host", "device-alias", "a", "0000:3b:00.0", "gpu:a100")
    assert r.exit_code == 0 and "0000:3b:00.0: gpu:a100" in r.output, r.output
    r = cli("host", "cpu-sets", "a", "--dedicated", "2-3", "--shared", "0-1")
    assert r.exit_code == 0 and "dedicated 2-3, shared 0-1" in r.output, r.output

    r = cli("vm", "create", "gpu-1", "--memory-mib", "256", "--device", "gpu:a100", "--tpm")
    assert r.exit_code == 0, r.output
    r = cli("vm", "create", "db-1", "--vcpus", "2", "--memory-mib", "256",
            "--cpu-policy", "dedicated")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = cli("vm", "show", "gpu-1")
    assert "tpm, 1 x gpu:a100" in r.output, r.output
    r = cli("vm", "show", "db-1")
    assert "dedicated CPUs" in r.output, r.output
    r = cli("host", "devices", "a")
    assert "gpu-1" in r.output, r.output  # the VM holding the GPU

    # Both taken: the refusal says why (placement's filters).
    r = cli("vm", "create", "gpu-2", "--memory-mib", "256", "--device", "gpu:a100")
    assert r.exit_code != 0 and "no free gpu:a100" in r.output, r.output
    r = cli("vm", "create", "db-2", "--memory-mib", "256", "--cpu-policy", "dedicated")
    assert r.exit_code != 0 and "dedicated CPUs needed" in r.output, r.output
    # A pinned CPU cannot leave the dedicated set.
    r = cli("host", "cpu-sets", "a", "--clear")
    assert r.exit_code != 0 and "pinned" in r.output, r.output


BAD_OPTIONS = [
    ["vm", "create", "x", "--cpu-policy", "exclusive"],
    ["vm", "create", "x", "--hugepages", "4K"],
    ["vm", "create", "x", "--device", "gpu:a100=two"],
    ["host", "cpu-sets", "a"],
    ["host", "cpu-sets", "a", "--clear", "--dedicated", "1"],
]


def test_bad_hardware_options_are_refused(cli: Cli) -> None:
    for args in BAD_OPTIONS:
        r = cli(*args)
        assert r.exit_code == 2, (args, r.output)  # a usage error: no request was sent
    r = cli("vm", "list", "--json")
    assert r.exit_code == 0 and '"x"' not in r.output
    r = cli("host", "show", "a", "--json")
    assert r.exit_code == 0 and '"cpu_dedicated_set": null' in r.output, r.output
