"""The vTPM on real lab hosts (docs/hardware.md): the hosts' inventory (read from
libvirt 9.0's capabilities) offers an emulated TPM 2.0 and names the machine type; a VM made
with `tpm: true` gets swtpm and the tpm-crb device, keeps its host's machine type, and its
guest sees /dev/tpm0 and /dev/tpmrm0. The guest extends PCR 16 once at boot; after a live
migration to another host the PCR still holds that value: the TPM's state travelled in the
migration stream (libvirt 9.0, state on each host's own disk). One boot for all of it."""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import libvirt
import pytest

from tests.integration.conftest import Vmpool, where
from tests.integration.test_migration_lab import serial_of, wait_for_line, wait_migration
from vmpool.domain.hardware import hardware_from_json
from vmpool.domain.hypervisor_features import LIVE_MIGRATION, TPM_EMULATOR
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage

pytestmark = pytest.mark.lab

TPM_LINE = re.compile(r"VMPOOL-TPM present=(\d) dev=(\S+) pcr16=(\S+)")
# What the guest's one extend gives PCR 16 from zeros: SHA-256(32 zero bytes || 0x01..0x20).
EXTENDED = hashlib.sha256(bytes(32) + bytes(range(1, 33))).hexdigest().upper()


def tpm_reports(log: Path) -> list[tuple[str, str, str]]:
    text = log.read_text(errors="replace") if log.exists() else ""
    return TPM_LINE.findall(text)


def wait_tpm_report(log: Path, after: int, seconds: float = 60) -> tuple[str, str, str]:
    """The first TPM report after the `after`-th one (a bound on the wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = tpm_reports(log)
        if len(seen) > after:
            return seen[after]
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    raise AssertionError(f"no TPM report past {after} in {seconds} s; log ends:\n{tail}")


def tpm_of_domain(host: LabHost, vm_uuid: str) -> str | None:
    conn = libvirt.open(host.uri)
    try:
        xml = conn.lookupByUUIDString(vm_uuid).XMLDesc(0)
    finally:
        conn.close()
    m = re.search(r"<tpm model='([^']+)'>\s*<backend type='emulator' version='2.0'", xml)
    return m.group(1) if m else None


def test_a_tpm_vm_keeps_its_tpm_state_across_a_live_migration(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    a, b = vp.register(lab[0]), vp.register(lab[1])
    with vp.ctx.uow() as uow:
        hw = hardware_from_json(uow.hosts.get(a["id"]).hardware)  # type: ignore[arg-type]
    assert hw.driver == "qemu" and {TPM_EMULATOR, LIVE_MIGRATION} <= hw.features
    assert hw.machine is not None and hw.machine in hw.machines and "pc" in hw.machines
    print(f"lab host inventory: driver={hw.driver} machine={hw.machine} "
          f"machines={len(hw.machines)} features={sorted(hw.features)}")  # fmt: skip

    t0 = time.monotonic()
    r = vp.client.post("/v1/vms", json={"name": "sealed", "vcpus": 1, "memory_mib": 128,
                                         "image": tiny_image.name, "tpm": True,
                                         "hosts": [lab[0].name]})  # fmt: skip
    assert r.status_code == 201, r.text
    vm = r.json()
    created_s = time.monotonic() - t0
    assert vm["tpm"] is True and vm["machine"] == hw.machine
    assert tpm_of_domain(lab[0], vm["uuid"]) == "tpm-crb"
    log = serial_of(vp, vm)
    wait_for_line(log, "VMPOOL-GUEST-READY")
    present, devs, pcr_before = wait_tpm_report(log, 0)
    assert present == "1" and set(devs.split(",")) == {"tpm0", "tpmrm0"}, devs
    assert pcr_before == EXTENDED, f"PCR 16 is {pcr_before}: not extended, or not readable"

    seen = len(tpm_reports(log))
    r = vp.client.post(f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": b["id"]})
    assert r.status_code == 202, r.text
    m = wait_migration(vp, r.json()["id"])
    assert m["state"] == "completed", m["error"]
    running, _defined = where(lab, vm["uuid"])
    assert running == [lab[1].name]
    assert tpm_of_domain(lab[1], vm["uuid"]) == "tpm-crb"
    # Read again by the guest on its new host: the same device, the same PCR value.
    present, devs, pcr_after = wait_tpm_report(log, seen)
    assert present == "1" and set(devs.split(",")) == {"tpm0", "tpmrm0"}
    assert pcr_after == pcr_before == EXTENDED  # a fresh TPM would read all zeros
    assert log.read_text(errors="replace").count("VMPOOL-GUEST-READY") == 1  # no reboot
    print(f"TPM VM: created in {created_s:.1f} s; migration {m['total_time_ms']} ms "
          f"(downtime {m['downtime_ms']} ms, {m['data_total']} bytes); PCR 16 {pcr_after[:16]}... "
          "kept")  # fmt: skip
