"""Crash trials: begin an operation on the real daemon, SIGKILL it at a random moment,
restart it on the same database, let it reconcile, and check the invariants against the
real lab hosts (libvirt) and the database.

A trial is a seed: `random.Random(seed)` chooses the VM, the target and the moment of
the kill (uniform over the operation's typical duration). The same seed on the same
starting population replays the same trial. The world (the database, the lab hosts, a
small population of VMs) is kept from one trial to the next; one daemon process per
trial is killed, and the restarted one is the next trial's daemon.

The invariants (`check`), each violation a line of text:

1. every VM record is `running` on exactly its host (libvirt runs it there and nowhere
   else), or `stopped` (running nowhere, defined on its host), or `error` with a reason
   (running nowhere);
2. no domain UUID is defined (or running) on two hosts, and no domain on a host is
   unknown to the database there (an orphan);
3. no VM, migration, plan, plan step, disk or NIC record is left in a transitional
   state: VM intents (creating, starting, stopping, shutting_down, rebooting, deleting)
   once the restarted daemon has synced every host once, migrations and plans (which the
   new daemon may legitimately carry on) within the operation's settle bound;
4. each host's capacity claims (`allocated` and `vm_count` in the API) equal the sum of
   the sizes of the VMs placed on it;
5. no audit event is lost. vmpool's audit trail has two kinds of event: the `api.call`
   of every mutating request (with the request id and its HTTP status), and the events
   of the use cases, written in the same transaction as the change they describe. Lost
   means: a request answered 2xx without its `api.call` event (same request id and
   status) or without its use case's event (same request id); a VM record without its
   `vm.create`, a VM record gone without `vm.deleted` (or `vm.create_failed`/
   `vm.create_abandoned`); a migration without `migration.requested`, or final without
   the event of its end; a plan without `plan.created`, approved without
   `plan.approved`, completed without `plan.completed`; a host in maintenance without
   `host.maintenance`.

Per operation, the expected settle is checked too (an answered request must have had
its effect: an acknowledged create's VM exists, an acknowledged delete's VM is gone, ...).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import libvirt

from vmpool.lab.hosts import LabHost

TRANSITIONAL_VM = {"creating", "starting", "stopping", "shutting_down", "rebooting", "deleting"}
ACTIVE_MIGRATION = {"queued", "preparing", "running", "completing"}
MIGRATION_END_EVENTS = {
    "migration.completed",
    "migration.failed",
    "migration.cancelled",
    "migration.settled",
    "migration.refused",
}
VM_GONE_EVENTS = {"vm.deleted", "vm.create_failed", "vm.create_abandoned"}
VM_SIZE = {"vcpus": 1, "memory_mib": 128}
# the share of trials killed the moment the client has its answer
AT_ANSWER = float(os.environ.get("VMPOOL_CRASH_AT_ANSWER", "0.25"))
POPULATION_MAX = 4  # VMs kept between trials (TCG guests on 2 cores: keep it small)


# What a standby daemon runs: the imports, then `vmpool serve` on the port it is given.
STANDBY = """
import sys
import uvicorn, vmpool.cli, vmpool.wiring, vmpool.api.app, vmpool.scheduler.jobs
port = sys.stdin.readline().strip()
sys.argv = ["vmpool", "serve", "--host", "127.0.0.1", "--port", port]
vmpool.cli.main()
"""

# `vmpool db upgrade` and `vmpool token create` in one process: the token is the last line.
SETUP_DB = """
from vmpool.cli import app
app(["db", "upgrade"], standalone_mode=False)
app(["token", "create", "--role", "admin", "--name", "crash-trials"], standalone_mode=False)
"""

# --- the daemon ---------------------------------------------------------------------------


@dataclass
class World:
    """The database, the lab hosts and the daemon of the moment."""

    env: dict[str, str]
    workdir: Path
    lab: list[LabHost]
    python: str
    token: str = ""
    host_ids: dict[str, int] = field(default_factory=dict)  # name -> id
    proc: subprocess.Popen[bytes] | None = None
    standby: subprocess.Popen[bytes] | None = None
    standby_log: Path = Path()
    log: Path = Path()
    spawned: int = 0
    url: str = ""
    restarts: int = 0
    names: int = 0
    seen_vm_ids: set[int] = field(default_factory=set)  # every VM id ever in the database
    reported: set[str] = field(default_factory=set)  # violations found by earlier trials

    @property
    def db_path(self) -> Path:
        return Path(self.env["VMPOOL_DATA_DIR"]) / "vmpool.db"

    def setup(self) -> None:
        """The database and an admin token, once; the daemon; the lab hosts registered. The
        daemon imports while `vmpool db upgrade` and `vmpool token create` run (in one
        process: each start costs seconds of imports on the lab machine)."""
        self.spawn()
        made = subprocess.run(
            [self.python, "-c", SETUP_DB], env=self.env, capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        self.token = made.stdout.strip().splitlines()[-1]
        self.start()
        self.spawn()  # the first trial's restart
        with self.client() as c:
            for h in self.lab:
                r = c.post("/v1/hosts", json=h.registration())
                assert r.status_code == 201, r.text
                self.host_ids[h.name] = r.json()["id"]
            # VMs moved by one trial may be moved by the next one's plan
            r = c.patch("/v1/pools/1", json={"rebalance_cooldown_s": 0})
            assert r.status_code == 200, r.text

    def client(self, timeout: float = 60) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=timeout
        )

    def spawn(self) -> None:
        """A daemon process that has done its imports (2-5 s on the lab machine) and waits
        for its port on stdin to go on as `vmpool serve`: started while a trial runs, it
        takes over at once after the kill. The code that serves is the command's own."""
        self.spawned += 1
        log = self.workdir / f"daemon-{self.spawned}.log"
        self.standby_log = log
        self.standby = subprocess.Popen(
            [self.python, "-c", STANDBY], env=self.env, stdin=subprocess.PIPE,
            stdout=log.open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip

    def start(self) -> None:
        from tests.e2e.conftest import free_port

        if self.standby is None:
            self.spawn()
        assert self.standby is not None and self.standby.stdin is not None
        self.proc, self.standby = self.standby, None
        self.log = self.standby_log
        port = free_port()
        self.proc.stdin.write(f"{port}\n".encode())  # type: ignore[union-attr]
        self.proc.stdin.close()  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon did not start: {self.log.read_text()[-3000:]}")
        raise AssertionError("the daemon did not answer within 60 s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def restart(self) -> datetime:
        """A new daemon on the same database; answers when it started (UTC)."""
        self.restarts += 1
        started = datetime.now(UTC)
        self.start()
        return started

    def stop(self) -> None:
        if self.standby is not None:
            self.standby.kill()
            self.standby.wait()
            self.standby = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def new_name(self) -> str:
        self.names += 1
        return f"crash-{os.getpid() % 1000}-{self.names}"


def wait_for(what: str, predicate: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what} ({seconds} s)")


# --- requests: sent with a request id of our own, so that the audit can be checked -------


@dataclass
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: int | None = None  # None: no answer (the daemon died first)
    answer: Any = None
    intent_event: str | None = None  # the use case's event this request must leave

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def send(c: httpx.Client, call: Call) -> Call:
    try:
        r = c.request(
            call.method, call.path, json=call.body, headers={"X-Request-ID": call.request_id}
        )
    except httpx.HTTPError:
        return call
    call.status = r.status_code
    with contextlib.suppress(ValueError):
        call.answer = r.json()
    return call


# --- what is there: the database (read-only) and the lab hosts ---------------------------


def db_rows(world: World, sql: str, *args: object) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{world.db_path}?mode=ro", uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args).fetchall()]
    finally:
        conn.close()


def vms(world: World) -> list[dict[str, Any]]:
    return db_rows(world, "SELECT * FROM vms ORDER BY id")


@dataclass(frozen=True)
class Domain:
    host: str
    uuid: str
    name: str
    active: bool
    persistent: bool


def lab_domains(lab: list[LabHost]) -> list[Domain]:
    found = []
    for h in lab:
        conn = libvirt.open(h.uri)
        try:
            for d in conn.listAllDomains(0):
                with contextlib.suppress(libvirt.libvirtError):  # gone meanwhile
                    found.append(
                        Domain(h.name, d.UUIDString(), d.name(), bool(d.isActive()),
                               bool(d.isPersistent()))
                    )  # fmt: skip
        finally:
            conn.close()
    return found


# --- the invariants ----------------------------------------------------------------------


def transitional(world: World) -> list[str]:
    """Records in a transitional state, one line each."""
    out = []
    for vm in vms(world):
        if vm["state"] in TRANSITIONAL_VM or vm["state"] == "migrating":
            out.append(f"VM {vm['name']} is {vm['state']}")
    for m in db_rows(world, "SELECT id, state FROM migrations"):
        if m["state"] in ACTIVE_MIGRATION:
            out.append(f"migration {m['id']} is {m['state']}")
    for p in db_rows(world, "SELECT id, state FROM plans WHERE state = 'running'"):
        out.append(f"plan {p['id']} is running")
    for s in db_rows(
        world,
        "SELECT s.plan_id, s.seq, s.state FROM plan_steps s JOIN plans p ON p.id = s.plan_id "
        "WHERE s.state = 'running' OR (s.state = 'pending' AND p.state = 'running')",
    ):
        out.append(f"step {s['seq']} of plan {s['plan_id']} is {s['state']}")
    for table in ("disks", "nics"):
        for r in db_rows(world, f"SELECT id, state FROM {table}"):
            if r["state"] != "attached":
                out.append(f"{table[:-1]} {r['id']} is {r['state']}")
    return out


def vm_intents(world: World) -> list[str]:
    return [
        f"VM {vm['name']} is still {vm['state']} after the first sync of every host"
        for vm in vms(world)
        if vm["state"] in TRANSITIONAL_VM
    ]


def check(world: World, calls: list[Call], known_vm_ids: set[int]) -> list[str]:
    """Every invariant (see the module's docstring); the violations, one line each."""
    bad: list[str] = []
    host_names = {v: k for k, v in world.host_ids.items()}
    rows = vms(world)
    by_uuid = {vm["uuid"]: vm for vm in rows}
    doms = lab_domains(world.lab)
    running_on: dict[str, list[str]] = {}
    defined_on: dict[str, list[str]] = {}
    for d in doms:
        if d.active:
            running_on.setdefault(d.uuid, []).append(d.host)
        defined_on.setdefault(d.uuid, []).append(d.host)

    # 1. running on exactly its host, or stopped, or error with a reason
    for vm in rows:
        where = sorted(running_on.get(vm["uuid"], []))
        home = host_names.get(vm["host_id"])
        label = f"VM {vm['name']} (id {vm['id']}, {vm['state']}, on {home})"
        if vm["state"] == "running":
            if where != [home]:
                bad.append(f"1: {label} runs on {where or 'no host'}")
        elif vm["state"] == "stopped":
            if where:
                bad.append(f"1: {label} runs on {where}")
            if home not in defined_on.get(vm["uuid"], []):
                bad.append(f"1: {label} is not defined on its host")
        elif vm["state"] == "error":
            if not vm["last_error"]:
                bad.append(f"1: {label} has no reason")
            if where:
                bad.append(f"1: {label} runs on {where}")
        else:
            bad.append(f"1: {label} is neither running, stopped nor error")

    # 2. no domain on two hosts, no orphan
    for u, hosts in defined_on.items():
        if len(hosts) > 1:
            bad.append(f"2: domain {u} is defined on {sorted(hosts)}")
        vm = by_uuid.get(u)
        for h in hosts:
            if vm is None:
                bad.append(f"2: domain {u} on {h} is unknown to the database (orphan)")
            elif host_names.get(vm["host_id"]) != h:
                bad.append(f"2: domain of VM {vm['name']} on {h}, its record says "
                           f"{host_names.get(vm['host_id'])}")  # fmt: skip

    # 3. nothing transitional
    bad += [f"3: {t}" for t in transitional(world)]

    # 4. claims = sizes
    with world.client() as c:
        hosts = c.get("/v1/hosts", params={"limit": 1000}).json()["items"]
    for h in hosts:
        placed = [vm for vm in rows if vm["host_id"] == h["id"]]
        want = (sum(vm["vcpus"] for vm in placed), sum(vm["memory_mib"] for vm in placed))
        got = (h["allocated"]["vcpus"], h["allocated"]["memory_mib"])
        if got != want or h["vm_count"] != len(placed):
            bad.append(f"4: host {h['name']} claims {got} for {h['vm_count']} VMs, its VMs "
                       f"add up to {want} for {len(placed)}")  # fmt: skip

    # 5. no audit event lost
    bad += [f"5: {x}" for x in audit_gaps(world, calls, rows, known_vm_ids)]
    return bad


def audit_gaps(
    world: World, calls: list[Call], rows: list[dict[str, Any]], known_vm_ids: set[int]
) -> list[str]:
    gaps = []
    events = db_rows(world, "SELECT kind, subject, request_id, details FROM events")
    by_request: dict[str, list[dict[str, Any]]] = {}
    kinds_of: dict[str, set[str]] = {}
    for e in events:
        if e["request_id"]:
            by_request.setdefault(e["request_id"], []).append(e)
        kinds_of.setdefault(e["subject"], set()).add(e["kind"])
    for call in calls:
        mine = by_request.get(call.request_id, [])
        if call.ok:
            outcomes = [json.loads(e["details"]).get("outcome") for e in mine
                        if e["kind"] == "api.call"]  # fmt: skip
            if call.status not in outcomes:
                gaps.append(f"{call.method} {call.path} answered {call.status}, "
                            f"no api.call event with that outcome")  # fmt: skip
            if call.intent_event and call.intent_event not in {e["kind"] for e in mine}:
                gaps.append(f"{call.method} {call.path} answered {call.status}, "
                            f"no {call.intent_event} event")  # fmt: skip
    ids = {vm["id"] for vm in rows}
    for vm in rows:
        if "vm.create" not in kinds_of.get(f"vm/{vm['id']}", set()):
            gaps.append(f"VM {vm['name']} has no vm.create event")
    for gone in sorted(known_vm_ids - ids):
        if not kinds_of.get(f"vm/{gone}", set()) & VM_GONE_EVENTS:
            gaps.append(f"VM id {gone} is gone without a vm.deleted event")
    for m in db_rows(world, "SELECT id, state FROM migrations"):
        kinds = kinds_of.get(f"migration/{m['id']}", set())
        if "migration.requested" not in kinds:
            gaps.append(f"migration {m['id']} has no migration.requested event")
        if m["state"] not in ACTIVE_MIGRATION and not kinds & MIGRATION_END_EVENTS:
            gaps.append(f"migration {m['id']} is {m['state']} without an event of its end")
    for p in db_rows(world, "SELECT id, state, approved_by FROM plans"):
        kinds = kinds_of.get(f"plan/{p['id']}", set())
        if "plan.created" not in kinds:
            gaps.append(f"plan {p['id']} has no plan.created event")
        if p["approved_by"] and p["approved_by"] != "scheduler" and "plan.approved" not in kinds:
            gaps.append(f"plan {p['id']} was approved without a plan.approved event")
        if p["state"] == "completed" and "plan.completed" not in kinds:
            gaps.append(f"plan {p['id']} completed without a plan.completed event")
    for h in db_rows(world, "SELECT id, name FROM hosts WHERE state = 'maintenance'"):
        if "host.maintenance" not in kinds_of.get(f"host/{h['id']}", set()):
            gaps.append(f"host {h['name']} is in maintenance without a host.maintenance event")
    return gaps


# --- the population between trials -------------------------------------------------------


def settled_vms(c: httpx.Client) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = c.get("/v1/vms", params={"limit": 1000}).json()["items"]
    return items


def create_vm(world: World, c: httpx.Client, host: str, calls: list[Call]) -> dict[str, Any]:
    body = {"name": world.new_name(), **VM_SIZE, "image": "tiny", "hosts": [host]}
    call = send(c, Call("POST", "/v1/vms", body, intent_event="vm.create"))
    calls.append(call)
    assert call.status == 201, (call.status, call.answer)
    vm: dict[str, Any] = call.answer
    return vm


def tidy(world: World, calls: list[Call]) -> None:
    """Between trials: hosts out of maintenance, VMs in error removed, the population at
    most POPULATION_MAX."""
    with world.client() as c:
        for h in c.get("/v1/hosts").json()["items"]:
            if h["state"] == "maintenance":
                path = f"/v1/hosts/{h['id']}/maintenance"
                call = send(c, Call("DELETE", path, intent_event="host.maintenance_ended"))
                calls.append(call)
                assert call.ok, (call.status, call.answer)
        present = settled_vms(c)
        doomed = [v for v in present if v["state"] == "error"]
        keep = [v for v in present if v["state"] != "error"]
        doomed += keep[POPULATION_MAX:]
        for v in doomed:
            call = send(c, Call("DELETE", f"/v1/vms/{v['id']}", intent_event="vm.delete"))
            calls.append(call)
            assert call.status == 204, (call.status, call.answer)


def running_vms(c: httpx.Client) -> list[dict[str, Any]]:
    return [v for v in settled_vms(c) if v["state"] == "running"]


def ensure_running(world: World, c: httpx.Client, n: int, calls: list[Call]) -> None:
    """At least `n` running VMs (a stopped one is started first)."""
    present = settled_vms(c)
    running = [v for v in present if v["state"] == "running"]
    for v in [v for v in present if v["state"] == "stopped"][: max(0, n - len(running))]:
        call = send(c, Call("POST", f"/v1/vms/{v['id']}/start", intent_event="vm.start"))
        calls.append(call)
        assert call.ok, (call.status, call.answer)
        running.append(v)
    names = [h.name for h in world.lab]
    for i in range(n - len(running)):
        create_vm(world, c, names[i % len(names)], calls)


# --- the operations ----------------------------------------------------------------------


@dataclass
class Begun:
    """What an operation's `prepare` chose: the calls to send (in order, in a thread)
    and what to check once it settled."""

    calls: list[Call]
    expect: Callable[[World, list[Call]], list[str]] = lambda _w, _c: []
    note: str = ""  # what was chosen, for the trial's line


@dataclass(frozen=True)
class Operation:
    name: str
    max_delay_s: float  # the kill falls uniformly in [0, max_delay_s] after the first call
    settle_s: float  # the bound on reconciling after the restart
    prepare: Callable[[World, random.Random, list[Call]], Begun]


def _vm(world: World, vm_id: int) -> dict[str, Any] | None:
    found = db_rows(world, "SELECT * FROM vms WHERE id = ?", vm_id)
    return found[0] if found else None


def prepare_create(world: World, rng: random.Random, calls: list[Call]) -> Begun:
    host = rng.choice(world.lab).name
    body = {"name": world.new_name(), **VM_SIZE, "image": "tiny", "hosts": [host]}
    call = Call("POST", "/v1/vms", body, intent_event="vm.create")

    def expect(w: World, done: list[Call]) -> list[str]:
        if not call.ok:
            return []
        vm = _vm(w, call.answer["id"])
        if vm is None:
            return [f"the create of {body['name']} was answered {call.status}; it is gone"]
        return []

    return Begun([call], expect)


def prepare_delete(world: World, rng: random.Random, calls: list[Call]) -> Begun:
    with world.client() as c:
        ensure_running(world, c, 1, calls)
        victim = rng.choice(settled_vms(c))
    call = Call("DELETE", f"/v1/vms/{victim['id']}", intent_event="vm.delete")

    def expect(w: World, done: list[Call]) -> list[str]:
        if call.ok and _vm(w, victim["id"]) is not None:
            return [f"the delete of {victim['name']} was answered {call.status}; it is there"]
        return []

    return Begun([call], expect)


def prepare_start_stop(world: World, rng: random.Random, calls: list[Call]) -> Begun:
    with world.client() as c:
        ensure_running(world, c, 1, calls)
        candidates = [v for v in settled_vms(c) if v["state"] in ("running", "stopped")]
    vm = rng.choice(candidates)
    action = "stop" if vm["state"] == "running" else "start"
    call = Call("POST", f"/v1/vms/{vm['id']}/{action}", intent_event=f"vm.{action}")
    want = "stopped" if action == "stop" else "running"

    def expect(w: World, done: list[Call]) -> list[str]:
        now = _vm(w, vm["id"])
        if call.ok and (now is None or now["state"] != want):
            got = now["state"] if now else "gone"
            return [f"the {action} of {vm['name']} was answered {call.status}; it is {got}"]
        return []

    return Begun([call], expect)


def _migration_expect(call: Call, vm: dict[str, Any]) -> Callable[[World, list[Call]], list[str]]:
    def expect(w: World, done: list[Call]) -> list[str]:
        if not call.ok:
            return []
        m = db_rows(w, "SELECT * FROM migrations WHERE id = ?", call.answer["id"])[0]
        now = _vm(w, vm["id"])
        if m["state"] == "completed" and (now is None or now["host_id"] != m["target_host_id"]):
            return [f"migration {m['id']} completed but VM {vm['name']} is not on its target"]
        return []

    return expect


def prepare_migrate(world: World, rng: random.Random, calls: list[Call]) -> Begun:
    with world.client() as c:
        ensure_running(world, c, 1, calls)
        vm = rng.choice(running_vms(c))
    target = rng.choice([h for h in world.lab if h.name != vm["host_name"]]).name
    body = {"target_host_id": world.host_ids[target]}
    call = Call("POST", f"/v1/vms/{vm['id']}/migrate", body, intent_event="migration.requested")
    return Begun([call], _migration_expect(call, vm))


def prepare_evacuate(world: World, rng: random.Random, calls: list[Call]) -> Begun:
    with world.client() as c:
        ensure_running(world, c, 2, calls)
        busy = sorted({v["host_name"] for v in running_vms(c)})
    host = rng.choice(busy)
    call = Call("POST", f"/v1/hosts/{world.host_ids[host]}/maintenance",
                intent_event="host.maintenance")  # fmt: skip

    def expect(w: World, done: list[Call]) -> list[str]:
        if not call.ok:
            return []
        row = db_rows(w, "SELECT state FROM hosts WHERE id = ?", world.host_ids[host])[0]
        if row["state"] != "maintenance":
            return [f"maintenance of {host} was answered {call.status}; it is {row['state']}"]
        return []

    return Begun([call], expect)


def prepare_plan(world: World, rng: random.Random, calls: list[Call]) -> Begun:
    """A plan with moves (consolidate or balance, whichever moves something; a VM is
    added if neither does), proposed, then approved: the kill falls during its steps."""
    with world.client() as c:
        ensure_running(world, c, 2, calls)
        strategy = None
        for candidate in rng.sample(["consolidate", "balance"], 2):
            dry = c.post("/v1/pools/1/plans", json={**PLAN, "strategy": candidate,
                                                    "dry_run": True})  # fmt: skip
            assert dry.status_code == 201, dry.text
            if dry.json()["steps"]:
                strategy = candidate
                break
        if strategy is None:  # one more VM where most run: balance moves one
            crowded = max(world.lab, key=lambda h: sum(
                v["host_name"] == h.name for v in running_vms(c)))  # fmt: skip
            create_vm(world, c, crowded.name, calls)
            strategy = "balance"
        made = send(c, Call("POST", "/v1/pools/1/plans", {**PLAN, "strategy": strategy},
                            intent_event="plan.created"))  # fmt: skip
        calls.append(made)
        assert made.status == 201, (made.status, made.answer)
    plan = made.answer
    call = Call("POST", f"/v1/plans/{plan['id']}/approve", intent_event="plan.approved")

    def expect(w: World, done: list[Call]) -> list[str]:
        row = db_rows(w, "SELECT state FROM plans WHERE id = ?", plan["id"])[0]
        if call.ok and row["state"] not in ("completed", "cancelled"):
            return [f"plan {plan['id']} was approved; it is {row['state']}"]
        return []

    return Begun([call], expect, f"{strategy}, {len(plan['steps'])} steps")


PLAN = {"max_moves": 2, "min_gain": 0.0}

OPERATIONS = {
    op.name: op
    for op in (
        # the delays: a little over the durations measured without a kill (measure(),
        # VMPOOL_CRASH_MEASURE=1): create 0.6-0.7 s, delete 1.5-1.9 s, stop 2.1 s, start
        # 1.4 s, migrate 2.9-3.2 s, evacuate (two VMs) 2.8-5.6 s, a plan 3.8-4.3 s
        Operation("create", 1.0, 30, prepare_create),
        Operation("delete", 2.0, 30, prepare_delete),
        Operation("start_stop", 2.2, 30, prepare_start_stop),
        Operation("migrate", 3.5, 60, prepare_migrate),
        Operation("evacuate", 6.0, 90, prepare_evacuate),
        Operation("plan", 5.0, 90, prepare_plan),
    )
}


# --- a trial -----------------------------------------------------------------------------


@dataclass
class Trial:
    operation: str
    seed: int
    delay_s: float = 0.0
    at_answer: bool = False  # killed as soon as the last call was answered
    note: str = ""
    answered: list[str] = field(default_factory=list)  # "METHOD path -> status"
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # where the time went


def measure(world: World, op: Operation, calls: list[Call]) -> float:
    """The operation's duration without a kill: from its first call until nothing is
    transitional any more (what the kill's delay is drawn over)."""
    tidy(world, calls)
    begun = op.prepare(world, random.Random(0), calls)
    t0 = time.monotonic()
    with world.client(timeout=120) as c:
        for call in begun.calls:
            send(c, call)
    wait_for("the operation to end", lambda: not transitional(world), 300)
    calls.extend(begun.calls)
    return time.monotonic() - t0


def run_trial(world: World, op: Operation, seed: int, calls: list[Call]) -> Trial:
    """One trial on the world's running daemon; leaves a (restarted) daemon running."""
    t_start = time.monotonic()
    rng = random.Random(seed)
    trial = Trial(op.name, seed)
    mine: list[Call] = []  # this trial's requests, whose audit is checked
    tidy(world, mine)
    begun = op.prepare(world, rng, mine)
    trial.note = begun.note
    lap = _laps(trial, t_start)
    lap("prepare")
    trial.delay_s = round(rng.uniform(0, op.max_delay_s), 3)
    # One trial in four kills the daemon the moment the client has its answer: the
    # window between the acknowledgement and whatever the daemon does next.
    trial.at_answer = rng.random() < AT_ANSWER
    world.seen_vm_ids |= {vm["id"] for vm in vms(world)}
    answered = threading.Event()

    def fire() -> None:
        with world.client(timeout=120) as c:
            for call in begun.calls:
                send(c, call)
                if call.status is None:
                    break
        answered.set()

    sender = threading.Thread(target=fire, daemon=True)
    t0 = time.monotonic()
    sender.start()
    if trial.at_answer:
        answered.wait(timeout=120)
        trial.delay_s = round(time.monotonic() - t0, 3)
    else:
        time.sleep(max(0.0, t0 + trial.delay_s - time.monotonic()))
    world.kill()
    lap("run")
    sender.join(timeout=30)
    mine.extend(begun.calls)
    calls.extend(mine)
    trial.answered = [f"{c.method} {c.path} -> {c.status}" for c in begun.calls]
    world.seen_vm_ids |= {vm["id"] for vm in vms(world)}  # made before the kill

    started = world.restart()
    lap("restart")
    world.spawn()  # the next one, importing while this trial is checked
    trial.violations += reconcile(world, op, started)
    lap("reconcile")
    trial.violations += check(world, mine, world.seen_vm_ids)
    trial.violations += [f"settle: {x}" for x in begun.expect(world, mine)]
    # A violation left by an earlier trial (the world is kept) is that trial's, not this one's.
    trial.violations = [v for v in trial.violations if v not in world.reported]
    world.reported |= set(trial.violations)
    lap("check")
    trial.seconds = round(time.monotonic() - t_start, 1)
    return trial


def _laps(trial: Trial, t_start: float) -> Callable[[str], None]:
    last = [t_start]

    def lap(name: str) -> None:
        now = time.monotonic()
        trial.phases[name] = round(now - last[0], 1)
        last[0] = now

    return lap


def reconcile(world: World, op: Operation, started: datetime) -> list[str]:
    """Wait for one sync of every host by the new daemon (VM intents must be settled by
    then, allowing the sync's own removals a moment), then for migrations and plans to
    end within the operation's bound. Answers what is still transitional."""

    def synced() -> bool:
        rows = db_rows(world, "SELECT last_seen_at FROM hosts")
        return all(
            r["last_seen_at"] is not None
            and datetime.fromisoformat(r["last_seen_at"]).replace(tzinfo=UTC) >= started
            for r in rows
        )

    wait_for("the first sync of every host", synced, 30)
    with contextlib.suppress(AssertionError):
        wait_for("VM intents settled", lambda: not vm_intents(world), 5)
    left = vm_intents(world)
    with contextlib.suppress(AssertionError):
        wait_for("nothing transitional", lambda: not transitional(world), op.settle_s)
    return [f"3: {x}" for x in left]


def table(trials: list[Trial]) -> str:
    lines = ["| operation | trials | invariant violations | trials with a violation | s/trial |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name in OPERATIONS:
        mine = [t for t in trials if t.operation == name]
        if not mine:
            continue
        broken = [t for t in mine if t.violations]
        lines.append(
            f"| {name} | {len(mine)} | {sum(len(t.violations) for t in mine)} | "
            f"{len(broken)} | {sum(t.seconds for t in mine) / len(mine):.1f} |"
        )
    return "\n".join(lines)
