"""Network downtime of a live migration, as the guest's peers see it.

    .venv/bin/python -m bench.network_migration [--rounds N]

Starts a two-host lab of its own (base port 16810, the migration bench's), creates the lab
network through vmpool's API, boots the tiny guest (512 MiB, dirtying 64 MiB in a loop, its
address handed out by vmpool) and migrates it back and forth N times through the API while a
pinger in the lab's fabric namespace sends an ICMP echo every 10 ms. Per round: packets
sent and lost, the longest gap without a reply, and libvirt's reported downtime. The figures
go to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from bench.lab_daemon import IMAGE_DIR, bench_pool
from vmpool.lab import FABRIC_GUEST_ADDRESS, GUEST_BRIDGE, GUEST_SUBNET, netns_ping
from vmpool.lab.image import build_tiny_image, parse_serial_log
from vmpool.lab.pinger import Pinger, PingReport

INTERVAL_S = 0.01


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    # Idle by default: a guest dirtying memory under TCG crashes in QEMU 7.2 after a
    # migration now and then (docs/migration.md); --dirty-mib N makes it dirty N MiB.
    parser.add_argument("--dirty-mib", type=int, default=0)
    args = parser.parse_args()
    image = build_tiny_image(IMAGE_DIR)
    rows: list[tuple[PingReport, int | None, int]] = []
    with bench_pool(2) as pool:
        c, hosts, ids, settings = pool.client, pool.hosts, pool.host_ids, pool.settings
        net = c.post(
            "/v1/networks",
            json={"name": "lab", "kind": "bridge", "bridge": GUEST_BRIDGE,
                  "ipv4_cidr": GUEST_SUBNET, "ipv4_gateway": FABRIC_GUEST_ADDRESS},
        )  # fmt: skip
        assert net.status_code == 201, net.text
        vm = c.post(
            "/v1/vms",
            json={"name": "bench-net", "vcpus": 1, "memory_mib": 512, "image": image.name,
                  "kernel_args": [f"vmpool.dirty_mib={args.dirty_mib}"] if args.dirty_mib
                  else [],
                  "hosts": [hosts[0].name], "nics": [{"network": "lab"}]},
        ).json()  # fmt: skip
        address = vm["nics"][0]["ipv4"]
        fabric = hosts[0].fabric_netns
        deadline = time.monotonic() + 90
        while netns_ping(fabric, address, count=1, timeout=1).returncode != 0:
            assert time.monotonic() < deadline, "the guest never answered"
        time.sleep(5)  # the dirtying loop runs
        where = 0
        for _ in range(args.rounds):
            with Pinger(fabric, address, INTERVAL_S) as pinger:
                time.sleep(1.0)
                m = c.post(
                    f"/v1/vms/{vm['id']}/migrate", json={"target_host_id": ids[1 - where]}
                ).json()
                while m["state"] not in ("completed", "failed", "cancelled"):
                    time.sleep(0.05)
                    m = c.get(f"/v1/migrations/{m['id']}").json()
                assert m["state"] == "completed", m
                time.sleep(2.0)
            assert pinger.report is not None
            rows.append((pinger.report, m["downtime_ms"], m["total_time_ms"]))
            where = 1 - where
            serial = Path(settings.effective_serial_log_dir) / f"bench-net-{vm['uuid']}.log"
            if parse_serial_log(serial.read_text(errors="replace")).kernel_crashed:
                print(f"the guest kernel crashed in round {len(rows)}: its figures and the "
                      "rest are void")  # fmt: skip
                break
    report(rows)


def report(rows: list[tuple[PingReport, int | None, int]]) -> None:
    print(f"{'round':>5} {'sent':>6} {'lost':>5} {'longest gap ms':>15} "
          f"{'libvirt downtime ms':>20} {'migration ms':>13}")  # fmt: skip
    for i, (p, down, total) in enumerate(rows, 1):
        print(f"{i:>5} {p.sent:>6} {p.lost:>5} {p.longest_gap_ms:>15.0f} "
              f"{down if down is not None else '-':>20} {total:>13}")  # fmt: skip
    gaps = [p.longest_gap_ms for p, _, _ in rows]
    lost = [p.lost for p, _, _ in rows]
    downs = [d for _, d, _ in rows if d is not None]
    print(
        f"median: lost {statistics.median(lost):.0f} packets, longest gap "
        f"{statistics.median(gaps):.0f} ms, libvirt downtime "
        f"{statistics.median(downs) if downs else float('nan'):.0f} ms"
    )


if __name__ == "__main__":
    main()
