"""The ports services depend on: the hypervisor, reached through a Protocol.

The libvirt implementation lives in `vmpool.adapters.hypervisor`; unit tests
use a fake. Every method may raise `HostUnreachable` (temporary) and the
domain methods `DomainMissing` when the domain is not (or no longer) there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from vmpool.domain.model import DomainType


@dataclass(frozen=True, slots=True)
class HostInventory:
    hostname: str
    host_uuid: str
    arch: str
    cpus: int
    memory_mib: int
    domain_types: frozenset[DomainType]
    libvirt_version: str
    hypervisor_version: str
    cpu_model: str = ""
    traits: frozenset[str] = frozenset()


class PowerState:
    """The domain states vmpool distinguishes, as plain strings of VmState values."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    SHUTTING_DOWN = "shutting_down"
    CRASHED = "crashed"


@dataclass(frozen=True, slots=True)
class DomainInfo:
    uuid: str
    name: str
    state: str  # one of PowerState
    vmpool_vm_id: int | None = None  # from the domain's vmpool metadata, if vmpool defined it


@dataclass(frozen=True, slots=True)
class BootImage:
    kernel: str
    initrd: str
    cmdline: str


@dataclass(frozen=True, slots=True)
class DomainSpec:
    vm_id: int
    uuid: str
    name: str
    vcpus: int
    memory_mib: int
    domain_type: DomainType
    arch: str = "x86_64"
    boot: BootImage | None = None
    serial_log: str | None = None
    extra_cmdline: tuple[str, ...] = field(default_factory=tuple)


class Hypervisor(Protocol):
    """One hypervisor host."""

    @property
    def uri(self) -> str: ...

    def inventory(self) -> HostInventory: ...

    def list_domains(self) -> list[DomainInfo]: ...

    def domain(self, uuid: str) -> DomainInfo: ...

    def define(self, spec: DomainSpec) -> None: ...

    def start(self, uuid: str) -> None: ...

    def shutdown(self, uuid: str) -> None: ...

    def destroy(self, uuid: str) -> None: ...

    def reboot(self, uuid: str) -> None: ...

    def undefine(self, uuid: str) -> None: ...


class HypervisorConnector(Protocol):
    """Opens (and may cache) a connection to the host at a libvirt URI."""

    def connect(self, uri: str) -> Hypervisor: ...

    def forget(self, uri: str) -> None: ...


class ImageCatalog(Protocol):
    """Boot images by name. Their files must exist at the same path on every host."""

    def resolve(self, name: str) -> BootImage: ...

    def names(self) -> list[str]: ...
