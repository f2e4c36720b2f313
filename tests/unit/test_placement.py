from vmpool.domain.model import (
    AllocationPolicy,
    DomainType,
    HostOverrides,
    HostSnapshot,
    HostState,
    PlacementStrategy,
    Resources,
    VmRequest,
    host_capacity,
    make_host_snapshot,
)
from vmpool.domain.placement import place

POLICY = AllocationPolicy(reserved_memory_mib=0)


def host(name: str, used_cpu: float = 0, used_mem: float = 0, state: HostState = HostState.UP,
         cpus: int = 8, mem: int = 16384, **kw: object) -> HostSnapshot:  # fmt: skip
    return make_host_snapshot(
        id=hash(name) % 10_000,
        name=name,
        state=state,
        physical=Resources(cpus, mem, 100),
        policy=POLICY,
        shared_use=Resources(used_cpu, used_mem, 0),
        **kw,  # type: ignore[arg-type]
    )


def test_capacity_is_physical_minus_reserved_times_ratio() -> None:
    policy = AllocationPolicy(cpu_allocation_ratio=4.0, reserved_vcpus=2, reserved_memory_mib=1024)
    cap = host_capacity(Resources(8, 16384, 100), policy)
    assert cap == Resources(24.0, 15360.0, 100.0)
    cap = host_capacity(Resources(8, 16384, 100), policy, HostOverrides(cpu_allocation_ratio=1.0))
    assert cap.vcpus == 6.0


def test_spread_picks_least_loaded_and_pack_the_fullest() -> None:
    hosts = [host("a", 4, 8192), host("b", 1, 1024), host("c", 2, 4096)]
    req = VmRequest(vcpus=1, memory_mib=1024)
    assert place(hosts, req, POLICY).host.name == "b"  # type: ignore[union-attr]
    pack = AllocationPolicy(reserved_memory_mib=0, strategy=PlacementStrategy.PACK)
    assert place(hosts, req, pack).host.name == "a"  # type: ignore[union-attr]


def test_ties_are_broken_by_name() -> None:
    hosts = [host("c"), host("a"), host("b")]
    assert place(hosts, VmRequest(1, 512), POLICY).host.name == "a"  # type: ignore[union-attr]


def test_hosts_not_up_are_never_chosen_and_the_refusal_explains() -> None:
    hosts = [
        host("m", state=HostState.MAINTENANCE),
        host("u", state=HostState.UNREACHABLE),
        host("full", used_mem=16000),
    ]
    result = place(hosts, VmRequest(vcpus=1, memory_mib=2048), POLICY)
    assert result.host is None
    text = result.explanation
    assert "1 host: in maintenance" in text and "1 host: unreachable" in text
    assert "1 host: not enough memory (need 2048 MiB, best has 384 MiB free)" in text


def test_domain_type_filter() -> None:
    hosts = [host("tcg"), host("kvm", domain_types=frozenset({DomainType.KVM, DomainType.QEMU}))]
    req = VmRequest(1, 512, domain_type=DomainType.KVM)
    result = place(hosts, req, POLICY)
    assert result.host is not None and result.host.name == "kvm"


def test_empty_pool() -> None:
    result = place([], VmRequest(1, 512), POLICY)
    assert result.host is None
    assert result.explanation == "the pool has no hosts"
