"""How soon the API shows what happened on a host (issue 13): the time from destroying a
domain behind vmpool's back (libvirt's `destroy`, as `virsh destroy` does) to
`GET /v1/vms/{id}` answering `stopped`: from destroy's return (the domain is gone then),
and from the call (which waits for QEMU to exit: 1.4-2 s under TCG in the lab).

    .venv/bin/python -m bench.event_latency [--rounds N]

Starts a one-host lab of its own (base port 16810) and the real daemon (`vmpool serve`) with
the periodic sync at 60 s, so that only libvirt's lifecycle events can make it fast. Polls
the API every 10 ms. Target: under 1 s at the median (Nova's power-state sync runs every
600 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import libvirt
from tests.integration.conftest import wipe_lab_domains

from bench.lab_daemon import BASE_PORT, LAB_DIR
from vmpool.lab.hosts import lab_down, lab_up

VMPOOL = str(Path(sys.executable).parent / "vmpool")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    (host,) = lab_up(1, LAB_DIR, BASE_PORT)
    wipe_lab_domains([host])
    tmp = Path(tempfile.mkdtemp(prefix="vmpool-events-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMPOOL_")}
    env.update(
        VMPOOL_DATA_DIR=str(tmp), VMPOOL_SYNC_INTERVAL_S="60", VMPOOL_DOMAIN_TYPE="qemu",
        VMPOOL_HOST_URI_SOCKET_DIRS=json.dumps([str(LAB_DIR)]), VMPOOL_CONFIG="",
    )  # fmt: skip
    subprocess.run([VMPOOL, "db", "upgrade"], env=env, check=True, capture_output=True)
    token = subprocess.run([VMPOOL, "token", "create"], env=env, check=True, capture_output=True,
                           text=True).stdout.strip()  # fmt: skip
    port = 18470
    daemon = subprocess.Popen([VMPOOL, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    times: list[float] = []  # from destroy's return (the domain is gone) to the API
    calls: list[float] = []  # from the destroy call (QEMU's own exit included)
    try:
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30,
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                if c.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.2)
        assert c.post("/v1/hosts", json=host.registration()).status_code == 201
        vm = c.post("/v1/vms", json={"name": "blinker", "vcpus": 1, "memory_mib": 64}).json()
        conn = libvirt.open(host.uri)
        for _ in range(args.rounds):
            if c.get(f"/v1/vms/{vm['id']}").json()["state"] != "running":
                assert c.post(f"/v1/vms/{vm['id']}/start").status_code == 200
            time.sleep(0.5)
            t0 = time.perf_counter()
            conn.lookupByUUIDString(vm["uuid"]).destroy()  # returns once QEMU is gone
            t1 = time.perf_counter()
            while c.get(f"/v1/vms/{vm['id']}").json()["state"] != "stopped":
                assert time.perf_counter() - t0 < 120, "the API never showed it stopped"
                time.sleep(0.01)
            done = time.perf_counter()
            times.append(done - t1)
            calls.append(done - t0)
        conn.close()
        c.delete(f"/v1/vms/{vm['id']}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        lab_down(LAB_DIR)
    print(f"{len(times)} rounds, periodic sync every 60 s; from destroy's return to the API:")
    print("  " + ", ".join(f"{t * 1000:.0f}" for t in times) + " ms")
    print(f"  median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
    print(f"from the destroy call (QEMU's exit included): median "
          f"{statistics.median(calls) * 1000:.0f} ms, max {max(calls) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
