"""What each host's hypervisor can do (docs/hardware.md): its libvirt driver, its machine
types, and the features vmpool uses (live migration, snapshots, hot-plug, an emulated TPM),
read from its capabilities and enforced by placement and the API. Pure rules.

A host's features are its driver's row of `DRIVER_FEATURES` (what libvirt's driver
implements at all: libvirt's API support matrix, https://libvirt.org/hvsupport.html, and
the drivers' own documentation), narrowed by what the host's capabilities say where libvirt
reports it: `<migration_features><live/>` in its capabilities for live migration, and
`<devices><tpm supported='yes'>` with the `emulator` backend and version 2.0 in its domain
capabilities for the TPM (swtpm installed, a QEMU with the tpm-crb/tpm-tis device). The
adapter reads the XML; `host_features` decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vmpool.errors import Conflict

if TYPE_CHECKING:
    from vmpool.domain.hardware import HostHardware
    from vmpool.domain.model import PlacementHost, PlacementRequirements

# The features vmpool asks of a host's hypervisor (stored in HostHardware.features).
LIVE_MIGRATION = "live-migration"
SNAPSHOTS = "snapshots"
HOTPLUG = "hot-plug"  # vCPUs and memory of a running domain, devices attached live
TPM_EMULATOR = "tpm-emulator"  # an emulated TPM 2.0 (swtpm)
FEATURES = (LIVE_MIGRATION, SNAPSHOTS, HOTPLUG, TPM_EMULATOR)

# What the action needing a feature is called in a refusal.
FEATURE_NAMES = {
    LIVE_MIGRATION: "live migration",
    SNAPSHOTS: "snapshots",
    HOTPLUG: "hot-plug (resizing a running VM)",
    TPM_EMULATOR: "an emulated TPM 2.0",
}

# What each libvirt driver (a URI's scheme, without its transport) implements, per
# libvirt's API support matrix (hvsupport.html: virDomainMigratePerform3Params for live
# migration, virDomainSnapshotCreateXML for snapshots, virDomainSetVcpusFlags and
# virDomainAttachDeviceFlags for hot-plug). A TPM is never assumed from the driver: only a
# host whose domain capabilities offer the emulator backend has one.
DRIVER_FEATURES: dict[str, frozenset[str]] = {
    # QEMU/KVM: all of them (the one proven on real hosts, docs/lab.md).
    "qemu": frozenset({LIVE_MIGRATION, SNAPSHOTS, HOTPLUG}),
    # Xen through libxl: migration (libvirt 1.2.6 on, peer to peer too), vCPU and device
    # hot-plug; no snapshot API.
    "xen": frozenset({LIVE_MIGRATION, HOTPLUG}),
    # bhyve (FreeBSD): define/start/stop/console; no migration, snapshot or hot-plug API.
    "bhyve": frozenset(),
    # Cloud Hypervisor: lifecycle only in libvirt's ch driver (no migration, no snapshots).
    "ch": frozenset(),
    # VMware ESX: snapshots (virDomainSnapshotCreateXML since 0.8.0); its migration goes
    # through vCenter with the old v1 protocol, not the peer-to-peer migrateToURI3 vmpool
    # drives, so vmpool does not offer it.
    "esx": frozenset({SNAPSHOTS}),
    # VirtualBox: snapshots; no migration; devices attach only while stopped.
    "vbox": frozenset({SNAPSHOTS}),
    # Microsoft Hyper-V (WMI): lifecycle and settings; no migration or snapshot API.
    "hyperv": frozenset(),
    # libvirt's test driver (test:///default): snapshots and vCPU changes, no migration.
    "test": frozenset({SNAPSHOTS, HOTPLUG}),
}
VM_DRIVERS = frozenset(DRIVER_FEATURES)
# Drivers libvirt has that run no virtual machines (so no vmpool host).
NOT_VM_DRIVERS = {
    "lxc": "lxc:// runs Linux containers, not virtual machines",
    "openvz": "openvz:// runs OpenVZ containers, not virtual machines",
}


def host_features(
    driver: str, live_migration_reported: bool | None, tpm_emulator: bool
) -> frozenset[str]:
    """The features of a host whose driver is `driver`. `live_migration_reported`: whether
    its capabilities list `<migration_features><live/>` (None: they say nothing either way,
    so the driver's row decides); `tpm_emulator`: whether its domain capabilities offer an
    emulated TPM 2.0."""
    features = set(DRIVER_FEATURES.get(driver, frozenset()))
    if live_migration_reported is False:
        features.discard(LIVE_MIGRATION)
    if tpm_emulator:
        features.add(TPM_EMULATOR)
    return frozenset(features)


def known_features(hardware: HostHardware) -> frozenset[str]:
    """Its features; a host whose inventory was never read (an empty set, as stored before
    vmpool read them) has its driver's row: only drivers whose row is empty report none."""
    return hardware.features or DRIVER_FEATURES.get(hardware.driver, frozenset())


def lacks(hardware: HostHardware, feature: str) -> str | None:
    """Why a host with this inventory cannot do `feature`, or None if it can."""
    if feature in known_features(hardware):
        return None
    return (
        f"this host's hypervisor ({hardware.driver}) does not support "
        f"{FEATURE_NAMES.get(feature, feature)}"
    )


def require_feature(hardware: HostHardware, feature: str, action: str, host: str = "") -> None:
    """Refuse `action` (409) on a host whose hypervisor lacks `feature`: the one check the
    services call before asking libvirt for a migration, a snapshot or a hot-plug."""
    why = lacks(hardware, feature)
    if why is not None:
        where = f" (host {host})" if host else ""
        raise Conflict(
            f"cannot {action}: {why}{where}",
            feature=feature,
            driver=hardware.driver,
            **({"host": host} if host else {}),
        )


def machine_reason(hardware: HostHardware, machine: str | None) -> str | None:
    """Why a host cannot run a VM of this machine type (None: it can, or the VM has none
    recorded, or the host's inventory does not list its machine types)."""
    if machine is None or not hardware.machines or machine in hardware.machines:
        return None
    return f"its hypervisor offers no machine type {machine}"


def tpm_reason(hardware: HostHardware) -> str | None:
    if TPM_EMULATOR in hardware.features:
        return None
    return (
        f"this host's hypervisor does not support a TPM ({hardware.driver}: its domain "
        "capabilities offer no emulated TPM 2.0, or swtpm is missing)"
    )


def placement_reason(host: PlacementHost, req: PlacementRequirements) -> str | None:
    """Why `host`'s hypervisor cannot give the VM what it asks: a TPM, the machine type it
    was created with (a migration target must offer it), or a feature the move itself needs
    (live migration, for a target placement chooses)."""
    hw = req.hardware
    if hw.tpm and (why := tpm_reason(host.hardware)) is not None:
        return why
    for feature in sorted(hw.host_features):
        if (why := lacks(host.hardware, feature)) is not None:
            return why
    return machine_reason(host.hardware, hw.machine)


def migration_reason(hardware: HostHardware) -> str | None:
    """Why a VM cannot be live-migrated from or to a host with this inventory."""
    return lacks(hardware, LIVE_MIGRATION)
