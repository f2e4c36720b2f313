"""Rebalance planner: quality and speed on seeded, skewed clusters, against Ganeti's hbal.

    .venv/bin/python -m bench.rebalance [--quick] [--max-moves K] [--no-hbal]
        [--hbal-timeout S] [--hbal-max-hosts N]

Builds clusters of 20 hosts / 200 VMs, 100 / 2,000 and 1,000 / 20,000 where most VMs sit on
a tenth of the hosts, plans them (strategy balance), and prints score before/after, moves,
MiB moved and planning time. Then runs `hbal -t FILE --max-length=K` (Ganeti's htools text
backend, shared-storage instances so every instance can live-migrate) on the same clusters,
applies hbal's moves to our snapshot and re-scores them with OUR score, so that both columns
use one metric. hbal is given no CPU-load data (its text backend has none), so it balances
allocations only: the cpu_load component is where it cannot compete by construction.

hbal runs with no option besides the text file and the move cap, so its own algorithm and
objective are unchanged. Its cost per step is ~VMs x hosts^2: hbal 3.0 re-scores the whole
cluster (every node) for every candidate move, and with shared storage (`rbd`, one move
type per target: migrate/failover to any node) there is no cheaper template. The Debian
binary uses the non-threaded GHC runtime with RTS options disabled (no `+RTS -N2`).
`--no-disk-moves` changes nothing for `rbd`; `-g/--min-gain` would stop it earlier, which
changes the result, so it is not used. At 100 hosts / 2,000 VMs a step takes ~17 s (~15
minutes for 50 steps); at 1,000 hosts / 20,000 VMs one step would take hours, so hbal is
skipped above --hbal-max-hosts instead of being left to time out.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from vmpool.domain.cluster_snapshot import ClusterSnapshot, parse_snapshot
from vmpool.domain.rebalance import Plan, PlannerConfig, apply_moves, plan, score

SEED = 20261124
SIZES = [(20, 200), (100, 2000), (1000, 20000)]
HOST = {"vcpus": 64, "memory_mib": 262144, "disk_gib": 4000}
POLICY = {"cpu_allocation_ratio": 4.0, "ram_allocation_ratio": 1.0, "disk_allocation_ratio": 1.0}
MOVE_RE = re.compile(r"^\s+\d+\.\s+(\S+)\s+(\S+)\s+=>\s+(\S+)\s+([0-9.]+)")


def skewed_cluster(n_hosts: int, n_vms: int, seed: int) -> dict[str, Any]:
    """70% of VMs aimed at the first tenth of the hosts (capacity permitting)."""
    rng = random.Random(seed)
    hosts = [{"name": f"node-{i:04d}", **HOST, "state": "up"} for i in range(n_hosts)]
    cap_v = HOST["vcpus"] * POLICY["cpu_allocation_ratio"]
    cap_m = HOST["memory_mib"]
    used = [[0, 0] for _ in range(n_hosts)]
    hot = max(1, n_hosts // 10)
    vms: list[dict[str, Any]] = []
    for j in range(n_vms):
        vcpus = rng.choice([1, 2, 2, 4, 4, 8])
        mem = vcpus * rng.choice([1024, 2048, 4096])
        for _ in range(100):
            h = rng.randrange(hot) if rng.random() < 0.7 else rng.randrange(n_hosts)
            if used[h][0] + vcpus <= cap_v and used[h][1] + mem <= cap_m:
                break
        else:
            continue
        used[h][0] += vcpus
        used[h][1] += mem
        vms.append(
            {
                "name": f"vm-{j:05d}",
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
        "policy": {**POLICY, "strategy": "balance", "max_migrations": 50},
    }


def ganeti_text(snap: ClusterSnapshot) -> str:
    """The htools text backend: groups, nodes, instances, cluster tags, ipolicy."""
    mem_used: dict[str, float] = {h.name: 0.0 for h in snap.hosts}
    for vm in snap.vms:
        mem_used[vm.host] += vm.memory_mib
    groups = "default|uuid-group-1|preferred||"
    nodes = []
    for h in snap.hosts:
        offline = "N" if h.is_up else "Y"
        total_m, total_d = int(h.memory_mib), int(h.disk_gib * 1024)
        free_m = int(total_m - mem_used[h.name])
        nodes.append(
            f"{h.name}|{total_m}|0|{free_m}|{total_d}|{total_d}|{h.vcpus}|{offline}"
            f"|uuid-group-1|1||N|1|0|1.0"
        )
    instances = [
        f"{vm.name}|{int(vm.memory_mib)}|{int(vm.disk_gib * 1024)}|{vm.vcpus}|running|"
        f"{'Y' if vm.migratable else 'N'}|{vm.host}||rbd||1|-"
        for vm in snap.vms
    ]
    ratio = snap.policy.allocation.cpu_allocation_ratio
    ipolicy = (
        "|128,1,1024,1,1,1|1,1,1,1,1,1;1048576,256,4194304,16,8,1"
        f"|rbd,sharedfile,plain,drbd,diskless,file,ext,blockdev|{ratio}|32.0"
    )
    return f"{groups}\n\n" + "\n".join(nodes) + "\n\n" + "\n".join(instances) + f"\n\n\n{ipolicy}\n"


def run_hbal(
    snap: ClusterSnapshot, max_moves: int, timeout: float
) -> tuple[list[tuple[str, str]], float] | str:
    """hbal's moves [(vm, target)] and its wall time, or why it could not run."""
    exe = shutil.which("hbal")
    if exe is None:
        return "hbal not installed (apt-get install -y ganeti-htools)"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cluster.txt"
        path.write_text(ganeti_text(snap))
        start = time.perf_counter()
        try:
            proc = subprocess.run(
                [exe, "-t", str(path), f"--max-length={max_moves}"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"hbal did not finish within {timeout:.0f} s"
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return f"hbal failed (exit {proc.returncode}): {proc.stderr.strip()[:200]}"
    moves = []
    for line in proc.stdout.splitlines():
        m = MOVE_RE.match(line)
        if m:
            moves.append((m.group(1), m.group(3).split(":")[0]))
    return moves, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="skip the 1,000-host cluster")
    ap.add_argument("--max-moves", type=int, default=50)
    ap.add_argument("--no-hbal", action="store_true")
    ap.add_argument("--hbal-timeout", type=float, default=2400.0, help="seconds per hbal run")
    ap.add_argument(
        "--hbal-max-hosts",
        type=int,
        default=100,
        help="skip hbal on larger clusters (its step costs ~VMs x hosts^2)",
    )
    args = ap.parse_args()
    sizes = SIZES[:2] if args.quick else SIZES
    rows: list[tuple[str, float, Plan, float, tuple[float, int, float] | None]] = []
    for n_hosts, n_vms in sizes:
        snap = parse_snapshot(skewed_cluster(n_hosts, n_vms, SEED + n_hosts))
        start = time.perf_counter()
        result = plan(snap, PlannerConfig(strategy="balance", max_moves=args.max_moves))
        ours_s = time.perf_counter() - start
        label = f"{n_hosts} / {len(snap.vms)}"
        print(
            f"{label}: ours score {result.score_before:.4f} -> {result.score_after:.4f}, "
            f"{len(result.moves)} moves, {result.memory_mib_moved:.0f} MiB moved, "
            f"{ours_s:.2f} s ({result.stopped_because})"
        )
        if args.no_hbal:
            hb: tuple[list[tuple[str, str]], float] | str = "skipped (--no-hbal)"
        elif n_hosts > args.hbal_max_hosts:
            hb = (
                f"skipped (--hbal-max-hosts={args.hbal_max_hosts}): hbal re-scores every "
                "host for every candidate move, ~VMs x hosts^2 per step"
            )
        else:
            hb = run_hbal(snap, args.max_moves, args.hbal_timeout)
        if isinstance(hb, str):
            print(f"  hbal comparison missing: {hb}")
            rows.append((label, result.score_before, result, ours_s, None))
            continue
        moves, hb_s = hb
        after = score(apply_moves(snap, moves)).total("balance")
        mib = sum(vm.memory_mib for vm in snap.vms if vm.name in {m for m, _ in moves})
        print(
            f"  hbal: score (ours) -> {after:.4f}, {len(moves)} moves, {mib:.0f} MiB moved, "
            f"{hb_s:.2f} s"
        )
        rows.append((label, result.score_before, result, ours_s, (after, len(moves), hb_s)))
    print()
    print("| cluster (hosts / VMs) | score before | ours: after | moves | s | "
          "hbal: after (our score) | moves | s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for label, before, result, ours_s, hbr in rows:
        hb_cells = "n/a | n/a | n/a" if hbr is None else f"{hbr[0]:.4f} | {hbr[1]} | {hbr[2]:.2f}"
        print(
            f"| {label} | {before:.4f} | {result.score_after:.4f} | {len(result.moves)} "
            f"| {ours_s:.2f} | {hb_cells} |"
        )


if __name__ == "__main__":
    main()
