"""Property tests: for random pools and request sequences, placement never breaks a rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vmpool.domain.host import HostState
from vmpool.domain.model import (
    AllocationPolicy,
    GroupPolicy,
    GroupRule,
    PlacementHost,
    PlacementRequirements,
    PlacementStrategy,
    Resources,
    make_placement_host,
)
from vmpool.domain.placement import capacity, place

states = st.sampled_from(list(HostState))
policies = st.builds(
    AllocationPolicy,
    cpu_allocation_ratio=st.sampled_from([1.0, 2.0, 4.0, 16.0]),
    ram_allocation_ratio=st.sampled_from([1.0, 1.5]),
    reserved_vcpus=st.integers(0, 2),
    reserved_memory_mib=st.sampled_from([0, 512, 2048]),
    strategy=st.sampled_from(list(PlacementStrategy)),
)


@st.composite
def pools(draw: st.DrawFn) -> tuple[AllocationPolicy, list[PlacementHost]]:
    policy = draw(policies)
    n = draw(st.integers(0, 12))
    hosts = [
        make_placement_host(
            id=i,
            name=f"h{i:02d}",
            state=draw(states),
            physical=Resources(draw(st.integers(1, 64)), draw(st.integers(1024, 262144)), 100),
            policy=policy,
        )
        for i in range(n)
    ]
    return policy, hosts


requests = st.builds(
    PlacementRequirements,
    vcpus=st.integers(1, 16),
    memory_mib=st.integers(64, 65536),
    guaranteed=st.booleans(),
)
groups = st.tuples(st.sampled_from(list(GroupPolicy)), st.booleans())


def _apply(host: PlacementHost, req: PlacementRequirements) -> PlacementHost:
    return PlacementHost(
        id=host.id, name=host.name, state=host.state, capacity=host.capacity,
        used=host.used + req.claim_on(host), cpu_ratio=host.cpu_ratio, ram_ratio=host.ram_ratio,
        arch=host.arch, domain_types=host.domain_types, traits=host.traits,
    )  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(pools(), st.lists(st.tuples(requests, st.integers(0, 2)), max_size=40), groups)
def test_placement_sequences_never_break_a_rule(
    pool: tuple[AllocationPolicy, list[PlacementHost]],
    seq: list[tuple[PlacementRequirements, int]],
    group_kind: tuple[GroupPolicy, bool],
) -> None:
    policy, hosts = pool
    by_name = {h.name: h for h in hosts}
    members: dict[int, dict[str, list[str]]] = {0: {}, 1: {}, 2: {}}
    for i, (base, gid) in enumerate(seq):
        group_members = members[gid]
        rule = GroupRule(f"g{gid}", group_kind[0], group_kind[1],
                         {h: tuple(v) for h, v in group_members.items()})  # fmt: skip
        req = PlacementRequirements(
            base.vcpus, base.memory_mib, guaranteed=base.guaranteed, group=rule
        )
        result = place(list(by_name.values()), req, policy)
        if result.host is None:
            # A refusal only when no host could take the VM.
            for h in by_name.values():
                fits = req.claim_on(h).fits_in(h.free)
                rule_ok = not (
                    rule.hard
                    and (
                        (rule.policy is GroupPolicy.ANTI_AFFINITY and group_members.get(h.name))
                        or (rule.policy is GroupPolicy.AFFINITY and group_members
                            and h.name not in group_members)
                    )
                )  # fmt: skip
                assert not (h.state is HostState.UP and fits and rule_ok), (h, req)
            continue
        chosen = result.host
        assert chosen.state is HostState.UP
        assert req.claim_on(chosen).fits_in(chosen.free)
        if rule.hard and rule.policy is GroupPolicy.ANTI_AFFINITY:
            assert chosen.name not in group_members
        if rule.hard and rule.policy is GroupPolicy.AFFINITY and group_members:
            assert chosen.name in group_members
        by_name[chosen.name] = _apply(chosen, req)
        group_members.setdefault(chosen.name, []).append(f"vm{i}")
    for h in by_name.values():
        assert h.used.vcpus <= h.capacity.vcpus + 1e-6
        assert h.used.memory_mib <= h.capacity.memory_mib + 1e-6


@settings(max_examples=200, deadline=None)
@given(pools(), requests)
def test_capacity_agrees_with_repeated_placement(
    pool: tuple[AllocationPolicy, list[PlacementHost]], req: PlacementRequirements
) -> None:
    policy, hosts = pool
    promised = capacity(hosts, req).total
    by_name = {h.name: h for h in hosts}
    placed = 0
    while placed <= promised:
        result = place(list(by_name.values()), req, policy)
        if result.host is None:
            break
        by_name[result.host.name] = _apply(result.host, req)
        placed += 1
    assert placed == promised
