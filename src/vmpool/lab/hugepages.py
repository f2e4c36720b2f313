"""Huge pages for the lab (docs/hardware.md): the lab hosts share this machine's kernel,
so `/proc/sys/vm/nr_hugepages` gives every lab host the same 2 MiB pages, which each host's
libvirt then reports in its capabilities. `lab_hugepages` sets a count and gives the pages
back (the count found) when done. Each lab host mounts hugetlbfs in its own mount namespace
(vmpool.lab.hosts, qemu.conf hugetlbfs_mount), so guests boot on these pages."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

NR_HUGEPAGES = Path("/proc/sys/vm/nr_hugepages")


def hugepages_count() -> int:
    return int(NR_HUGEPAGES.read_text().strip() or 0)


def meminfo_hugepages() -> dict[str, int]:
    """HugePages_Total / _Free / _Rsvd from /proc/meminfo."""
    out: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("HugePages_"):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out


@contextlib.contextmanager
def lab_hugepages(count: int) -> Iterator[int]:
    """Ask the kernel for `count` default-size huge pages (it may give fewer when memory is
    fragmented: the count it gave is yielded); restore the previous count afterwards."""
    before = hugepages_count()
    NR_HUGEPAGES.write_text(f"{count}\n")
    try:
        yield hugepages_count()
    finally:
        NR_HUGEPAGES.write_text(f"{before}\n")
