"""How long one full sync takes at scale (issue 13): 1,000 hosts / 20,000 VMs on a
simulated hypervisor whose every call answers after a realistic delay (5 ms by default).

    .venv/bin/python -m bench.sync_scale [--hosts N] [--vms M] [--delay-ms D] [--postgres]

Seeds the database as bench.placement does (every VM running on its host), gives each
simulated host the same domains, then times `sync_all` over every host three times: the
first pass, and two more once nothing changes. Prints the cycle times and how many host
calls ran at once at most. Target: a full cycle under 5 s.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

from bench.placement import _seed_database
from vmpool.domain.model import DomainType
from vmpool.domain.ports import DomainInfo, HostInventory, HostNetworks, NetworkSpec, PowerState


class SlowHost:
    """A host that answers each call after `delay` seconds, with the domains it was given."""

    def __init__(self, uri: str, host_uuid: str, domains: list[DomainInfo], probe: Probe) -> None:
        self._uri, self._uuid, self._domains, self._probe = uri, host_uuid, domains, probe

    @property
    def uri(self) -> str:
        return self._uri

    def _wait(self) -> None:
        self._probe.enter()
        try:
            time.sleep(self._probe.delay)
        finally:
            self._probe.leave()

    def list_domains(self) -> list[DomainInfo]:
        self._wait()
        return list(self._domains)

    def inventory(self) -> HostInventory:
        self._wait()
        return HostInventory(
            hostname=self._uri.rsplit("/", 1)[-1], host_uuid=self._uuid, arch="x86_64",
            cpus=64, memory_mib=393216, domain_types=frozenset({DomainType.QEMU}),
            libvirt_version="9.0.0", hypervisor_version="7.2.0",
        )  # fmt: skip

    def folder_capacity_gib(self, folder: str) -> int:
        self._wait()
        return 4000

    def host_networks(self) -> HostNetworks:
        self._wait()
        return HostNetworks(frozenset(), frozenset())

    def ensure_network(self, spec: NetworkSpec) -> None:
        self._wait()


class Probe:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls = 0
        self.now = 0
        self.peak = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.calls += 1
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


class SlowConnector:
    def __init__(self, hosts: dict[str, SlowHost]) -> None:
        self._hosts = hosts

    def connect(self, uri: str) -> SlowHost:
        return self._hosts[uri]

    def forget(self, uri: str) -> None:
        pass


def main() -> None:
    from vmpool.adapters.db.tables import HostRow, VmRow
    from vmpool.config import Settings
    from vmpool.services import sync
    from vmpool.wiring import build_runtime

    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--vms", type=int, default=20000)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    parser.add_argument("--postgres", help="a PostgreSQL URL instead of SQLite")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vmpool-sync-"))
    url = args.postgres or f"sqlite:///{tmp / 'vmpool.db'}"
    _seed_database(url, args.hosts, args.vms)
    probe = Probe(args.delay_ms / 1000)
    settings = Settings(data_dir=tmp, database_url=url, serial_log_dir=None)
    slow: dict[str, SlowHost] = {}  # filled once the seeded hosts are read
    # Only what a sync calls is simulated: not a whole Hypervisor.
    runtime = build_runtime(settings, connector=SlowConnector(slow))  # type: ignore[arg-type]
    with runtime.ctx.uow() as uow:
        hosts = {h.id: (h.uri, h.host_uuid) for h in uow.hosts.list()}
        by_host: dict[int, list[DomainInfo]] = {h: [] for h in hosts}
        for vm in uow.session.query(VmRow).all():
            assert vm.host_id is not None
            by_host[vm.host_id].append(
                DomainInfo(vm.uuid, vm.name, PowerState.RUNNING, vmpool_vm_id=vm.id)
            )
    slow.update({uri: SlowHost(uri, u, by_host[h], probe) for h, (uri, u) in hosts.items()})
    ctx = runtime.ctx
    print(f"{args.hosts} hosts, {args.vms} VMs, {args.delay_ms:g} ms per host call, "
          f"{runtime.engine.dialect.name}")  # fmt: skip
    for cycle in range(3):
        with ctx.uow() as uow:  # every host due now
            for h in uow.session.query(HostRow).all():
                h.next_check_at = None
            uow.commit()
        calls_before = probe.calls
        t0 = time.perf_counter()
        report = sync.sync_all(ctx, base_interval_s=3.0, max_backoff_s=60.0)
        took = time.perf_counter() - t0
        print(
            f"cycle {cycle + 1}: {took:.2f} s, {report.hosts_checked} hosts checked, "
            f"{len(report.hosts_unreachable)} unreachable, {len(report.vms_corrected)} "
            f"corrected, {probe.calls - calls_before} host calls, at most {probe.peak} at once"
        )
    runtime.close()


if __name__ == "__main__":
    main()
