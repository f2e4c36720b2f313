"""Measured load from real lab hosts: a guest that burns CPU reads busier than an idle one."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.integration.conftest import Vmpool
from vmpool.lab.hosts import LabHost
from vmpool.lab.image import GuestImage, read_serial_log
from vmpool.services.metrics import sample_all

pytestmark = pytest.mark.lab


def test_cpu_load_is_measured_per_vm_and_host(
    vmpool_sqlite: Vmpool, lab: list[LabHost], tiny_image: GuestImage
) -> None:
    vp = vmpool_sqlite
    host = vp.register(lab[0])
    burner = vp.client.post(
        "/v1/vms",
        json={
            "name": "burner",
            "vcpus": 1,
            "memory_mib": 128,
            "image": tiny_image.name,
            "kernel_args": ["vmpool.burn_cpu=1"],
        },
    ).json()
    idle = vp.client.post(
        "/v1/vms", json={"name": "idler", "vcpus": 1, "memory_mib": 128, "image": tiny_image.name}
    ).json()
    assert vp.client.get(f"/v1/vms/{burner['id']}/metrics").json()["samples"] == 0
    # Booting under TCG keeps a vCPU busy: measure only once both guests run their init.
    logs = Path(vp.runtime.settings.effective_serial_log_dir)
    for vm in (burner, idle):
        log = logs / f"{vm['name']}-{vm['uuid']}.log"
        deadline = time.monotonic() + 120
        while (read_serial_log(log).last_heartbeat or 0) < 2:
            assert time.monotonic() < deadline, f"{vm['name']} did not boot"
            time.sleep(0.5)
    for i in range(3):
        if i:
            time.sleep(2)  # (none after the last sample: nothing reads the clock after it)
        assert sample_all(vp.ctx, window_s=60.0) == 1
    hot = vp.client.get(f"/v1/vms/{burner['id']}/metrics").json()
    cold = vp.client.get(f"/v1/vms/{idle['id']}/metrics").json()
    h = vp.client.get(f"/v1/hosts/{host['id']}/metrics").json()
    assert hot["samples"] == 3 and cold["samples"] == 3
    # Compared within one run, not against a clock: the burner keeps its vCPU busy.
    assert hot["cpu_usage"] > 0.5
    assert hot["cpu_usage_avg"] > cold["cpu_usage_avg"] * 2
    assert 0 < h["cpu_usage"] <= 1 and h["cpu_usage_avg"] is not None
    assert vp.client.get("/v1/vms/999/metrics").status_code == 404
