"""An in-memory hypervisor for benchmarks that measure vmpool's own cost, not libvirt's.

Only for benchmarks and unit tests; everything else runs against real lab hosts.
"""

from __future__ import annotations

import threading

from vmpool.domain.model import DomainType
from vmpool.domain.ports import (
    DomainInfo,
    DomainSpec,
    HostInventory,
    HostNetworks,
    LoadSample,
    NetworkSpec,
    PowerState,
)
from vmpool.errors import DomainMissing


class FakeHypervisor:
    def __init__(self, uri: str, cpus: int = 64, memory_mib: int = 393216) -> None:
        self._uri = uri
        self._cpus = cpus
        self._memory = memory_mib
        self._domains: dict[str, DomainInfo] = {}
        self._lock = threading.Lock()

    @property
    def uri(self) -> str:
        return self._uri

    def inventory(self) -> HostInventory:
        return HostInventory(
            hostname=self._uri.split("/")[-1] or "fake",
            host_uuid=f"00000000-0000-4000-8000-{abs(hash(self._uri)) % 10**12:012d}",
            arch="x86_64",
            cpus=self._cpus,
            memory_mib=self._memory,
            domain_types=frozenset({DomainType.QEMU}),
            libvirt_version="0.0.0",
            hypervisor_version="0.0.0",
        )

    def list_domains(self) -> list[DomainInfo]:
        with self._lock:
            return list(self._domains.values())

    def domain(self, uuid: str) -> DomainInfo:
        with self._lock:
            if uuid not in self._domains:
                raise DomainMissing("no such domain", uri=self._uri)
            return self._domains[uuid]

    def _set(self, uuid: str, state: str) -> None:
        with self._lock:
            if uuid not in self._domains:
                raise DomainMissing("no such domain", uri=self._uri)
            d = self._domains[uuid]
            self._domains[uuid] = DomainInfo(d.uuid, d.name, state, d.vmpool_vm_id)

    def define(self, spec: DomainSpec) -> None:
        with self._lock:
            self._domains[spec.uuid] = DomainInfo(
                spec.uuid, spec.name, PowerState.STOPPED, spec.vm_id
            )

    def start(self, uuid: str) -> None:
        self._set(uuid, PowerState.RUNNING)

    def shutdown(self, uuid: str) -> None:
        self._set(uuid, PowerState.STOPPED)

    def destroy(self, uuid: str) -> None:
        self._set(uuid, PowerState.STOPPED)

    def reboot(self, uuid: str) -> None:
        self._set(uuid, PowerState.RUNNING)

    def undefine(self, uuid: str) -> None:
        with self._lock:
            self._domains.pop(uuid, None)

    def sample_load(self) -> LoadSample:
        return LoadSample(0, 0, self._cpus, ())

    def folder_capacity_gib(self, folder: str) -> int:
        return 4000

    def prepare_storage(self, folder: str) -> None:
        pass

    def create_volume(self, folder: str, name: str, gib: int) -> str:
        return f"{folder}/{name}.qcow2"

    def delete_volume(self, path: str) -> None:
        pass

    def host_networks(self) -> HostNetworks:
        return HostNetworks(bridges=frozenset(), libvirt_networks=frozenset())

    def ensure_network(self, spec: NetworkSpec) -> None:
        pass


class FakeConnector:
    def __init__(self) -> None:
        self._hosts: dict[str, FakeHypervisor] = {}

    def connect(self, uri: str) -> FakeHypervisor:
        if uri not in self._hosts:
            self._hosts[uri] = FakeHypervisor(uri)
        return self._hosts[uri]

    def forget(self, uri: str) -> None:
        pass
