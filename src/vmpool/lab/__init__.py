"""The vmpool lab: several real libvirt hosts on one machine, and a tiny guest.

``lab_up``/``lab_down``/``lab_status`` run one ``libvirtd`` per lab host in
its own mount and UTS namespace; ``build_tiny_image`` makes a kernel plus
busybox initramfs that boots under TCG in a few seconds. See docs/lab.md.
"""

from vmpool.lab.hosts import (
    DEFAULT_BASE_PORT,
    DEFAULT_LAB_DIR,
    LabError,
    LabHost,
    lab_down,
    lab_status,
    lab_up,
)
from vmpool.lab.image import (
    DEFAULT_IMAGE_DIR,
    HEARTBEAT_PREFIX,
    READY_LINE,
    GuestImage,
    SerialLog,
    build_tiny_image,
    load_image,
    parse_serial_log,
    read_serial_log,
    tiny_domain_xml,
)

__all__ = [
    "DEFAULT_BASE_PORT",
    "DEFAULT_IMAGE_DIR",
    "DEFAULT_LAB_DIR",
    "HEARTBEAT_PREFIX",
    "READY_LINE",
    "GuestImage",
    "LabError",
    "LabHost",
    "SerialLog",
    "build_tiny_image",
    "lab_down",
    "lab_status",
    "lab_up",
    "load_image",
    "parse_serial_log",
    "read_serial_log",
    "tiny_domain_xml",
]
