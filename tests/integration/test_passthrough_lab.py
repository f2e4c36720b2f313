"""PCI passthrough and SGX on real lab hosts (docs/hardware.md). This machine has
no IOMMU and no SGX, so no device is ever assigned here: what runs is the real libvirt node
device inventory of a lab host (parsed, recorded, listed by the API), and the refusal of
what no lab host can give (a device alias none has, SGX EPC), with placement's explanation
and nothing left behind. Boots no VM."""

from __future__ import annotations

import re
import time

import libvirt
import pytest

from tests.integration.conftest import Vmpool, domains_on
from vmpool.adapters.hypervisor.passthrough import parse_pci_devices, parse_sgx_epc_mib
from vmpool.lab.hosts import LabHost

pytestmark = pytest.mark.lab

ADDRESS = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$")
HEX_ID = re.compile(r"^0x[0-9a-f]{4}$")


def test_real_inventory_parses_and_what_no_host_has_is_refused(
    vmpool_sqlite: Vmpool, lab: list[LabHost]
) -> None:
    vp = vmpool_sqlite
    host = vp.register(lab[0])
    # What the lab host's libvirt itself lists (node device API), parsed as the adapter does.
    conn = libvirt.open(lab[0].uri)
    try:
        t0 = time.monotonic()
        listed = conn.listAllDevices(libvirt.VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV)
        xmls = [d.XMLDesc(0) for d in listed]
        took = time.monotonic() - t0
        epc = parse_sgx_epc_mib(conn.getDomainCapabilities(None, "x86_64", None, "qemu", 0))
    finally:
        conn.close()
    parsed = parse_pci_devices(xmls)
    print(f"lab1: {len(listed)} PCI node devices listed and described in {took * 1000:.0f} ms, "
          f"{len(parsed)} assignable (bridges left out); SGX EPC {epc} MiB")  # fmt: skip
    for d in parsed:
        print(f"  {d.address} {d.vendor_id}:{d.product_id} {d.product} driver={d.driver} "
              f"iommu_group={d.iommu_group} numa={d.numa_node}")  # fmt: skip
    if listed:
        assert parsed, "PCI node devices listed, none parsed"
    assert len(parsed) <= len(listed)
    for d in parsed:
        assert ADDRESS.fullmatch(d.address), d
        assert HEX_ID.fullmatch(d.vendor_id) and HEX_ID.fullmatch(d.product_id), d
    assert epc == 0  # no SGX on this machine
    # Registration recorded the same devices; the API lists them.
    r = vp.client.get(f"/v1/hosts/{host['id']}/devices")
    assert r.status_code == 200, r.text
    assert [d["address"] for d in r.json()["items"]] == [d.address for d in parsed]
    assert "sgx" not in vp.client.get(f"/v1/hosts/{host['id']}").json()["traits"]

    # A device alias no host has, and SGX EPC: refused with the filters' explanations.
    before = domains_on(lab[0])
    for body, why in (
        ({"devices": [{"alias": "gpu:a100", "count": 1}]}, "no free gpu:a100 (has 0 of 1)"),
        ({"sgx_epc_mib": 64}, "no SGX (asked 64 MiB of EPC)"),
    ):
        r = vp.client.post("/v1/vms", json={"name": "special", "vcpus": 1, "memory_mib": 64,
                                            **body})  # fmt: skip
        assert r.status_code == 409, r.text
        assert why in r.json()["error"]["message"], r.text
        assert vp.client.get("/v1/vms", params={"name": "special"}).json()["items"] == []
    assert domains_on(lab[0]) == before
    devices = vp.client.get(f"/v1/hosts/{host['id']}/devices").json()["items"]
    assert all(d["vm_id"] is None for d in devices)
