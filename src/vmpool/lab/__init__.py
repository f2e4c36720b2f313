"""The vmpool lab: several real libvirt hosts on one machine, and a tiny guest.

``lab_up``/``lab_down``/``lab_status`` run one ``libvirtd`` per lab host in
its own network, mount and UTS namespace, wired to a fabric namespace (the
lab's switch: a management network and a guest network); ``build_tiny_image`` makes a kernel plus
busybox initramfs that boots under TCG in a few seconds. See docs/lab.md.
"""

from vmpool.lab.hosts import (
    DEFAULT_BASE_PORT,
    DEFAULT_LAB_DIR,
    FABRIC_GUEST_ADDRESS,
    GUEST_BRIDGE,
    GUEST_SUBNET,
    MGMT_SUBNET,
    LabError,
    LabHost,
    fabric_netns,
    lab_down,
    lab_netns,
    lab_power_off,
    lab_status,
    lab_up,
    netns_exec,
)
from vmpool.lab.image import (
    DEFAULT_IMAGE_DIR,
    HEARTBEAT_PREFIX,
    READY_LINE,
    GuestImage,
    SerialLog,
    build_tiny_image,
    interface_xml,
    load_image,
    parse_serial_log,
    read_serial_log,
    tiny_domain_xml,
)
from vmpool.lab.pinger import Pinger, PingReport, netns_ping

__all__ = [
    "DEFAULT_BASE_PORT",
    "DEFAULT_IMAGE_DIR",
    "DEFAULT_LAB_DIR",
    "FABRIC_GUEST_ADDRESS",
    "GUEST_BRIDGE",
    "GUEST_SUBNET",
    "HEARTBEAT_PREFIX",
    "MGMT_SUBNET",
    "READY_LINE",
    "GuestImage",
    "LabError",
    "LabHost",
    "PingReport",
    "Pinger",
    "SerialLog",
    "build_tiny_image",
    "fabric_netns",
    "interface_xml",
    "lab_down",
    "lab_netns",
    "lab_power_off",
    "lab_status",
    "lab_up",
    "load_image",
    "netns_exec",
    "netns_ping",
    "parse_serial_log",
    "read_serial_log",
    "tiny_domain_xml",
]
