from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    DomainType,
    GroupPolicy,
    GroupRule,
    HostOverrides,
    PlacementHost,
    PlacementRequirements,
    PlacementStrategy,
    Resources,
    host_capacity,
    make_placement_host,
)
from vmpool.domain.placement import capacity, place

POLICY = AllocationPolicy(reserved_memory_mib=0)


def host(name: str, used_cpu: float = 0, used_mem: float = 0, state: HostState = HostState.UP,
         cpus: int = 8, mem: int = 16384, **kw: object) -> PlacementHost:  # fmt: skip
    return make_placement_host(
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
    req = PlacementRequirements(vcpus=1, memory_mib=1024)
    assert place(hosts, req, POLICY).host.name == "b"  # type: ignore[union-attr]
    pack = AllocationPolicy(reserved_memory_mib=0, strategy=PlacementStrategy.PACK)
    assert place(hosts, req, pack).host.name == "a"  # type: ignore[union-attr]


def test_ties_are_broken_by_name() -> None:
    hosts = [host("c"), host("a"), host("b")]
    assert place(hosts, PlacementRequirements(1, 512), POLICY).host.name == "a"  # type: ignore[union-attr]


def test_hosts_not_up_are_never_chosen_and_the_refusal_explains() -> None:
    hosts = [
        host("m", state=HostState.MAINTENANCE),
        host("u", state=HostState.UNREACHABLE),
        host("full", used_mem=16000),
    ]
    result = place(hosts, PlacementRequirements(vcpus=1, memory_mib=2048), POLICY)
    assert result.host is None
    text = result.explanation
    assert "1 host: in maintenance" in text and "1 host: unreachable" in text
    assert "1 host: not enough memory (need 2048 MiB, best has 384 MiB free)" in text


def test_domain_type_filter() -> None:
    hosts = [host("tcg"), host("kvm", domain_types=frozenset({DomainType.KVM, DomainType.QEMU}))]
    req = PlacementRequirements(1, 512, domain_type=DomainType.KVM)
    result = place(hosts, req, POLICY)
    assert result.host is not None and result.host.name == "kvm"


def test_empty_pool() -> None:
    result = place([], PlacementRequirements(1, 512), POLICY)
    assert result.host is None
    assert result.explanation == "the pool has no hosts"


def _group(policy: GroupPolicy, hard: bool, **members: tuple[str, ...]) -> GroupRule:
    return GroupRule("g", policy, hard, dict(members))


def test_guaranteed_vms_count_at_ratio_one() -> None:
    policy = AllocationPolicy(cpu_allocation_ratio=4.0, reserved_memory_mib=0)
    h = make_placement_host(id=1, name="h", state=HostState.UP, physical=Resources(4, 8192, 0),
                           policy=policy, dedicated_use=Resources(2, 0, 0))  # fmt: skip
    assert h.capacity.vcpus == 16.0
    assert h.used.vcpus == 8.0  # 2 dedicated vCPUs are 2 of the 4 physical ones
    shared = PlacementRequirements(vcpus=8, memory_mib=512)
    dedicated = PlacementRequirements(vcpus=3, memory_mib=512, guaranteed=True)
    assert place([h], shared, policy).host is not None
    result = place([h], dedicated, policy)  # 3 physical CPUs, only 2 left
    assert result.host is None
    assert "not enough vCPUs" in result.explanation
    assert place([h], PlacementRequirements(vcpus=2, memory_mib=512, guaranteed=True), policy).host


def test_hard_anti_affinity_never_shares_a_host() -> None:
    hosts = [host("a"), host("b"), host("c")]
    req = PlacementRequirements(
        1, 512, group=_group(GroupPolicy.ANTI_AFFINITY, True, a=("web-1",), b=("web-2",))
    )
    assert place(hosts, req, POLICY).host.name == "c"  # type: ignore[union-attr]
    req2 = PlacementRequirements(1, 512, group=_group(GroupPolicy.ANTI_AFFINITY, True, a=("web-1",),
                                            b=("web-2",), c=("web-3",)))  # fmt: skip
    result = place(hosts, req2, POLICY)
    assert result.host is None
    assert result.explanation == "3 hosts: anti-affinity with vm web-1, web-2, web-3"


def test_soft_anti_affinity_prefers_but_does_not_refuse() -> None:
    hosts = [host("a"), host("b", used_cpu=6)]
    group = _group(GroupPolicy.ANTI_AFFINITY, False, a=("web-1",))
    # Spread alone would pick a (emptier); the soft rule moves it to b.
    assert place(hosts, PlacementRequirements(1, 512, group=group), POLICY).host.name == "b"  # type: ignore[union-attr]
    group_everywhere = _group(GroupPolicy.ANTI_AFFINITY, False, a=("w1",), b=("w2",))
    assert (
        place(hosts, PlacementRequirements(1, 512, group=group_everywhere), POLICY).host is not None
    )


def test_hard_affinity_follows_the_group() -> None:
    hosts = [host("a"), host("b", used_cpu=30), host("c")]
    group = _group(GroupPolicy.AFFINITY, True, b=("db-1",))
    assert place(hosts, PlacementRequirements(1, 512, group=group), POLICY).host.name == "b"  # type: ignore[union-attr]
    result = place(hosts, PlacementRequirements(4, 512, group=group), POLICY)  # b is full
    assert result.host is None
    assert "2 hosts: affinity with group g (its VMs run on b)" in result.explanation
    assert "1 host: not enough vCPUs" in result.explanation
    # An empty group may start anywhere.
    assert place(
        hosts, PlacementRequirements(1, 512, group=_group(GroupPolicy.AFFINITY, True)), POLICY
    ).host


def test_soft_affinity_prefers_the_group_host() -> None:
    hosts = [host("a"), host("b", used_cpu=20)]
    group = _group(GroupPolicy.AFFINITY, False, b=("db-1",))
    assert place(hosts, PlacementRequirements(1, 512, group=group), POLICY).host.name == "b"  # type: ignore[union-attr]


def test_traits_arch_and_requested_hosts() -> None:
    hosts = [host("a", traits=frozenset({"tpm"})), host("b", arch="aarch64"), host("c")]
    assert (
        place(
            hosts, PlacementRequirements(1, 512, required_traits=frozenset({"tpm"})), POLICY
        ).host.name
        == "a"
    )  # type: ignore[union-attr]
    r = place(hosts, PlacementRequirements(1, 512, required_traits=frozenset({"sgx"})), POLICY)
    assert r.host is None and "3 hosts: lack trait sgx" in r.explanation
    assert place(hosts, PlacementRequirements(1, 512, arch="aarch64"), POLICY).host.name == "b"  # type: ignore[union-attr]
    r = place(hosts, PlacementRequirements(1, 512, allowed_hosts=frozenset({"c"})), POLICY)
    assert r.host.name == "c"  # type: ignore[union-attr]


def test_balanced_keeps_cpu_and_memory_even() -> None:
    policy = AllocationPolicy(reserved_memory_mib=0, strategy=PlacementStrategy.BALANCED)
    cpu_heavy = make_placement_host(id=1, name="cpu-heavy", state=HostState.UP,
                                   physical=Resources(8, 16384, 0), policy=policy,
                                   shared_use=Resources(24, 1024, 0))  # fmt: skip
    mem_heavy = make_placement_host(id=2, name="mem-heavy", state=HostState.UP,
                                   physical=Resources(8, 16384, 0), policy=policy,
                                   shared_use=Resources(2, 12288, 0))  # fmt: skip
    mem_hungry = PlacementRequirements(vcpus=1, memory_mib=4096)
    assert place([cpu_heavy, mem_heavy], mem_hungry, policy).host.name == "cpu-heavy"  # type: ignore[union-attr]


def test_capacity_counts_what_fits() -> None:
    hosts = [host("a"), host("b", used_mem=12288), host("m", state=HostState.MAINTENANCE)]
    report = capacity(hosts, PlacementRequirements(vcpus=2, memory_mib=2048))
    assert {r.host: r.count for r in report.per_host} == {"a": 8, "b": 2}
    assert report.total == 10
    assert report.rejections[0].reason == "in maintenance"
    anti = PlacementRequirements(1, 512, group=_group(GroupPolicy.ANTI_AFFINITY, True, a=("x",)))
    assert capacity(hosts, anti).total == 1
