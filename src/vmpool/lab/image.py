"""A tiny bootable guest for the lab, built from Debian packages.

The guest is Debian's kernel (the package ``linux-image-amd64`` depends on)
plus an initramfs holding a static busybox and ``/init`` (``guest_init.sh``
beside this file). It needs no disk and no network, boots in a few seconds
under TCG, prints ``VMPOOL-GUEST-READY`` and then ``VMPOOL-HEARTBEAT <n>``
every second on its serial port. With virtio NICs (``nics=`` of
``tiny_domain_xml``, on the lab's guest bridge) and ``ip=`` it is on the lab's
guest network and answers pings; it reports its NICs as ``VMPOOL-NICS``.

Files made by ``build_tiny_image(image_dir, name)``::

    <image_dir>/<name>/vmlinuz       the kernel
    <image_dir>/<name>/initrd.img    gzip'd newc cpio: bin/busybox, init
    <image_dir>/<name>/image.json    {"kernel", "initrd", "cmdline", ...}
    <image_dir>/.cache/debs/*.deb    downloaded packages, reused

Lab hosts share the root filesystem (only the libvirt folders are private),
so these absolute paths work on every lab host.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from vmpool.adapters.hypervisor.domain_xml import nic_xml
from vmpool.domain.ports import NicSpec
from vmpool.lab.hosts import GUEST_BRIDGE, LabError

DEFAULT_IMAGE_DIR = Path("/var/lib/vmpool/images")
DEFAULT_CMDLINE = "console=ttyS0 quiet panic=-1"
KERNEL_META_PACKAGE = "linux-image-amd64"
BUSYBOX_PACKAGE = "busybox-static"
READY_LINE = "VMPOOL-GUEST-READY"
HEARTBEAT_PREFIX = "VMPOOL-HEARTBEAT"
# 2: virtio modules in the initramfs; 3: virtio-net too; 4: virtio-balloon; 5: TPM report
# (tpm_crb and tpm_tis are built into Debian's kernel: no module to add)
IMAGE_FORMAT = 5
NICS_PREFIX = "VMPOOL-NICS"
PING_PREFIX = "VMPOOL-PING"
SIZE_PREFIX = "VMPOOL-SIZE"  # the CPUs and memory the guest sees
TOKEN_PREFIX = "VMPOOL-DISK-TOKEN"  # the boot token a disk holds now
FOUND_PREFIX = "VMPOOL-DISK-FOUND"  # the token a disk held when this boot found it
TPM_PREFIX = "VMPOOL-TPM"  # present=<0|1> dev=<tpm0,tpmrm0|-> pcr16=<hex|->
# Loaded by the guest's init, in this order (Debian builds them as modules).
GUEST_MODULES = (
    "virtio_ring",
    "virtio",
    "virtio_pci_legacy_dev",
    "virtio_pci_modern_dev",
    "virtio_pci",
    "virtio_blk",
    "failover",
    "net_failover",
    "virtio_net",
    "virtio_balloon",
)


@dataclass(frozen=True)
class GuestImage:
    name: str
    kernel: Path
    initrd: Path
    cmdline: str


@dataclass(frozen=True)
class SerialLog:
    """What a tiny guest's serial log says."""

    ready_count: int  # how many times the guest reached its init (1 = no reboot)
    last_heartbeat: int | None  # highest VMPOOL-HEARTBEAT counter seen
    heartbeats: int  # number of heartbeat lines
    kernel_crashed: bool = False  # an oops or panic of the guest kernel was printed
    # the last VMPOOL-NICS report: interface -> MAC (None: no report yet), and
    # interface -> IPv4 address with prefix for those that have one
    nics: dict[str, str] | None = None
    nic_addresses: dict[str, str] = field(default_factory=dict)
    # the last VMPOOL-PING result per address (vmpool.ping=): True if it answered
    pings: dict[str, bool] = field(default_factory=dict)


# --------------------------------------------------------------------------
# building


def build_tiny_image(image_dir: Path, name: str = "tiny") -> GuestImage:
    """Build (or return the cached) tiny guest image under ``image_dir/name``.

    Downloads the kernel package and busybox-static with ``apt-get download``
    into ``image_dir/.cache/debs`` the first time; later calls reuse the
    image as long as ``guest_init.sh`` did not change.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise LabError(f"bad image name {name!r}: use letters, digits, '.', '_' and '-'")
    image_dir = Path(image_dir).absolute()
    out = image_dir / name
    init_text = _init_script()
    init_sha = hashlib.sha256(init_text.encode()).hexdigest()
    image_dir.mkdir(parents=True, exist_ok=True)
    with _locked(image_dir / ".lock"):
        cached = _load_cached(out, name, init_sha)
        if cached is not None:
            return cached

        debs = image_dir / ".cache" / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        kernel_pkg = _resolve_kernel_package()
        kernel_deb = _download(kernel_pkg, debs)
        busybox_deb = _download(BUSYBOX_PACKAGE, debs)

        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=image_dir / ".cache") as tmp:
            work = Path(tmp)
            kernel, modules = _extract_kernel(kernel_deb, work / "kernel")
            busybox = _extract_busybox(busybox_deb, work / "busybox")
            initrd = _pack_initrd(busybox, init_text, work / "root", modules)

            _atomic_copy(kernel, out / "vmlinuz")
            _atomic_write(out / "initrd.img", initrd)
        meta = {
            "format": IMAGE_FORMAT,
            "name": name,
            "kernel": "vmlinuz",
            "initrd": "initrd.img",
            "cmdline": DEFAULT_CMDLINE,
            "kernel_package": kernel_deb.name,
            "busybox_package": busybox_deb.name,
            "init_sha256": init_sha,
        }
        _atomic_write(out / "image.json", (json.dumps(meta, indent=2) + "\n").encode())
        return GuestImage(
            name=name,
            kernel=out / "vmlinuz",
            initrd=out / "initrd.img",
            cmdline=DEFAULT_CMDLINE,
        )


DISK_NAME = "disk.qcow2"


def build_tiny_disk(image: GuestImage) -> Path:
    """The tiny guest as a bootable disk image (qcow2), beside its kernel: a FAT file system
    made without mounting anything (mkfs.vfat, mtools) with syslinux in its boot sector,
    which the firmware boots. So it can be uploaded to the image catalog like any OS image.
    Its kernel command line is fixed (no per-VM switches)."""
    out = image.kernel.parent / DISK_NAME
    if out.is_file() and out.stat().st_mtime >= image.initrd.stat().st_mtime:
        return out
    with tempfile.TemporaryDirectory(prefix="disk-", dir=image.kernel.parent.parent) as tmp:
        raw = Path(tmp) / "disk.raw"
        cfg = Path(tmp) / "syslinux.cfg"
        cfg.write_text(
            "DEFAULT linux\nPROMPT 0\nTIMEOUT 0\nLABEL linux\n  KERNEL vmlinuz\n"
            f"  APPEND initrd=initrd.img {image.cmdline}\n"
        )
        size_kib = 32 * 1024 + (image.kernel.stat().st_size + image.initrd.stat().st_size) // 1024
        steps = [
            ["mkfs.vfat", "-C", "-n", "VMPOOL", str(raw), str(size_kib)],
            ["syslinux", "--install", str(raw)],
            ["mcopy", "-i", str(raw), str(image.kernel), "::/vmlinuz"],
            ["mcopy", "-i", str(raw), str(image.initrd), "::/initrd.img"],
            ["mcopy", "-i", str(raw), str(cfg), "::/syslinux.cfg"],
            ["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", str(raw), str(out) + ".tmp"],
        ]
        for step in steps:
            res = _run(step)
            if res.returncode != 0:
                raise LabError(f"{step[0]} failed: {_last_lines(res.stderr or res.stdout)}")
        os.replace(str(out) + ".tmp", out)
    return out


def load_image(image_dir: Path, name: str = "tiny") -> GuestImage:
    """The image built earlier under ``image_dir/name``, from its image.json."""
    out = Path(image_dir).absolute() / name
    try:
        meta = json.loads((out / "image.json").read_text())
    except (OSError, ValueError) as exc:
        raise LabError(
            f"no usable image {name!r} in {image_dir} ({exc}); build it with vmpool lab image"
        ) from exc
    return GuestImage(
        name=name,
        kernel=out / str(meta["kernel"]),
        initrd=out / str(meta["initrd"]),
        cmdline=str(meta["cmdline"]),
    )


def _init_script() -> str:
    return resources.files("vmpool.lab").joinpath("guest_init.sh").read_text()


def _load_cached(out: Path, name: str, init_sha: str) -> GuestImage | None:
    try:
        meta = json.loads((out / "image.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("init_sha256") != init_sha:
        return None
    if meta.get("format") != IMAGE_FORMAT:
        return None
    kernel = out / str(meta.get("kernel", "vmlinuz"))
    initrd = out / str(meta.get("initrd", "initrd.img"))
    if not kernel.is_file() or not initrd.is_file():
        return None
    return GuestImage(name=name, kernel=kernel, initrd=initrd, cmdline=str(meta["cmdline"]))


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(args: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(args),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise LabError(f"{args[0]} not found: building the tiny image needs apt and dpkg") from exc


def _apt_update() -> None:
    res = _run(["apt-get", "update"])
    if res.returncode != 0:
        raise LabError(f"apt-get update failed:\n{_last_lines(res.stderr or res.stdout)}")


def _last_lines(text: str, n: int = 10) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _resolve_kernel_package() -> str:
    """The versioned kernel package ``linux-image-amd64`` depends on."""
    for attempt in range(2):
        res = _run(["apt-cache", "depends", KERNEL_META_PACKAGE])
        for line in res.stdout.splitlines():
            match = re.match(r"\s*Depends:\s*(linux-image-\S+)\s*$", line)
            if match and not match.group(1).startswith("<"):
                return match.group(1)
        if attempt == 0:
            _apt_update()
    raise LabError(
        f"cannot find the kernel package of {KERNEL_META_PACKAGE} "
        f"(apt-cache depends said: {_last_lines(res.stderr or res.stdout) or 'nothing'})"
    )


def _find_deb(package: str, debs: Path) -> Path | None:
    found = sorted(debs.glob(f"{package}_*.deb"))
    return found[-1] if found else None


def _download(package: str, debs: Path) -> Path:
    existing = _find_deb(package, debs)
    if existing is not None:
        return existing
    cmd = ["apt-get", "-o", "APT::Sandbox::User=root", "download", package]
    res = _run(cmd, cwd=debs)
    if res.returncode != 0:
        _apt_update()
        res = _run(cmd, cwd=debs)
    deb = _find_deb(package, debs)
    if res.returncode != 0 or deb is None:
        raise LabError(
            f"apt-get download {package} failed:\n{_last_lines(res.stderr or res.stdout)}"
        )
    return deb


def _extract_kernel(deb: Path, dest: Path) -> tuple[Path, list[Path]]:
    """./boot of the kernel package and the few modules the guest loads (all of them,
    ~400 MB, are not needed)."""
    dest.mkdir(parents=True)
    fsys = subprocess.Popen(
        ["dpkg-deb", "--fsys-tarfile", str(deb)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert fsys.stdout is not None
    tar = subprocess.run(
        [
            "tar",
            "-x",
            "-C",
            str(dest),
            "--wildcards",
            "./boot/vmlinuz-*",
            "./lib/modules/*/kernel/drivers/virtio/*.ko",
            "./lib/modules/*/kernel/drivers/block/virtio_blk.ko",
            "./lib/modules/*/kernel/drivers/net/virtio_net.ko",
            "./lib/modules/*/kernel/drivers/net/net_failover.ko",
            "./lib/modules/*/kernel/net/core/failover.ko",
        ],
        stdin=fsys.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    fsys.stdout.close()
    _, fsys_err = fsys.communicate()
    if fsys.returncode != 0 or tar.returncode != 0:
        raise LabError(
            f"cannot unpack the kernel from {deb}: "
            f"{fsys_err.decode(errors='replace').strip()} {tar.stderr.strip()}"
        )
    kernels = sorted((dest / "boot").glob("vmlinuz-*"))
    if not kernels:
        raise LabError(f"{deb} holds no boot/vmlinuz-*")
    found = {p.stem: p for p in (dest / "lib" / "modules").rglob("*.ko")}
    return kernels[-1], [found[m] for m in GUEST_MODULES if m in found]


def _extract_busybox(deb: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    res = _run(["dpkg", "-x", str(deb), str(dest)])
    busybox = dest / "bin" / "busybox"
    if res.returncode != 0 or not busybox.is_file():
        raise LabError(f"cannot unpack busybox from {deb}: {_last_lines(res.stderr)}")
    return busybox


def _pack_initrd(busybox: Path, init_text: str, root: Path, modules: list[Path]) -> bytes:
    """A gzip'd newc cpio of root/{bin/busybox,init,lib/modules/*.ko}, packed by busybox
    cpio."""
    for sub in ("bin", "dev", "proc", "sys", "tmp", "lib/modules"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for module in modules:
        shutil.copyfile(module, root / "lib" / "modules" / module.name)
    shutil.copyfile(busybox, root / "bin" / "busybox")
    os.chmod(root / "bin" / "busybox", 0o755)
    (root / "init").write_text(init_text)
    os.chmod(root / "init", 0o755)
    os.chmod(root / "tmp", 0o1777)
    find = subprocess.run([str(busybox), "find", "."], cwd=root, capture_output=True, check=False)
    if find.returncode != 0:
        raise LabError(f"busybox find failed: {find.stderr.decode(errors='replace')}")
    cpio = subprocess.run(
        [str(busybox), "cpio", "-o", "-H", "newc"],
        cwd=root,
        input=find.stdout,
        capture_output=True,
        check=False,
    )
    if cpio.returncode != 0 or not cpio.stdout:
        raise LabError(f"busybox cpio failed: {cpio.stderr.decode(errors='replace')}")
    return gzip.compress(cpio.stdout, compresslevel=9, mtime=0)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _atomic_copy(src: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.copyfile(src, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, dest)


# --------------------------------------------------------------------------
# using it


def tiny_domain_xml(
    image: GuestImage,
    name: str,
    serial_log: Path,
    *,
    memory_mib: int = 128,
    vcpus: int = 1,
    dirty_mib: int = 0,
    burn_cpu: bool = False,
    domain_uuid: str | None = None,
    nics: Sequence[str] = (),
    bridge: str = GUEST_BRIDGE,
    ip: str | None = None,
    ping: Sequence[str] = (),
) -> str:
    """Domain XML for the tiny guest under TCG (``type='qemu'``, machine pc).

    ``serial_log`` receives the guest's serial console (appended, so it
    survives migration); put it in the lab's shared dir so it is the same
    file on every host. ``nics``: MAC addresses of virtio NICs on ``bridge``
    (the lab's guest bridge by default); ``ip``: the kernel's ``ip=`` argument, as
    `vmpool.domain.network.kernel_ip_arg` writes it; ``ping``: addresses the guest pings
    every two seconds (``SerialLog.pings``).
    """
    cmdline = image.cmdline
    if dirty_mib > 0:
        cmdline += f" vmpool.dirty_mib={int(dirty_mib)}"
    if burn_cpu:
        cmdline += " vmpool.burn_cpu=1"
    if ip is not None:
        if not re.fullmatch(r"ip=[0-9A-Za-z.:_-]+", ip):
            raise LabError(f"bad ip= argument {ip!r}")
        cmdline += f" {ip}"
    if ping:
        if not all(re.fullmatch(r"[0-9A-Za-z.:-]+", a) for a in ping):
            raise LabError(f"bad ping addresses {list(ping)!r}")
        cmdline += " vmpool.ping=" + ",".join(ping)

    dom = ET.Element("domain", type="qemu")
    ET.SubElement(dom, "name").text = name
    if domain_uuid is not None:
        ET.SubElement(dom, "uuid").text = domain_uuid
    ET.SubElement(dom, "memory", unit="MiB").text = str(memory_mib)
    ET.SubElement(dom, "vcpu").text = str(vcpus)
    os_el = ET.SubElement(dom, "os")
    ET.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
    ET.SubElement(os_el, "kernel").text = str(image.kernel)
    ET.SubElement(os_el, "initrd").text = str(image.initrd)
    ET.SubElement(os_el, "cmdline").text = cmdline
    features = ET.SubElement(dom, "features")
    ET.SubElement(features, "acpi")
    ET.SubElement(dom, "clock", offset="utc")
    ET.SubElement(dom, "on_poweroff").text = "destroy"
    ET.SubElement(dom, "on_reboot").text = "restart"
    ET.SubElement(dom, "on_crash").text = "destroy"
    devices = ET.SubElement(dom, "devices")
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=str(serial_log), append="on")
    ET.SubElement(serial, "target", port="0")
    console = ET.SubElement(devices, "console", type="file")
    ET.SubElement(console, "source", path=str(serial_log), append="on")
    ET.SubElement(console, "target", type="serial", port="0")
    for mac in nics:
        devices.append(ET.fromstring(interface_xml(mac, bridge)))
    ET.SubElement(devices, "controller", type="usb", model="none")
    ET.SubElement(devices, "memballoon", model="none")
    return ET.tostring(dom, encoding="unicode")


def interface_xml(mac: str, bridge: str = GUEST_BRIDGE) -> str:
    """A virtio NIC on a host bridge (by default the lab's guest bridge), for the domain
    XML or for a hot-plug (``dom.attachDeviceFlags``): the one vmpool's domains get."""
    return nic_xml(NicSpec(mac=mac.lower(), bridge=bridge))


_HEARTBEAT_RE = re.compile(rf"{HEARTBEAT_PREFIX} (\d+)")
_NICS_RE = re.compile(rf"^{NICS_PREFIX}((?: \S+)*)\s*$", re.MULTILINE)
_PING_RE = re.compile(rf"^{PING_PREFIX} (\S+) (ok|fail)\s*$", re.MULTILINE)


def parse_serial_log(text: str) -> SerialLog:
    beats = [int(m.group(1)) for m in _HEARTBEAT_RE.finditer(text)]
    nics: dict[str, str] | None = None
    addresses: dict[str, str] = {}
    reports = _NICS_RE.findall(text)
    if reports:
        nics = {}
        for item in reports[-1].split():
            ifname, _, rest = item.partition("=")
            mac, _, addr = rest.partition("@")
            nics[ifname] = mac
            if addr:
                addresses[ifname] = addr
    return SerialLog(
        ready_count=text.count(READY_LINE),
        last_heartbeat=max(beats) if beats else None,
        heartbeats=len(beats),
        kernel_crashed=any(m in text for m in _CRASH_MARKERS),
        nics=nics,
        nic_addresses=addresses,
        pings={m.group(1): m.group(2) == "ok" for m in _PING_RE.finditer(text)},
    )


_CRASH_MARKERS = ("Oops:", "BUG: unable to handle", "kernel BUG at", "Kernel panic")


def read_serial_log(path: Path) -> SerialLog:
    """Parse a tiny guest's serial log; a missing file reads as empty."""
    try:
        text = Path(path).read_text(errors="replace")
    except FileNotFoundError:
        text = ""
    return parse_serial_log(text)
