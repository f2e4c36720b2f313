"""Real libvirt hosts on one machine: the lab.

Each lab host is its own ``libvirtd`` in a private network namespace (made
persistent with ``ip netns add vmplab<base_port>-labN``) and a private mount
and UTS namespace (``ip netns exec NS unshare --mount --uts``). Inside it,
private folders of the lab dir are bind-mounted over ``/etc/libvirt``,
``/run/libvirt``, ``/var/lib/libvirt``, ``/var/log/libvirt`` and
``/var/cache/libvirt``, and the hostname is set to ``labN``. The root
filesystem and ``/dev/kvm`` are shared, so a path such as
``<lab_dir>/shared/disk.qcow2`` means the same file on every host, like an
NFS mount would.

The network: a fabric namespace ``vmplab<base_port>-fabric`` is the lab's
switch, with two bridges, ``mgmt`` (10.231.0.0/24, management and migration)
and ``guest`` (10.232.0.0/24, the guests' network; the fabric itself is
10.232.0.1 there). Each host has ``mgmt0`` (10.231.0.<index>/24, a veth into
the fabric's ``mgmt``) and the bridge ``vmpbr0`` (no address) whose uplink
veth ``vmpup0`` goes into the fabric's ``guest``: VMs tapped into ``vmpbr0``
on any host share one L2 segment. Nothing of it is in the machine's own
network namespace, so no packet to a private address ever appears there.

vmpool (in the machine's namespace) reaches each daemon over its UNIX socket,
``qemu+unix:///system?socket=<lab_dir>/hosts/labN/run/libvirt-sock``; the
source host of a peer-to-peer migration opens the same URI. Migration data
(QEMU to QEMU, and NBD for disk copies) goes to ``tcp://10.231.0.<index>``.
Each daemon has its own host UUID (libvirt refuses to migrate between daemons
with the same one) and its own range of QEMU migration ports.

Layout of the lab dir::

    <lab_dir>/lab.json            state: base port, fabric netns, per host uuid/pid/namespaces
    <lab_dir>/lab.lock            flock held while lab_up / lab_down run
    <lab_dir>/shared/             the same folder for every host ("NFS")
    <lab_dir>/hosts/labN/
        host_uuid                 generated once, reused by later lab_up calls
        libvirtd.log              stdout/stderr of the daemon
        etc/ run/ lib/ log/ cache/  bind-mounted over the libvirt folders
        storage/                  private storage folder (disk copies)
        hugepages/2M, hugepages/1G  hugetlbfs mounted there in the host's mount namespace
                                  (qemu.conf hugetlbfs_mount): guests on huge pages

Needs root, ``unshare`` (util-linux), ``ip`` (iproute2) and ``libvirtd``
(libvirt-daemon-system, qemu-system-x86).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmpool.lab.pki import HostPki, client_pki_dir, ensure_host_pki

DEFAULT_LAB_DIR = Path("/var/lib/vmpool-lab")
DEFAULT_BASE_PORT = 16510
MIGRATION_PORT_BASE = 49152
MIGRATION_PORTS_PER_HOST = 100
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
MAX_HOSTS = 50

# QEMU capabilities probed by one lab host, copied to the others: each host
# would otherwise spend ~8 s probing the emulators on its first
# getCapabilities()/defineXML(). libvirt checks the copies (QEMU binary ctime,
# libvirt version, kernel, microcode) and probes again if they are stale.
CAPS_CACHE_DIR = Path("/var/cache/vmpool-lab/qemu-capabilities")

# The lab's network (see the module docstring and docs/lab.md).
MGMT_SUBNET = "10.231.0.0/24"  # management and migration network, host N is .N
GUEST_SUBNET = "10.232.0.0/24"  # the guests' network
FABRIC_GUEST_ADDRESS = "10.232.0.1"  # the fabric namespace on the guest network
GUEST_BRIDGE = "vmpbr0"  # in each host's namespace: VMs tap into it
MGMT_IFNAME = "mgmt0"  # in each host's namespace: its 10.231.0.N
GUEST_UPLINK = "vmpup0"  # in each host's namespace: vmpbr0's port to the fabric
FABRIC_MGMT_BRIDGE = "mgmt"
FABRIC_GUEST_BRIDGE = "guest"
FABRIC_NAME = "fabric"
NETNS_PREFIX = "vmplab"
OWNER_DIR = Path("/run/vmpool-lab")  # netns prefix -> the lab dir that owns it

STATE_FILE = "lab.json"
LOCK_FILE = "lab.lock"

# system folder -> name of the private folder inside <lab_dir>/hosts/labN/
PRIVATE_DIRS: tuple[tuple[str, str], ...] = (
    ("/etc/libvirt", "etc"),
    ("/run/libvirt", "run"),
    ("/var/lib/libvirt", "lib"),
    ("/var/log/libvirt", "log"),
    ("/var/cache/libvirt", "cache"),
)

# Folders the QEMU driver and its helpers use under /var/lib/libvirt,
# /var/cache/libvirt and /var/log/libvirt (the packages create them on the
# system; the private copies start empty).
LIB_SUBDIRS: tuple[str, ...] = (
    "boot",
    "images",
    "dnsmasq",
    "network",
    "sanlock",
    "qemu",
    "qemu/channel/target",
    "qemu/checkpoint",
    "qemu/dump",
    "qemu/nvram",
    "qemu/ram",
    "qemu/save",
    "qemu/snapshot",
)
CACHE_SUBDIRS: tuple[str, ...] = ("qemu",)
LOG_SUBDIRS: tuple[str, ...] = ("qemu",)

# Runs inside the new namespaces: "$1" is the hostname, "$2" the host's huge pages folder,
# then pairs of (private folder, system folder) to bind-mount.
_NAMESPACE_SCRIPT = r"""
set -eu
name="$1"
hugepages="$2"
shift 2
while [ "$#" -ge 2 ]; do
    mkdir -p "$2"
    mount --bind "$1" "$2"
    shift 2
done
# hugetlbfs for guests backed by huge pages (qemu.conf hugetlbfs_mount names these folders;
# libvirt checks them when it starts and QEMU, as root, makes its memory files there). The
# mounts exist in this host's mount namespace only: outside it the folders stay empty.
mkdir -p "$hugepages/2M"
mount -t hugetlbfs -o pagesize=2M,mode=0755 vmpool-lab-hugepages "$hugepages/2M"
if [ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ]; then
    mkdir -p "$hugepages/1G"
    mount -t hugetlbfs -o pagesize=1G,mode=0755 vmpool-lab-hugepages "$hugepages/1G"
fi
if command -v hostname >/dev/null 2>&1; then
    hostname "$name"
else
    printf '%s' "$name" > /proc/sys/kernel/hostname
fi
# The host's lock manager (qemu.conf lock_manager = "lockd"): a virtlockd of its own, on
# the host's private run dir. One left running by a libvirtd that died is kept (it holds
# the leases of the QEMU processes that still run): a second one would not start anyway.
# (A dead one may linger as a zombie: whether it answers is what counts.)
if ! socat -u /dev/null UNIX-CONNECT:/run/libvirt/virtlockd-sock 2>/dev/null; then
    rm -f /run/libvirt/virtlockd-sock /run/libvirt/virtlockd-admin-sock
    virtlockd -d -p /run/libvirt/virtlockd.pid
fi
# libvirtd gives up at once if virtlockd does not accept yet (it may still be starting)
tries=0
until socat -u /dev/null UNIX-CONNECT:/run/libvirt/virtlockd-sock 2>/dev/null; do
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || { echo "virtlockd does not answer" >&2; exit 1; }
    sleep 0.1
done
exec libvirtd -p /run/libvirt/libvirtd.pid
"""

# TLS hosts: the same, but libvirtd listens (on its TLS port, inside its namespace)
_NAMESPACE_SCRIPT_LISTEN = _NAMESPACE_SCRIPT.replace(
    "exec libvirtd -p", "exec libvirtd --listen -p"
)


# The version of the hosts' settings: a host started with another is restarted by lab_up.
LAB_CONFIG = 5  # 2: virtlockd, 3: its log, 4: started unless one answers, 5: hugetlbfs
LOCKSPACE = "lockd"  # the folder of virtlockd's leases, in the lab's shared folder
HUGEPAGES_DIR = "hugepages"  # <host dir>/hugepages/2M (and /1G): its hugetlbfs mounts


class LabError(Exception):
    """The lab cannot be set up, reached or torn down; the message says why."""


@dataclass(frozen=True)
class LabHost:
    name: str
    index: int
    uri: str  # qemu+unix:///system?socket=<socket_path>
    socket_path: str
    netns: str  # the host's network namespace (ip netns exec NETNS ...)
    fabric_netns: str  # the lab's switch, 10.232.0.1 on the guest network
    migration_address: str  # 10.231.0.<index>: migration data goes to tcp://ADDRESS
    host_uuid: str
    pid: int | None
    private_dir: str
    shared_dir: str
    migration_ports: tuple[int, int]
    # TLS hosts (lab_up(..., tls=True)): ``uri`` is then
    # qemu+tls://127.0.0.1:<tls_port>/system?pkipath=<pkipath>, through a forwarder on this
    # machine's loopback into the host's namespace; ``peer_uri`` is the URI the other hosts
    # open for a peer-to-peer migration (qemu+tls://10.231.0.N:<tls_port>/system?pkipath=...)
    tls: bool = False
    tls_port: int | None = None  # libvirtd's TLS port in its namespace = the forwarder's
    pkipath: str | None = None  # the client pkipath dir (lab CA, client cert and key)
    peer_uri: str | None = None
    local_uri: str = ""  # always the UNIX socket URI (for tools on this machine)

    def registration(self) -> dict[str, str]:
        """The body of ``POST /v1/hosts`` that registers this host with vmpool."""
        body = {
            "uri": self.uri,
            "name": self.name,
            "migration_address": self.migration_address,
        }
        if self.peer_uri:
            body["peer_uri"] = self.peer_uri
        return body


def lab_netns(base_port: int, name: str) -> str:
    """The network namespace of lab host ``name`` (or of the fabric, ``name="fabric"``)
    of the lab with this base port: ``vmplab<base_port>-<name>``."""
    return f"{NETNS_PREFIX}{base_port}-{name}"


def fabric_netns(base_port: int) -> str:
    return lab_netns(base_port, FABRIC_NAME)


def host_socket_uri(socket_path: str | Path) -> str:
    return f"qemu+unix:///system?socket={socket_path}"


def host_tls_uri(address: str, port: int, pkipath: str | Path) -> str:
    return f"qemu+tls://{address}:{port}/system?pkipath={pkipath}"


def mgmt_address(index: int) -> str:
    return f"10.231.0.{index}"


def netns_exec(
    netns: str, args: list[str], timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """Run ``args`` inside a lab network namespace (``ip netns exec``); output captured."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# --------------------------------------------------------------------------
# public API


def lab_up(
    n_hosts: int,
    lab_dir: Path = DEFAULT_LAB_DIR,
    base_port: int = DEFAULT_BASE_PORT,
    tls: bool = False,
) -> list[LabHost]:
    """Make sure hosts lab1..labN run; start the missing or dead ones.

    Hosts that already run are kept (also any beyond ``n_hosts``); the first
    ``n_hosts`` are returned once each answers ``libvirt.open(uri)``.

    ``tls=True``: the hosts' libvirtd also listen with TLS (certificates of the lab's CA,
    see ``vmpool.lab.pki``) on port ``base_port + index - 1`` inside their namespaces, a
    forwarder makes that port reachable on this machine's 127.0.0.1, QEMU has its TLS
    certificates for encrypted migrations (VIR_MIGRATE_TLS), and the hosts' ``uri`` and
    ``peer_uri`` are ``qemu+tls://`` URIs. Running hosts started the other way are refused.
    """
    if not 1 <= n_hosts <= MAX_HOSTS:
        raise LabError(f"the lab takes 1 to {MAX_HOSTS} hosts, not {n_hosts}")
    if not 1024 <= base_port <= 65535 - n_hosts:
        raise LabError(f"base port {base_port} is out of range")
    _check_prerequisites(tls)
    lab_dir = Path(lab_dir).absolute()
    lab_dir.mkdir(parents=True, exist_ok=True)
    with _locked(lab_dir):
        state = _load_state(lab_dir)
        hosts_state: dict[str, dict[str, Any]] = state.setdefault("hosts", {})
        old_base = state.get("base_port")
        if old_base is not None and old_base != base_port:
            running = [name for name, hs in hosts_state.items() if _entry_alive(hs)]
            if running:
                raise LabError(
                    f"lab hosts {', '.join(sorted(running))} in {lab_dir} run with base port "
                    f"{old_base}, not {base_port}: run lab_down first (vmpool lab down)"
                )
        state["base_port"] = base_port
        (lab_dir / "shared").mkdir(exist_ok=True)
        _claim_netns_prefix(lab_dir, base_port)
        state["fabric_netns"] = _ensure_fabric(base_port)

        result: list[LabHost] = []
        # prepare every missing host first, so a refusal leaves no daemon
        # behind that lab.json does not know of
        prepared: list[dict[str, Any]] = []
        for index in range(1, n_hosts + 1):
            name = f"lab{index}"
            old = hosts_state.get(name, {})
            netns = lab_netns(base_port, name)
            if _entry_alive(old) and old.get("config") != LAB_CONFIG:
                # started by an older vmpool, with other settings (e.g. no virtlockd): a
                # lab host is a test fixture, so it is restarted with today's
                _stop_host(lab_dir, name, old)
                old = {**old, "pid": None}
            if _entry_alive(old):
                if old.get("netns") != netns or not _in_netns(int(old["pid"]), netns):
                    raise LabError(
                        f"{name} in {lab_dir} runs outside its network namespace {netns} "
                        "(started by an older vmpool, or the namespace was deleted): "
                        "run lab_down first (vmpool lab down)"
                    )
                if bool(old.get("tls", False)) != tls:
                    raise LabError(
                        f"{name} in {lab_dir} runs {'with' if old.get('tls') else 'without'} "
                        f"TLS: run lab_down first (vmpool lab down)"
                    )
                _ensure_host_network(base_port, index)  # repairs missing links
                continue
            # a namespace left by a crashed run is kept (QEMU processes of the
            # dead daemon may still use it) and its links repaired
            _ensure_host_network(base_port, index)
            entry = _prepare_host(lab_dir, index, base_port, tls)
            entry["netns"] = netns
            # namespaces of earlier daemons of this host, where QEMU processes
            # may still run: lab_down looks there too
            entry["stale_uts_ns"] = sorted(
                {ns for ns in [*old.get("stale_uts_ns", []), old.get("uts_ns")] if ns}
            )
            prepared.append(entry)
        started: list[tuple[str, int]] = []
        try:
            for entry in prepared:
                name = str(entry["name"])
                pid = _spawn_daemon(lab_dir, name, str(entry["netns"]), listen=tls)
                entry["pid"] = pid
                hosts_state[name] = entry
                started.append((name, pid))
            _save_state(lab_dir, state)
            for name, pid in started:
                _wait_ready(lab_dir, name, hosts_state[name], pid)
                hosts_state[name]["uts_ns"] = _ns_id(pid, "uts")
            _warm_capabilities(lab_dir, [name for name, _ in started], hosts_state)
            if tls:
                # kept hosts too: a forwarder that died is started again
                for index in range(1, n_hosts + 1):
                    entry = hosts_state[f"lab{index}"]
                    _ensure_forwarders(lab_dir, base_port, entry)
        finally:
            _save_state(lab_dir, state)

        for index in range(1, n_hosts + 1):
            result.append(_to_host(lab_dir, base_port, hosts_state[f"lab{index}"]))
        return result


def lab_down(lab_dir: Path = DEFAULT_LAB_DIR) -> None:
    """Destroy every running domain on the lab hosts and stop their daemons.

    The lab dir stays (host UUIDs, domain definitions, logs), so a later
    ``lab_up`` brings back the same hosts. Doing it twice is harmless.
    """
    lab_dir = Path(lab_dir).absolute()
    if not (lab_dir / STATE_FILE).exists():
        return
    _require_root()
    with _locked(lab_dir):
        state = _load_state(lab_dir)
        hosts_state: dict[str, dict[str, Any]] = state.get("hosts", {})
        problems: list[str] = []
        for name in sorted(hosts_state, key=lambda n: int(hosts_state[n].get("index", 0))):
            entry = hosts_state[name]
            try:
                _stop_forwarders(entry)
                _stop_host(lab_dir, name, entry)
            except LabError as exc:
                problems.append(str(exc))
                continue  # keep what is known, for another try
            entry["pid"] = None
            entry["uts_ns"] = None
            entry["stale_uts_ns"] = []
        if not problems:
            # deleting a namespace destroys its veths and bridges
            base_port = state.get("base_port")
            names = [str(hs["netns"]) for hs in hosts_state.values() if hs.get("netns")]
            if state.get("fabric_netns"):
                names.append(str(state["fabric_netns"]))
            for netns in names:
                try:
                    _delete_netns(netns)
                except LabError as exc:
                    problems.append(str(exc))
            if not problems and base_port is not None:
                _release_netns_prefix(lab_dir, int(base_port))
        _save_state(lab_dir, state)
        if problems:
            raise LabError("; ".join(problems))


def lab_power_off(name: str, lab_dir: Path = DEFAULT_LAB_DIR) -> list[int]:
    """Pull the plug of one host: SIGKILL every process of it at once (libvirtd, its QEMU
    processes, virtlockd), as a power cut would. Its folders stay, so ``lab_up`` boots it
    again with its domain definitions. Answers the pids killed."""
    lab_dir = Path(lab_dir).absolute()
    with _locked(lab_dir):
        state = _load_state(lab_dir)
        entry = state.get("hosts", {}).get(name)
        if entry is None or not _entry_alive(entry):
            raise LabError(f"{name} does not run in {lab_dir}")
        uts = entry.get("uts_ns") or _ns_id(int(entry["pid"]), "uts")
        if uts is None or uts == _ns_id(os.getpid(), "uts"):
            raise LabError(f"{name} has no namespace of its own to cut")
        victims = _processes_in_ns("uts", uts)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_proc_running(p) for p in victims) and time.monotonic() < deadline:
            for pid in victims:
                _reap(pid)
            time.sleep(0.05)
        return victims


def lab_status(lab_dir: Path = DEFAULT_LAB_DIR) -> list[LabHost]:
    """The lab hosts whose daemon runs, by index. Reads state only, no root needed."""
    lab_dir = Path(lab_dir).absolute()
    state = _load_state(lab_dir)
    hosts_state: dict[str, dict[str, Any]] = state.get("hosts", {})
    alive = [hs for hs in hosts_state.values() if _entry_alive(hs)]
    alive.sort(key=lambda hs: int(hs["index"]))
    base_port = int(state.get("base_port", DEFAULT_BASE_PORT))
    return [_to_host(lab_dir, base_port, hs) for hs in alive]


# --------------------------------------------------------------------------
# prerequisites


def _require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("the lab needs root (run as root or with sudo)")


def _check_prerequisites(tls: bool = False) -> None:
    _require_root()
    if tls and shutil.which("socat") is None:
        raise LabError("socat not found (the TLS lab's forwarders use it): apt-get install socat")
    missing = [tool for tool in ("unshare", "mount", "ip") if shutil.which(tool) is None]
    if missing:
        raise LabError(f"{', '.join(missing)} not found: install util-linux, mount and iproute2")
    if shutil.which("libvirtd") is None and not Path("/usr/sbin/libvirtd").exists():
        raise LabError(
            "libvirtd not found: install libvirt-daemon-system and qemu-system-x86 "
            "(apt-get install libvirt-daemon-system qemu-system-x86 qemu-utils)"
        )
    if shutil.which("qemu-system-x86_64") is None:
        raise LabError(
            "qemu-system-x86_64 not found: install qemu-system-x86 "
            "(apt-get install qemu-system-x86 qemu-utils)"
        )
    if not Path("/etc/libvirt/libvirtd.conf").exists():
        raise LabError("/etc/libvirt/libvirtd.conf is missing: install libvirt-daemon-system")
    try:
        import libvirt  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise LabError("the Python module libvirt is missing: pip install libvirt-python") from exc


# --------------------------------------------------------------------------
# state


def _load_state(lab_dir: Path) -> dict[str, Any]:
    path = lab_dir / STATE_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"version": 1, "hosts": {}}
    except (OSError, ValueError) as exc:
        raise LabError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise LabError(f"{path} does not hold a JSON object")
    return data


def _save_state(lab_dir: Path, state: dict[str, Any]) -> None:
    path = lab_dir / STATE_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(lab_dir: Path) -> Iterator[None]:
    with open(lab_dir / LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _host_dir(lab_dir: Path, name: str) -> Path:
    return lab_dir / "hosts" / name


def _migration_ports(tcp_port: int) -> tuple[int, int]:
    """A block of its own for each libvirtd port, so that two labs on one machine (run.sh's
    at 16510, the tests' at 16710, the bench's at 16810) never share migration ports."""
    blocks = (65536 - MIGRATION_PORT_BASE) // MIGRATION_PORTS_PER_HOST
    low = MIGRATION_PORT_BASE + MIGRATION_PORTS_PER_HOST * (tcp_port % blocks)
    return low, low + MIGRATION_PORTS_PER_HOST - 1


def _socket_path(lab_dir: Path, name: str) -> Path:
    return _host_dir(lab_dir, name) / "run" / "libvirt-sock"


def _host_uri(lab_dir: Path, name: str) -> str:
    return host_socket_uri(_socket_path(lab_dir, name))


def _to_host(lab_dir: Path, base_port: int, entry: dict[str, Any]) -> LabHost:
    name = str(entry["name"])
    index = int(entry["index"])
    low, high = entry["migration_ports"]
    pid = entry.get("pid")
    return LabHost(
        name=name,
        index=index,
        socket_path=str(_socket_path(lab_dir, name)),
        netns=str(entry.get("netns") or lab_netns(base_port, name)),
        fabric_netns=fabric_netns(base_port),
        migration_address=mgmt_address(index),
        host_uuid=str(entry["host_uuid"]),
        pid=int(pid) if pid is not None else None,
        private_dir=str(_host_dir(lab_dir, name) / "storage"),
        shared_dir=str(lab_dir / "shared"),
        migration_ports=(int(low), int(high)),
        local_uri=_host_uri(lab_dir, name),
        **_tls_fields(lab_dir, index, entry),
    )


def _tls_fields(lab_dir: Path, index: int, entry: dict[str, Any]) -> dict[str, Any]:
    if not entry.get("tls"):
        return {"uri": _host_uri(lab_dir, str(entry["name"]))}
    port = int(entry["port"])
    pkipath = str(client_pki_dir(lab_dir))
    return {
        "uri": host_tls_uri("127.0.0.1", port, pkipath),
        "tls": True,
        "tls_port": port,
        "pkipath": pkipath,
        "peer_uri": host_tls_uri(mgmt_address(index), port, pkipath),
    }


# --------------------------------------------------------------------------
# processes


def _proc_comm(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def _proc_running(pid: int) -> bool:
    """True if the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # the state follows the ")" that closes the command name
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in ("Z", "X")


def _ns_id(pid: int, kind: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/{kind}")
    except OSError:
        return None


def _entry_alive(entry: dict[str, Any]) -> bool:
    pid = entry.get("pid")
    if not pid:
        return False
    pid = int(pid)
    if not _proc_running(pid) or _proc_comm(pid) != "libvirtd":
        return False
    uts = entry.get("uts_ns")
    seen = _ns_id(pid, "uts")  # None if not ours to read (not root)
    return uts is None or seen is None or seen == uts


def _reap(pid: int) -> None:
    """Collect the exit status if the daemon is our own child."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _processes_in_ns(kind: str, ns: str) -> list[int]:
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid == os.getpid():
            continue
        if _ns_id(pid, kind) == ns and _proc_running(pid):
            pids.append(pid)
    return pids


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    # only this start's part: the launcher writes a "==== ... starting" line
    marker = text.rfind("\n==== ")
    if marker >= 0:
        text = text[marker + 1 :]
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# --------------------------------------------------------------------------
# starting a host


def _prepare_host(lab_dir: Path, index: int, base_port: int, tls: bool) -> dict[str, Any]:
    name = f"lab{index}"
    hdir = _host_dir(lab_dir, name)
    hdir.mkdir(parents=True, exist_ok=True)
    (hdir / "storage").mkdir(exist_ok=True)

    uuid_file = hdir / "host_uuid"
    if uuid_file.exists():
        host_uuid = str(uuid.UUID(uuid_file.read_text().strip()))
    else:
        host_uuid = str(uuid.uuid4())
        uuid_file.write_text(host_uuid + "\n")

    # no TCP port any more (the daemon serves its UNIX socket only), but the
    # port number still picks the host's block of migration ports
    port = base_port + index - 1
    mig_low, mig_high = _migration_ports(port)

    etc = hdir / "etc"
    if not (etc / ".vmpool-lab").exists():
        _copy_system_etc(etc)
    pki = ensure_host_pki(lab_dir, name, [mgmt_address(index), "127.0.0.1"]) if tls else None
    _write_libvirtd_conf(etc, host_uuid, pki, port)
    _write_qemu_conf(etc, mig_low, mig_high, index, pki, hugetlbfs_mounts(hdir))
    _write_lockd_conf(etc, lab_dir / "shared" / LOCKSPACE)

    # The run dir is kept when a dead daemon is restarted: QEMU processes it
    # left running are found again through their status files there, as
    # after a libvirtd restart on a real host. Only its stale sockets go.
    run = hdir / "run"
    run.mkdir(exist_ok=True)
    for sock in ("libvirt-sock", "libvirt-sock-ro", "libvirt-admin-sock"):
        (run / sock).unlink(missing_ok=True)
    for sub in LIB_SUBDIRS:
        (hdir / "lib" / sub).mkdir(parents=True, exist_ok=True)
    for sub in CACHE_SUBDIRS:
        (hdir / "cache" / sub).mkdir(parents=True, exist_ok=True)
    _copy_caps(CAPS_CACHE_DIR, _caps_dir(lab_dir, name), overwrite=False)
    for sub in LOG_SUBDIRS:
        (hdir / "log" / sub).mkdir(parents=True, exist_ok=True)

    return {
        "name": name,
        "index": index,
        "port": port,
        "host_uuid": host_uuid,
        "migration_ports": [mig_low, mig_high],
        "pid": None,
        "uts_ns": None,
        "tls": tls,
        "forwarders": [],
        "config": LAB_CONFIG,
    }


def _copy_system_etc(etc: Path) -> None:
    """A fresh copy of /etc/libvirt without domains or autostart objects."""
    if etc.exists():
        shutil.rmtree(etc)
    shutil.copytree("/etc/libvirt", etc, symlinks=True)
    qemu = etc / "qemu"
    if qemu.is_dir():
        # domains defined on the real system do not belong to lab hosts
        for xml in qemu.glob("*.xml"):
            xml.unlink()
    for autostart in (
        qemu / "autostart",
        qemu / "networks" / "autostart",
        etc / "storage" / "autostart",
        etc / "nodedev" / "autostart",
    ):
        if autostart.is_dir():
            shutil.rmtree(autostart)
    (etc / ".vmpool-lab").write_text("private copy of /etc/libvirt for a vmpool lab host\n")


def _set_conf(path: Path, source: Path, settings: dict[str, str]) -> None:
    """Write ``source`` with every line that sets one of ``settings`` commented
    out, then the settings themselves."""
    try:
        lines = source.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    out: list[str] = []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if "=" in line and not line.lstrip().startswith("#") and key in settings:
            out.append("# (vmpool lab) " + line)
        else:
            out.append(line)
    out.append("")
    out.append("# ---- vmpool lab settings ----")
    out.extend(f"{key} = {value}" for key, value in settings.items())
    path.write_text("\n".join(out) + "\n")


def _write_libvirtd_conf(etc: Path, host_uuid: str, pki: HostPki | None, port: int) -> None:
    # no TCP listener; no TLS listener either (libvirtd runs without --listen) unless the
    # host is a TLS host: vmpool and the other hosts use the UNIX socket, which only root
    # may open
    settings = {
        "listen_tls": "0",
        "listen_tcp": "0",
        "auth_unix_rw": '"none"',
        "host_uuid": f'"{host_uuid}"',
    }
    if pki is not None:
        settings.update(
            {
                "listen_tls": "1",
                # every address of the host's own namespace: its loopback (the forwarder's
                # end) and its mgmt address (the other hosts' peer-to-peer migrations)
                "listen_addr": '"0.0.0.0"',
                "tls_port": f'"{port}"',
                "auth_tls": '"none"',  # the client certificate (signed by the lab CA) is it
                "tls_no_verify_certificate": "0",
                "key_file": f'"{pki.key_file}"',
                "cert_file": f'"{pki.cert_file}"',
                "ca_file": f'"{pki.ca_file}"',
            }
        )
    _set_conf(etc / "libvirtd.conf", Path("/etc/libvirt/libvirtd.conf"), settings)


def hugetlbfs_mounts(hdir: Path) -> list[Path]:
    """The host's hugetlbfs mount points (made in its mount namespace when it starts): 2M
    pages, and 1G pages when the kernel has them."""
    base = hdir / HUGEPAGES_DIR
    one_gib = Path("/sys/kernel/mm/hugepages/hugepages-1048576kB").is_dir()
    sizes = ["2M", "1G"] if one_gib else ["2M"]
    return [base / size for size in sizes]


def _write_qemu_conf(
    etc: Path,
    mig_low: int,
    mig_high: int,
    index: int,
    pki: HostPki | None = None,
    hugetlbfs: list[Path] | None = None,
) -> None:
    display_low = 5900 + 100 * (index - 1)
    tls: dict[str, str] = {}
    if pki is not None:
        # VIR_MIGRATE_TLS: the destination QEMU serves TLS with server-cert.pem and asks the
        # source QEMU for its client-cert.pem (verify), both signed by ca-cert.pem
        tls = {
            "migrate_tls_x509_cert_dir": f'"{pki.qemu_dir}"',
            "migrate_tls_x509_verify": "1",
        }
    _set_conf(
        etc / "qemu.conf",
        Path("/etc/libvirt/qemu.conf"),
        {
            **tls,
            "user": '"root"',
            "group": '"root"',
            "dynamic_ownership": "0",
            "remember_owner": "0",
            "security_driver": '"none"',
            "stdio_handler": '"file"',
            # virtlockd: two QEMU processes never open the same disk, whatever vmpool
            # believes (its leases live on the shared folder, see _write_lockd_conf)
            "lock_manager": '"lockd"',
            # QEMU stays in the host's namespaces (no private /dev), so the
            # lab can find a host's QEMU processes by its UTS namespace.
            "namespaces": "[ ]",
            # two hosts would otherwise create the same cgroup for a
            # migrating domain (machine/qemu-<id>-<name>)
            "cgroup_controllers": "[ ]",
            # the destination QEMU (and its NBD server for disk copies) listens on
            # the host's mgmt address, which it also tells the source to use
            "migration_address": f'"{mgmt_address(index)}"',
            "migration_host": f'"{mgmt_address(index)}"',
            "migration_port_min": str(mig_low),
            "migration_port_max": str(mig_high),
            "remote_display_port_min": str(display_low),
            "remote_display_port_max": str(display_low + 99),
            "remote_websocket_port_min": str(display_low + 800),
            "remote_websocket_port_max": str(display_low + 899),
            **(
                {"hugetlbfs_mount": "[" + ", ".join(f'"{p}"' for p in hugetlbfs) + "]"}
                if hugetlbfs
                else {}
            ),
        },
    )


def _write_lockd_conf(etc: Path, lockspace: Path) -> None:
    """virtlockd's leases for the disks of every host's QEMU, as files in one lockspace on
    the shared folder (as on NFS): a lease is named after the disk's path, so a disk on the
    shared folder has one lease whichever host opens it. Read-only disks (a seed) take
    shared leases."""
    lockspace.mkdir(parents=True, exist_ok=True)
    _set_conf(
        etc / "qemu-lockd.conf",
        Path("/etc/libvirt/qemu-lockd.conf"),
        {
            "auto_disk_leases": "1",
            "require_lease_for_disks": "1",
            "file_lockspace_dir": f'"{lockspace}"',
        },
    )
    _set_conf(
        etc / "virtlockd.conf",
        Path("/etc/libvirt/virtlockd.conf"),
        {"log_outputs": '"3:file:/var/log/libvirt/virtlockd.log"'},
    )


def _spawn_daemon(lab_dir: Path, name: str, netns: str, listen: bool = False) -> int:
    """Start the host's libvirtd detached (with ``--listen`` for a TLS host); returns its
    pid."""
    hdir = _host_dir(lab_dir, name)
    log_path = hdir / "libvirtd.log"
    args: list[str] = [
        "ip",
        "netns",
        "exec",
        netns,
        "unshare",
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        _NAMESPACE_SCRIPT_LISTEN if listen else _NAMESPACE_SCRIPT,
        "vmpool-lab-host",
        name,
        str(hdir / HUGEPAGES_DIR),
    ]
    for system_dir, private in PRIVATE_DIRS:
        args += [str(hdir / private), system_dir]
    with open(log_path, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n".encode())
    return _spawn_detached(args, log_path, f"libvirtd of {name}")


def _spawn_detached(args: list[str], log_path: Path, what: str) -> int:
    """Start ``args`` detached; returns its pid.

    A throw-away shell starts the command in the background and prints its pid,
    so it is not our child: it outlives the caller, and the caller is left no
    zombie to reap. The shell leads a session and process group of its own,
    which the command (and any process it forks) stays in.
    """
    env = dict(os.environ)
    env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin"
    # a client-side LIBVIRT_DEFAULT_URI of the caller has no business here
    env.pop("LIBVIRT_DEFAULT_URI", None)
    launcher = 'log="$1"; shift; "$@" </dev/null >>"$log" 2>&1 & echo "$!"'
    res = subprocess.run(
        ["/bin/sh", "-c", launcher, "vmpool-lab-launch", str(log_path), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd="/",
        env=env,
        start_new_session=True,
        check=False,
    )
    try:
        return int(res.stdout.strip())
    except ValueError as exc:
        raise LabError(f"cannot start {what}: {res.stderr.strip() or res.stdout.strip()}") from exc


# --------------------------------------------------------------------------
# TLS hosts: forwarders from this machine's loopback into a host's namespace


def _forward_socket(lab_dir: Path, name: str) -> Path:
    return _host_dir(lab_dir, name) / "tls-forward.sock"


def _forwarder_pids(pgid: int) -> list[int]:
    """The socat processes of a forwarder: the listener and its forks (one per connection)
    share the process group its launcher made."""
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and fields[2] == str(pgid) and _proc_comm(pid) == "socat":
            pids.append(pid)
    return pids


def _forwarder_alive(fwd: dict[str, Any]) -> bool:
    pid = int(fwd.get("pid", 0))
    return pid > 0 and _proc_running(pid) and _proc_comm(pid) == "socat"


def _stop_forwarders(entry: dict[str, Any]) -> None:
    for fwd in entry.get("forwarders", []):
        for pid in _forwarder_pids(int(fwd.get("pgid", 0))) if fwd.get("pgid") else []:
            _kill(pid, timeout=2)
    entry["forwarders"] = []


def _ensure_forwarders(lab_dir: Path, base_port: int, entry: dict[str, Any]) -> None:
    """``127.0.0.1:<port>`` on this machine leads to ``127.0.0.1:<port>`` in the host's
    namespace (libvirtd's TLS listener), through a UNIX socket in the lab dir: one socat
    listens on TCP here and connects to the socket, one inside the namespace listens on
    the socket and connects to the daemon. TLS runs end to end through both; no address
    of the lab appears in this machine's namespace. Then waits until the TLS URI answers.
    """
    import libvirt

    name = str(entry["name"])
    port = int(entry["port"])
    forwarders = entry.get("forwarders", [])
    if len(forwarders) != 2 or not all(_forwarder_alive(f) for f in forwarders):
        _stop_forwarders(entry)
        sock = _forward_socket(lab_dir, name)
        sock.unlink(missing_ok=True)
        log_path = _host_dir(lab_dir, name) / "forwarder.log"
        with open(log_path, "ab") as log:
            log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting\n".encode())
        netns = str(entry.get("netns") or lab_netns(base_port, name))
        inner = _spawn_detached(
            ["ip", "netns", "exec", netns, "socat",
             f"UNIX-LISTEN:{sock},fork,unlink-early,mode=600", f"TCP:127.0.0.1:{port}"],
            log_path, f"the TLS forwarder of {name} (in {netns})",
        )  # fmt: skip
        entry["forwarders"].append({"pid": inner, "pgid": _pgid(inner)})
        deadline = time.monotonic() + 5
        while not sock.exists():
            if time.monotonic() > deadline or not _proc_running(inner):
                raise LabError(
                    f"the TLS forwarder of {name} did not make {sock}; tail of "
                    f"{log_path}:\n{_tail(log_path)}"
                )
            time.sleep(0.02)
        outer = _spawn_detached(
            ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr",
             f"UNIX-CONNECT:{sock}"],
            log_path, f"the TLS forwarder of {name} (127.0.0.1:{port})",
        )  # fmt: skip
        entry["forwarders"].append({"pid": outer, "pgid": _pgid(outer)})
    uri = host_tls_uri("127.0.0.1", port, client_pki_dir(lab_dir))
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error = "no answer"
    while True:
        if not all(_forwarder_alive(f) for f in entry["forwarders"]):
            log_path = _host_dir(lab_dir, name) / "forwarder.log"
            raise LabError(
                f"the TLS forwarder of {name} exited (port 127.0.0.1:{port} taken?); tail "
                f"of {log_path}:\n{_tail(log_path)}"
            )
        try:
            # the listener first (libvirt would print each refused attempt on stderr)
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            conn = libvirt.open(uri)
        except OSError as exc:
            last_error = f"127.0.0.1:{port}: {exc}"
        except libvirt.libvirtError as exc:
            last_error = str(exc)
        else:
            conn.close()
            return
        if time.monotonic() > deadline:
            log_path = _host_dir(lab_dir, name) / "libvirtd.log"
            raise LabError(
                f"{name} did not answer at {uri} within {START_TIMEOUT_S:.0f} s "
                f"({last_error}); tail of {log_path}:\n{_tail(log_path)}"
            )
        time.sleep(0.1)


def _pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except OSError:
        return 0


def _wait_ready(lab_dir: Path, name: str, entry: dict[str, Any], pid: int) -> None:
    import libvirt

    uri = _host_uri(lab_dir, name)
    log_path = _host_dir(lab_dir, name) / "libvirtd.log"
    deadline = time.monotonic() + START_TIMEOUT_S
    last_error = "no answer"
    while True:
        if not _proc_running(pid):
            raise LabError(
                f"libvirtd of {name} exited while starting; tail of {log_path}:\n{_tail(log_path)}"
            )
        if _socket_path(lab_dir, name).exists():
            try:
                conn = libvirt.open(uri)
            except libvirt.libvirtError as exc:
                last_error = str(exc)
            else:
                try:
                    conn.getHostname()
                finally:
                    conn.close()
                return
        else:
            last_error = "its sockets are not there yet"
        if time.monotonic() > deadline:
            _kill(pid)
            raise LabError(
                f"libvirtd of {name} did not answer at {uri} within {START_TIMEOUT_S:.0f} s "
                f"({last_error}); tail of {log_path}:\n{_tail(log_path)}"
            )
        time.sleep(0.1)


def _caps_dir(lab_dir: Path, name: str) -> Path:
    return _host_dir(lab_dir, name) / "cache" / "qemu" / "capabilities"


def _copy_caps(src: Path, dest: Path, *, overwrite: bool) -> None:
    if not src.is_dir():
        return
    dest.mkdir(parents=True, exist_ok=True)
    for xml in src.glob("*.xml"):
        target = dest / xml.name
        if target.exists() and not overwrite:
            continue
        tmp = dest / f".{xml.name}.tmp"
        try:
            shutil.copyfile(xml, tmp)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)


def _warm_capabilities(lab_dir: Path, names: list[str], hosts_state: dict[str, Any]) -> None:
    """Have the QEMU capabilities probed once and shared by the new hosts."""
    import libvirt

    for i, name in enumerate(names):
        uri = _host_uri(lab_dir, name)
        try:
            conn = libvirt.open(uri)
            try:
                conn.getCapabilities()
            finally:
                conn.close()
        except libvirt.libvirtError as exc:
            raise LabError(f"{name} ({uri}) cannot report its capabilities: {exc}") from exc
        if i == 0:
            # the others have not read their cache yet: give them this one
            probed = _caps_dir(lab_dir, name)
            for other in names[1:]:
                _copy_caps(probed, _caps_dir(lab_dir, other), overwrite=True)
            with contextlib.suppress(OSError):
                _copy_caps(probed, CAPS_CACHE_DIR, overwrite=True)


# --------------------------------------------------------------------------
# network namespaces


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(
        ["ip", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if check and res.returncode != 0:
        raise LabError(f"ip {' '.join(args)} failed: {res.stderr.strip() or res.stdout.strip()}")
    return res


def _netns_path(netns: str) -> Path:
    return Path("/run/netns") / netns


def _netns_id(netns: str) -> str | None:
    """``net:[inode]`` of a named namespace, as /proc/PID/ns/net reads for its processes."""
    try:
        return f"net:[{os.stat(_netns_path(netns)).st_ino}]"
    except OSError:
        return None


def _in_netns(pid: int, netns: str) -> bool:
    ns = _netns_id(netns)
    return ns is not None and _ns_id(pid, "net") == ns


def _ensure_netns(netns: str) -> None:
    if _netns_id(netns) is None:
        _ip("netns", "add", netns)
    _ip("-n", netns, "link", "set", "lo", "up")


def _has_link(netns: str, ifname: str) -> bool:
    return _ip("-n", netns, "link", "show", "dev", ifname, check=False).returncode == 0


def _ensure_bridge(netns: str, ifname: str) -> None:
    if not _has_link(netns, ifname):
        # no STP and no forward delay: a port forwards as soon as it is up
        _ip("-n", netns, "link", "add", ifname, "type", "bridge", "stp_state", "0")
        _ip("-n", netns, "link", "set", ifname, "type", "bridge", "forward_delay", "0")
    _ip("-n", netns, "link", "set", ifname, "up")


def _ensure_veth(netns: str, ifname: str, fabric: str, peer: str, fabric_bridge: str) -> None:
    """A veth ``ifname`` in ``netns`` whose peer ``peer`` is a port of the fabric's bridge."""
    if not _has_link(netns, ifname):
        # a leftover peer would block the name (a veth pair normally goes as a whole)
        if _has_link(fabric, peer):
            _ip("-n", fabric, "link", "del", peer)
        _ip(
            "-n",
            netns,
            "link",
            "add",
            ifname,
            "type",
            "veth",
            "peer",
            "name",
            peer,
            "netns",
            fabric,
        )
    _ip("-n", fabric, "link", "set", peer, "master", fabric_bridge, "up")
    _ip("-n", netns, "link", "set", ifname, "up")


def _ensure_fabric(base_port: int) -> str:
    """The lab's switch: bridges ``mgmt`` and ``guest`` (10.232.0.1/24) in the fabric
    namespace. Existing parts are kept."""
    fabric = fabric_netns(base_port)
    _ensure_netns(fabric)
    _ensure_bridge(fabric, FABRIC_MGMT_BRIDGE)
    _ensure_bridge(fabric, FABRIC_GUEST_BRIDGE)
    _ip("-n", fabric, "addr", "replace", f"{FABRIC_GUEST_ADDRESS}/24", "dev", FABRIC_GUEST_BRIDGE)
    return fabric


def _ensure_host_network(base_port: int, index: int) -> str:
    """Host ``labN``'s namespace with ``mgmt0`` (10.231.0.N/24) and the bridge ``vmpbr0``
    uplinked into the fabric's guest bridge. Existing parts are kept."""
    name = f"lab{index}"
    netns = lab_netns(base_port, name)
    fabric = fabric_netns(base_port)
    _ensure_netns(netns)
    _ensure_veth(netns, MGMT_IFNAME, fabric, f"{name}-mgmt", FABRIC_MGMT_BRIDGE)
    _ip("-n", netns, "addr", "replace", f"{mgmt_address(index)}/24", "dev", MGMT_IFNAME)
    _ensure_bridge(netns, GUEST_BRIDGE)
    _ensure_veth(netns, GUEST_UPLINK, fabric, f"{name}-guest", FABRIC_GUEST_BRIDGE)
    _ip("-n", netns, "link", "set", GUEST_UPLINK, "master", GUEST_BRIDGE, "up")
    return netns


def _delete_netns(netns: str) -> None:
    """Kill what still runs in the namespace, then delete it (with its links)."""
    ns = _netns_id(netns)
    if ns is None:
        return
    for pid in _processes_in_ns("net", ns):
        _kill(pid, timeout=5)
    left = _processes_in_ns("net", ns)
    if left:
        raise LabError(f"processes {left} in network namespace {netns} survived SIGKILL")
    _ip("netns", "del", netns)


def _owner_file(base_port: int) -> Path:
    return OWNER_DIR / f"{NETNS_PREFIX}{base_port}.owner"


def _claim_netns_prefix(lab_dir: Path, base_port: int) -> None:
    """The namespace names come from the base port: refuse a second lab dir on the same
    base port while the first one has hosts running."""
    owner = _owner_file(base_port)
    try:
        other = Path(owner.read_text().strip())
    except OSError:
        other = lab_dir
    if other != lab_dir:
        try:
            other_state = _load_state(other)
        except LabError:
            other_state = {}
        if other_state.get("base_port") == base_port and any(
            _entry_alive(hs) for hs in other_state.get("hosts", {}).values()
        ):
            raise LabError(
                f"the lab in {other} runs with base port {base_port} (network namespaces "
                f"{lab_netns(base_port, '*')}): choose another base port or stop that lab"
            )
    OWNER_DIR.mkdir(parents=True, exist_ok=True)
    owner.write_text(f"{lab_dir}\n")


def _release_netns_prefix(lab_dir: Path, base_port: int) -> None:
    owner = _owner_file(base_port)
    with contextlib.suppress(OSError):
        if Path(owner.read_text().strip()) == lab_dir:
            owner.unlink()


# --------------------------------------------------------------------------
# stopping a host


def _kill(pid: int, timeout: float = STOP_TIMEOUT_S) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if not _proc_running(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _reap(pid)
        if not _proc_running(pid):
            return
        time.sleep(0.05)


def _destroy_domains(uri: str) -> list[str]:
    """Destroy all running domains; returns problems (empty if none)."""
    import libvirt

    problems: list[str] = []
    try:
        conn = libvirt.open(uri)
    except libvirt.libvirtError as exc:
        return [f"cannot connect to {uri} to destroy its domains: {exc}"]
    try:
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                dom.destroy()
            except libvirt.libvirtError as exc:
                if dom.isActive():
                    problems.append(f"cannot destroy {dom.name()} on {uri}: {exc}")
    finally:
        conn.close()
    return problems


def _stop_host(lab_dir: Path, name: str, entry: dict[str, Any]) -> None:
    pid = entry.get("pid")
    uts = entry.get("uts_ns")
    if _entry_alive(entry):
        assert pid is not None
        uts = uts or _ns_id(int(pid), "uts")
        # problems are not fatal: whatever QEMU is left is killed below
        _destroy_domains(_host_uri(lab_dir, name))
        _kill(int(pid))
    elif pid:
        _reap(int(pid))
    namespaces = {ns for ns in [uts, *entry.get("stale_uts_ns", [])] if ns}
    namespaces.discard(_ns_id(os.getpid(), "uts"))
    for ns in sorted(namespaces):
        # QEMU processes (and anything else) left in the host's namespaces
        for other in _processes_in_ns("uts", ns):
            _kill(other, timeout=5)
        left = _processes_in_ns("uts", ns)
        if left:
            raise LabError(f"processes {left} of {name} survived SIGKILL")
    run = _host_dir(lab_dir, name) / "run"
    if run.exists():
        shutil.rmtree(run, ignore_errors=True)
