"""A placement score for benchmarks, written apart from the planner it judges.

It reads the snapshot JSON document (the dict `parse_cluster` takes, see
`vmpool.domain.cluster_state`) and a placement (VM name -> host name) and imports nothing
from vmpool, so that a planner cannot be graded by its own objective.

Score, lower is better: for each of three per-host fractions, the population standard
deviation over the hosts whose state is "up"; summed; plus the number of VMs placed on a
host that is not up.

    mem   memory allocated / memory capacity
    vcpu  vCPUs allocated / vCPU capacity
    cpu   busy vCPUs / physical vCPUs (less reserved), where a VM's busy vCPUs are
          vcpus * cpu_usage (cpu_usage is the fraction of its vCPUs busy; a VM without a
          sample counts as fully busy)

Capacity is (physical - reserved) * allocation ratio, with the pool policy's ratios and
reservations (defaults: vCPU ratio 4.0, memory ratio 1.0, nothing reserved) unless the host
overrides them. A "guaranteed" VM claims its vCPUs and memory times the host's ratios.
Placement groups are not scored (the bench generates none). A host with no capacity left for
a metric has a fraction of 0 for it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["NeutralScore", "neutral_breakdown", "neutral_score"]


@dataclass(frozen=True, slots=True)
class NeutralScore:
    mem: float  # std dev of memory allocated / capacity, over up hosts
    vcpu: float  # std dev of vCPUs allocated / capacity, over up hosts
    cpu: float  # std dev of busy vCPUs / physical vCPUs, over up hosts
    stranded: int  # VMs on hosts that are not up

    @property
    def total(self) -> float:
        return self.mem + self.vcpu + self.cpu + self.stranded

    @property
    def allocations_only(self) -> float:
        """The score without the CPU-usage term: what a balancer blind to load can reach."""
        return self.mem + self.vcpu + self.stranded


def _pstdev(values: list[float]) -> float:
    if not values:
        return 0.0
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / len(values))


def _setting(host: Mapping[str, Any], policy: Mapping[str, Any], key: str, default: float) -> float:
    value = host.get(key)
    if value is None:
        value = policy.get(key, default)
    return float(value)


def _share(amount: float, capacity: float) -> float:
    return amount / capacity if capacity > 0 else 0.0


def neutral_breakdown(
    snapshot_json: Mapping[str, Any], placement: Mapping[str, str]
) -> NeutralScore:
    """The score's terms for `snapshot_json` with VMs placed as `placement` says (a VM not in
    `placement` stays on the host the snapshot gives it)."""
    policy: Mapping[str, Any] = snapshot_json.get("policy", {})
    hosts: dict[str, Mapping[str, Any]] = {h["name"]: h for h in snapshot_json["hosts"]}
    vcpus = dict.fromkeys(hosts, 0.0)
    mem = dict.fromkeys(hosts, 0.0)
    busy = dict.fromkeys(hosts, 0.0)
    stranded = 0
    for vm in snapshot_json["vms"]:
        where = placement.get(vm["name"], vm["host"])
        host = hosts[where]
        if host.get("state", "up") != "up":
            stranded += 1
        v, m = float(vm["vcpus"]), float(vm["memory_mib"])
        if vm.get("guaranteed", False):
            v *= _setting(host, policy, "cpu_allocation_ratio", 4.0)
            m *= _setting(host, policy, "ram_allocation_ratio", 1.0)
        vcpus[where] += v
        mem[where] += m
        usage = vm.get("cpu_usage")
        busy[where] += float(vm["vcpus"]) * (1.0 if usage is None else float(usage))
    f_mem: list[float] = []
    f_vcpu: list[float] = []
    f_cpu: list[float] = []
    for name, host in hosts.items():
        if host.get("state", "up") != "up":
            continue
        res_v = _setting(host, policy, "reserved_vcpus", 0)
        res_m = _setting(host, policy, "reserved_memory_mib", 0)
        cap_v = (float(host["vcpus"]) - res_v) * _setting(host, policy, "cpu_allocation_ratio", 4.0)
        cap_m = (float(host["memory_mib"]) - res_m) * _setting(
            host, policy, "ram_allocation_ratio", 1.0
        )
        f_vcpu.append(_share(vcpus[name], cap_v))
        f_mem.append(_share(mem[name], cap_m))
        f_cpu.append(_share(busy[name], float(host["vcpus"]) - res_v))
    return NeutralScore(_pstdev(f_mem), _pstdev(f_vcpu), _pstdev(f_cpu), stranded)


def neutral_score(snapshot_json: Mapping[str, Any], placement: Mapping[str, str]) -> float:
    """The neutral score (lower is better) of the placement; see the module docstring."""
    return neutral_breakdown(snapshot_json, placement).total
