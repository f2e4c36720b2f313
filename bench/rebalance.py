"""Rebalance planner against Ganeti's hbal, both graded by one neutral score.

    .venv/bin/python -m bench.rebalance [--quick] [--sizes 20,50,...] [--no-hbal]
        [--hbal-timeout S] [--hbal-max-hosts N]

Clusters (seeded): 20 hosts / ~200 VMs, 50 / ~500, 100 / ~2,000, 1,000 / ~20,000 and
10,000 / ~200,000 (`--quick`: the first two). Hosts are of mixed sizes (16, 32, 64 or 96
vCPUs with 4 GiB per vCPU, weighted 1:2:3:2), 70% of the VMs are aimed at the first tenth of
the hosts (capacity permitting) and the last host is in "maintenance" with a few VMs on it.
Policy: vCPU ratio 4.0, memory ratio 1.0, 2 GiB of memory reserved per host. Each cluster is
planned with two move budgets, a tight one (20 moves at 20 hosts, 25 at 50, 50 from 100
hosts up) and 50 (the same budget from 100 hosts up, so one run).

vmpool: `plan(snapshot, PlannerConfig(strategy="balance", max_moves=K))`, timed in process
(planning only). On the 1,000- and 10,000-host clusters one full `vmpool plan --cluster FILE
--max-moves K` process (interpreter start, imports, JSON parsing, planning) is timed too.

hbal: `hbal -t FILE --max-length=K --ignore-dynu`, the htools text backend written from the
snapshot: every node with its real memory, memory reserved for the node OS, and CPU count;
the maintenance host marked offline ("Y", which is what the text backend offers: it has no
drained mark; hbal keeps no instance on an offline node and counts every instance on one in
its score, so it evacuates it); shared-storage (`rbd`) instances, so that every instance can
live-migrate; the pool's vCPU ratio as the ipolicy's vcpu-ratio. `--ignore-dynu` is what
hbal's users pass when they feed it no utilisation data (no `-U` file, no MonD): without it,
hbal assumes a load of 1.0 per instance on every dynamic metric, which evens out instance
counts alongside resources (it changes hbal's plans here). hbal's algorithm and objective
are otherwise untouched: no --ignore-soft-errors, default min-gain (so it may stop before K
moves, once its own score is below 0.1 and a step gains less than 0.01). hbal re-scores
every node for every candidate move, ~VMs x hosts^2 per step (~2 s per step at 50 hosts /
500 VMs on a 2-core machine, so ~30 s at 100 / 2,000 and hours at 1,000 / 20,000): it is
skipped above 100 hosts.

Both plans are applied to the snapshot and graded by `bench.neutral_score`, written apart
from the planner (it imports nothing from vmpool): the sum over memory allocation, vCPU
allocation and CPU usage (busy vCPUs / physical vCPUs) of the population standard deviation
of the per-host fraction over up hosts, plus the number of VMs left on hosts that are not up.
That is the objective vmpool states for itself (vmpool's own score of both plans is printed
as a cross-check), not hbal's: hbal minimises its own mix (free memory, vCPU ratio, N+1, disk,
...). With --ignore-dynu hbal sees no CPU usage at all, so the CPU-usage term is one it
cannot balance by construction; the score without that term ("allocations only") is printed
for both, for a comparison on allocations alone.

A third run gives vmpool hbal's memory cost as a budget: `max_memory_mib` = the MiB hbal's
plan copies (sum of its moved VMs' memory), with the same move cap, when the planner has that
knob; a fourth, printed but not tabled, gives it that memory budget alone (no binding move
cap). "vmpool vs hbal" is (vmpool after - hbal after) / hbal after, in percent, on the
neutral score: negative means vmpool's placement scores lower (better).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.neutral_score import NeutralScore, neutral_breakdown
from vmpool.domain.cluster_state import ClusterHost, ClusterState, parse_cluster
from vmpool.domain.rebalance import Plan, PlannerConfig, apply_moves, plan, score

SEED = 20261124
SIZES = [(20, 200), (50, 500), (100, 2000), (1000, 20000), (10000, 200000)]
QUICK_HOSTS = (20, 50)
CLI_HOSTS = (1000, 10000)  # also timed as one `vmpool plan` process
# (vCPUs, memory MiB) per host kind, and how often each kind is drawn.
HOST_KINDS = [(16, 65536), (32, 131072), (64, 262144), (96, 393216)]
HOST_WEIGHTS = [1, 2, 3, 2]
POLICY: dict[str, Any] = {
    "cpu_allocation_ratio": 4.0,
    "ram_allocation_ratio": 1.0,
    "disk_allocation_ratio": 1.0,
    "reserved_vcpus": 0,
    "reserved_memory_mib": 2048,
    "reserved_disk_gib": 0,
}
MAX_BUDGET = 50
MOVE_RE = re.compile(r"^\s+\d+\.\s+(\S+)\s+(\S+)\s+=>\s+(\S+)\s+([0-9.]+)")
INITIAL_RE = re.compile(r"^Initial score:\s+([0-9.eE+-]+)")
FINAL_RE = re.compile(r"^Cluster score improved from\s+([0-9.eE+-]+)\s+to\s+([0-9.eE+-]+)")
HAS_MEMORY_BUDGET = "max_memory_mib" in PlannerConfig.__dataclass_fields__


def tight_budget(n_hosts: int) -> int:
    return 20 if n_hosts <= 20 else 25 if n_hosts <= 50 else 50


def budgets(n_hosts: int) -> list[int]:
    return sorted({tight_budget(n_hosts), MAX_BUDGET})


# --- the clusters ---------------------------------------------------------------------------


def skewed_cluster(n_hosts: int, n_vms: int, seed: int) -> dict[str, Any]:
    """Mixed host sizes; 70% of VMs aimed at the first tenth of the hosts (capacity
    permitting, else another random host; a VM that fits nowhere in 100 draws is dropped);
    the last host in maintenance, holding the VMs it drew."""
    rng = random.Random(seed)
    hosts: list[dict[str, Any]] = []
    caps: list[tuple[float, float]] = []
    for i in range(n_hosts):
        vcpus, mem = rng.choices(HOST_KINDS, HOST_WEIGHTS)[0]
        hosts.append(
            {"name": f"node-{i:05d}", "vcpus": vcpus, "memory_mib": mem, "disk_gib": 4000,
             "state": "up"}
        )  # fmt: skip
        caps.append(
            (
                (vcpus - POLICY["reserved_vcpus"]) * POLICY["cpu_allocation_ratio"],
                (mem - POLICY["reserved_memory_mib"]) * POLICY["ram_allocation_ratio"],
            )
        )
    hosts[-1]["state"] = "maintenance"
    used = [[0, 0] for _ in range(n_hosts)]
    hot = max(1, n_hosts // 10)
    vms: list[dict[str, Any]] = []
    for j in range(n_vms):
        vcpus = rng.choice([1, 2, 2, 4, 4, 8])
        mem = vcpus * rng.choice([1024, 2048, 4096])
        for _ in range(100):
            h = rng.randrange(hot) if rng.random() < 0.7 else rng.randrange(n_hosts)
            if used[h][0] + vcpus <= caps[h][0] and used[h][1] + mem <= caps[h][1]:
                break
        else:
            continue
        used[h][0] += vcpus
        used[h][1] += mem
        vms.append(
            {
                "name": f"vm-{j:06d}",
                "host": hosts[h]["name"],
                "vcpus": vcpus,
                "memory_mib": mem,
                "disk_gib": 20,
                "cpu_usage": round(rng.betavariate(2, 5), 3),
            }
        )
    return {
        "version": 1,
        "hosts": hosts,
        "vms": vms,
        "policy": {**POLICY, "strategy": "balance", "max_migrations": MAX_BUDGET},
    }


# --- hbal ------------------------------------------------------------------------------------


def ganeti_text(snap: ClusterState) -> str:
    """The htools text backend (see htools(1)): groups, nodes, instances, cluster tags,
    ipolicy. A node line is name|mem_total|mem_node|mem_free|disk_total|disk_free|cpus|
    offline|group_uuid|spindles|tags|exclusive_storage|free_spindles|node_cpus|cpu_speed;
    node memory is the memory the policy reserves, node CPUs the vCPUs it reserves."""
    alloc = snap.policy.allocation
    mem_used: dict[str, float] = {h.name: 0.0 for h in snap.hosts}
    for vm in snap.vms:
        mem_used[vm.host] += vm.memory_mib
    groups = "default|uuid-group-1|preferred||"
    nodes = []
    for h in snap.hosts:
        reserved_m = h.overrides.reserved_memory_mib
        reserved_m = alloc.reserved_memory_mib if reserved_m is None else reserved_m
        reserved_v = h.overrides.reserved_vcpus
        reserved_v = alloc.reserved_vcpus if reserved_v is None else reserved_v
        offline = "N" if h.is_up else "Y"
        total_m, total_d = int(h.memory_mib), int(h.disk_gib * 1024)
        free_m = int(total_m - reserved_m - mem_used[h.name])
        nodes.append(
            f"{h.name}|{total_m}|{reserved_m}|{free_m}|{total_d}|{total_d}|{h.vcpus}|{offline}"
            f"|uuid-group-1|1||N|1|{reserved_v}|1.0"
        )
    instances = [
        f"{vm.name}|{int(vm.memory_mib)}|{int(vm.disk_gib * 1024)}|{vm.vcpus}|running|"
        f"{'Y' if vm.migratable else 'N'}|{vm.host}||rbd||1|-"
        for vm in snap.vms
    ]
    ipolicy = (
        "|128,1,1024,1,1,1|1,1,1,1,1,1;1048576,256,4194304,16,8,1"
        f"|rbd,sharedfile,plain,drbd,diskless,file,ext,blockdev|{alloc.cpu_allocation_ratio}"
        "|32.0"
    )
    return f"{groups}\n\n" + "\n".join(nodes) + "\n\n" + "\n".join(instances) + f"\n\n\n{ipolicy}\n"


@dataclass(frozen=True, slots=True)
class HbalRun:
    moves: list[tuple[str, str]]  # (instance, new primary node), in order
    seconds: float
    own_before: float | None  # hbal's own cluster score
    own_after: float | None


def run_hbal(
    snap: ClusterState, max_moves: int, timeout: float, cache: Path | None = None
) -> HbalRun | str:
    """hbal's plan for `snap`, or why there is none. With `cache`, a run of hbal on the same
    input and budget is taken from there (its plan does not depend on vmpool's code: a rerun
    of the bench after a planner change need not wait for hbal again)."""
    exe = shutil.which("hbal")
    if exe is None:
        return "hbal not installed (apt-get install -y ganeti-htools)"
    text = ganeti_text(snap)
    key = hashlib.sha256(f"{max_moves}\n{text}".encode()).hexdigest()[:24]
    cached = cache / f"hbal-{key}.json" if cache is not None else None
    if cached is not None and cached.is_file():
        data = json.loads(cached.read_text())
        return HbalRun([(m, h) for m, h in data["moves"]], data["seconds"], data["before"],
                       data["after"])  # fmt: skip
    run = _run_hbal(exe, text, max_moves, timeout)
    if cached is not None and isinstance(run, HbalRun):
        cached.parent.mkdir(parents=True, exist_ok=True)
        record = {"moves": run.moves, "seconds": run.seconds}
        record.update(before=run.own_before, after=run.own_after)
        cached.write_text(json.dumps(record))
    return run


def _run_hbal(exe: str, text: str, max_moves: int, timeout: float) -> HbalRun | str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cluster.txt"
        path.write_text(text)
        cmd = [exe, "-t", str(path), f"--max-length={max_moves}", "--ignore-dynu"]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return f"hbal did not finish within {timeout:.0f} s"
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return f"hbal failed (exit {proc.returncode}): {proc.stderr.strip()[:300]}"
    moves: list[tuple[str, str]] = []
    before = after = None
    for line in proc.stdout.splitlines():
        if m := MOVE_RE.match(line):
            # new nodes are "primary" or "primary:secondary"; rbd instances have no secondary
            moves.append((m.group(1), m.group(3).split(":")[0]))
        elif m := INITIAL_RE.match(line):
            before = float(m.group(1))
        elif m := FINAL_RE.match(line):
            after = float(m.group(2))
    if after is None and before is not None and not moves:
        after = before
    return HbalRun(moves, seconds, before, after)


# --- measuring -------------------------------------------------------------------------------


def memory_of(snap: ClusterState, moves: list[tuple[str, str]]) -> float:
    moved = {vm for vm, _ in moves}
    return sum(vm.memory_mib for vm in snap.vms if vm.name in moved)


def own_score(snap: ClusterState, moves: list[tuple[str, str]]) -> float:
    """vmpool's own pool score of the placement after `moves`."""
    return score(apply_moves(snap, moves)).total("balance")


def grade(doc: dict[str, Any], moves: list[tuple[str, str]]) -> NeutralScore:
    return neutral_breakdown(doc, dict(moves))


def pairs(result: Plan) -> list[tuple[str, str]]:
    return [(m.vm, m.target) for m in result.moves]


def timed_plan(snap: ClusterState, config: PlannerConfig) -> tuple[Plan, float]:
    start = time.perf_counter()
    result = plan(snap, config)
    return result, time.perf_counter() - start


def memory_budget_config(max_moves: int, mib: float) -> PlannerConfig | None:
    if not HAS_MEMORY_BUDGET:
        return None
    knobs: dict[str, Any] = {"strategy": "balance", "max_moves": max_moves, "max_memory_mib": mib}
    return PlannerConfig(**knobs)


def cli_seconds(doc: dict[str, Any], max_moves: int) -> float | str:
    """Wall time of one `vmpool plan --cluster FILE` process, start to exit."""
    exe = Path(sys.executable).with_name("vmpool")
    if not exe.exists():
        return f"no {exe}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.json"
        path.write_text(json.dumps(doc))
        cmd = [str(exe), "plan", "--cluster", str(path), "--strategy", "balance",
               "--max-moves", str(max_moves), "--json"]  # fmt: skip
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return f"`vmpool plan` failed (exit {proc.returncode}): {proc.stderr.strip()[:200]}"
    return seconds


@dataclass(slots=True)
class Row:
    label: str
    budget: int
    before: NeutralScore
    ours: NeutralScore
    ours_moves: int
    ours_mib: float
    ours_s: float
    hbal: NeutralScore | None = None
    hbal_moves: int = 0
    hbal_mib: float = 0.0
    hbal_s: float = 0.0
    at_hbal_mib: NeutralScore | None = None
    cli_s: float | None = None

    def versus(self, alloc_only: bool = False) -> float | None:
        if self.hbal is None:
            return None
        ours = self.ours.allocations_only if alloc_only else self.ours.total
        theirs = self.hbal.allocations_only if alloc_only else self.hbal.total
        return None if theirs <= 0 else 100.0 * (ours - theirs) / theirs


def fmt(x: NeutralScore | None, alloc_only: bool = False) -> str:
    if x is None:
        return "n/a"
    return f"{x.allocations_only if alloc_only else x.total:.4f}"


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:+.1f}%"


def describe(x: NeutralScore) -> str:
    return (
        f"{x.total:.4f} (mem {x.mem:.4f}, vcpu {x.vcpu:.4f}, cpu {x.cpu:.4f}, "
        f"stranded {x.stranded}; without cpu {x.allocations_only:.4f})"
    )


def h_size(hosts: list[ClusterHost]) -> str:
    return ", ".join(f"{h.vcpus} vCPUs / {h.memory_mib / 1024:.0f} GiB" for h in hosts)


def bench_cluster(n_hosts: int, n_vms: int, args: argparse.Namespace) -> list[Row]:
    t0 = time.perf_counter()
    doc = skewed_cluster(n_hosts, n_vms, SEED + n_hosts)
    snap = parse_cluster(doc)
    maint = [h for h in snap.hosts if not h.is_up]
    on_maint = sum(1 for vm in snap.vms if vm.host in {h.name for h in maint})
    label = f"{n_hosts:,} / {len(snap.vms):,}"
    before = grade(doc, [])
    print(
        f"== {label}: built in {time.perf_counter() - t0:.1f} s; {len(maint)} host in "
        f"maintenance ({', '.join(h.name for h in maint)}, {h_size(maint)}) holding "
        f"{on_maint} VMs"
    )
    print(f"  neutral score before: {describe(before)}")
    own_before = score(snap).total("balance")
    print(f"  vmpool's own score before: {own_before:.4f}")
    if abs(own_before - before.total) > 1e-6:
        print("  NOTE: the neutral scorer and vmpool's score disagree on the input")
    if args.no_hbal:
        hbal_skip: str | None = "--no-hbal"
    elif n_hosts > args.hbal_max_hosts:
        hbal_skip = (
            f"above {args.hbal_max_hosts} hosts: hbal re-scores every node for every "
            "candidate move (~VMs x hosts^2 per step), hours per plan here"
        )
    else:
        hbal_skip = None
    rows: list[Row] = []
    for k in budgets(n_hosts):
        result, ours_s = timed_plan(snap, PlannerConfig(strategy="balance", max_moves=k))
        ours_moves = pairs(result)
        row = Row(label, k, before, grade(doc, ours_moves), len(ours_moves),
                  result.memory_mib_moved, ours_s)  # fmt: skip
        print(
            f"  budget {k}: vmpool -> {describe(row.ours)}, {row.ours_moves} moves, "
            f"{row.ours_mib:,.0f} MiB, {ours_s:.2f} s ({result.stopped_because}); "
            f"own score {result.score_before:.4f} -> {own_score(snap, ours_moves):.4f}"
        )
        if n_hosts in CLI_HOSTS:
            cli = cli_seconds(doc, k)
            if isinstance(cli, str):
                print(f"    {cli}")
            else:
                row.cli_s = cli
                print(f"    `vmpool plan` process, start to exit: {cli:.2f} s")
        if hbal_skip is not None:
            print(f"    hbal skipped: {hbal_skip}")
            rows.append(row)
            continue
        hb = run_hbal(snap, k, args.hbal_timeout, args.hbal_cache)
        if isinstance(hb, str):
            print(f"    hbal: {hb}")
            rows.append(row)
            continue
        row.hbal = grade(doc, hb.moves)
        row.hbal_moves = len(hb.moves)
        row.hbal_mib = memory_of(snap, hb.moves)
        row.hbal_s = hb.seconds
        own_hb = "?"
        if hb.own_before is not None and hb.own_after is not None:
            own_hb = f"{hb.own_before:.4f} -> {hb.own_after:.4f}"
        off = {h.name for h in maint}
        evacuated = sum(1 for vm in snap.vms if vm.host in off and vm.name in dict(hb.moves))
        print(
            f"    hbal -> {describe(row.hbal)}, {row.hbal_moves} moves, {row.hbal_mib:,.0f} MiB, "
            f"{hb.seconds:.2f} s; own score (vmpool's) {own_score(snap, hb.moves):.4f}; "
            f"hbal's own score {own_hb}; moved {evacuated} of {on_maint} VMs off the "
            "offline node"
        )
        config = memory_budget_config(k, row.hbal_mib)
        if config is None:
            print("    memory budget: not supported by this planner")
        else:
            budgeted, budget_s = timed_plan(snap, config)
            row.at_hbal_mib = grade(doc, pairs(budgeted))
            print(
                f"    vmpool with hbal's {row.hbal_mib:,.0f} MiB as budget -> "
                f"{describe(row.at_hbal_mib)}, {len(budgeted.moves)} moves, "
                f"{budgeted.memory_mib_moved:,.0f} MiB, {budget_s:.2f} s "
                f"({budgeted.stopped_because})"
            )
            # Extra: the memory budget alone (no binding move cap), as a reference.
            alone_config = memory_budget_config(len(snap.vms), row.hbal_mib)
            assert alone_config is not None
            alone, alone_s = timed_plan(snap, alone_config)
            print(
                f"    (extra) hbal's MiB as the only budget -> "
                f"{describe(grade(doc, pairs(alone)))}, {len(alone.moves)} moves, "
                f"{alone.memory_mib_moved:,.0f} MiB, {alone_s:.2f} s ({alone.stopped_because})"
            )
        print(f"    vmpool vs hbal: {pct(row.versus())} (without cpu {pct(row.versus(True))})")
        rows.append(row)
    return rows


def print_tables(rows: list[Row]) -> None:
    print()
    print("| cluster (hosts / VMs) | budget | neutral before | vmpool after | moves | MiB moved "
          "| s | hbal after | hbal moves | hbal MiB | hbal s | vmpool at hbal's MiB "
          "| vmpool vs hbal |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        hb = r.hbal is not None
        print(
            f"| {r.label} | {r.budget} | {fmt(r.before)} | {fmt(r.ours)} | {r.ours_moves} "
            f"| {r.ours_mib:,.0f} | {r.ours_s:.2f} | {fmt(r.hbal)} "
            f"| {r.hbal_moves if hb else 'n/a'} | {f'{r.hbal_mib:,.0f}' if hb else 'n/a'} "
            f"| {f'{r.hbal_s:.2f}' if hb else 'n/a'} | {fmt(r.at_hbal_mib)} "
            f"| {pct(r.versus())} |"
        )
    ran = [v for r in rows if (v := r.versus()) is not None]
    if ran:
        print(f"\nvmpool vs hbal, average over {len(ran)} rows: {sum(ran) / len(ran):+.1f}%")
    print(
        "\nWithout the CPU-usage term (allocations only: with --ignore-dynu hbal sees no CPU use)"
    )
    print()
    print("| cluster (hosts / VMs) | budget | before | vmpool after | hbal after "
          "| vmpool at hbal's MiB | vmpool vs hbal |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.label} | {r.budget} | {fmt(r.before, True)} | {fmt(r.ours, True)} "
            f"| {fmt(r.hbal, True)} | {fmt(r.at_hbal_mib, True)} | {pct(r.versus(True))} |"
        )
    ran = [v for r in rows if (v := r.versus(True)) is not None]
    if ran:
        print(f"\nvmpool vs hbal without CPU usage, average: {sum(ran) / len(ran):+.1f}%")
    timed = [r for r in rows if r.cli_s is not None]
    if timed:
        print()
        print("| cluster (hosts / VMs) | budget | planning s (in process) | `vmpool plan` s |")
        print("|---|---|---|---|")
        for r in timed:
            print(f"| {r.label} | {r.budget} | {r.ours_s:.2f} | {r.cli_s:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--quick", action="store_true", help="only the 20- and 50-host clusters")
    ap.add_argument(
        "--sizes",
        help="comma-separated host counts to run, among " + ", ".join(str(h) for h, _ in SIZES),
    )
    ap.add_argument("--no-hbal", action="store_true", help="vmpool only")
    ap.add_argument("--hbal-timeout", type=float, default=3600.0, help="seconds per hbal run")
    ap.add_argument(
        "--hbal-cache",
        type=Path,
        default=None,
        help="keep hbal's plans in this folder and reuse them (same input, same budget)",
    )
    ap.add_argument("--hbal-max-hosts", type=int, default=100, help="skip hbal above this")
    args = ap.parse_args()
    sizes = SIZES
    if args.sizes:
        wanted = {int(s) for s in args.sizes.split(",") if s.strip()}
        unknown = wanted - {h for h, _ in SIZES}
        if unknown:
            ap.error(f"unknown size(s) {sorted(unknown)}: pick among {[h for h, _ in SIZES]}")
        sizes = [s for s in SIZES if s[0] in wanted]
    elif args.quick:
        sizes = [s for s in SIZES if s[0] in QUICK_HOSTS]
    if not HAS_MEMORY_BUDGET:
        print("memory budget: not supported by this planner (no PlannerConfig.max_memory_mib)")
    rows: list[Row] = []
    for n_hosts, n_vms in sizes:
        rows.extend(bench_cluster(n_hosts, n_vms, args))
    print_tables(rows)


if __name__ == "__main__":
    main()
