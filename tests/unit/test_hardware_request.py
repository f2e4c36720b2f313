"""The special-hardware value objects (domain/hardware.py): the request's checks, the stored
inventory's round trip, and a VM row's request as placement sees it."""

from __future__ import annotations

import pytest

from vmpool.domain.hardware import (
    NO_HARDWARE,
    PLAIN,
    CpuPolicy,
    DeviceRequest,
    HardwareRequest,
    HostHardware,
    NumaCell,
    check_hardware_request,
    devices_from_json,
    devices_to_json,
    hardware_from_json,
    hardware_to_json,
)
from vmpool.errors import InvalidInput


def test_a_plain_request_is_not_special() -> None:
    assert not PLAIN.special
    assert HardwareRequest(tpm=True).special
    assert HardwareRequest(cpu_policy=CpuPolicy.DEDICATED).special


def test_device_aliases_are_merged_and_sorted() -> None:
    req = HardwareRequest(
        devices=(
            DeviceRequest("gpu:a100", 1),
            DeviceRequest("nic:x710", 1),
            DeviceRequest("gpu:a100", 2),
        )
    )
    checked = check_hardware_request(req)
    assert checked.devices == (DeviceRequest("gpu:a100", 3), DeviceRequest("nic:x710", 1))
    assert devices_from_json(devices_to_json(checked.devices)) == checked.devices


@pytest.mark.parametrize(
    ("req", "field"),
    [
        (HardwareRequest(hugepages="4K"), "hugepages"),
        (HardwareRequest(sgx_epc_mib=-1), "sgx_epc_mib"),
        (HardwareRequest(devices=(DeviceRequest("GPU A100", 1),)), "traits"),
        (HardwareRequest(devices=(DeviceRequest("gpu", 0),)), "devices.count"),
        (HardwareRequest(devices=tuple(DeviceRequest(f"d{i}", 2) for i in range(9))), "devices"),
    ],
)
def test_bad_requests_name_their_field(req: HardwareRequest, field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_hardware_request(req)
    assert exc.value.details.get("field") == field


def test_the_stored_inventory_round_trips() -> None:
    hw = HostHardware(
        driver="qemu",
        cells=(
            NumaCell(0, frozenset({0, 1}), 8192, {2048: (512, 100)}),
            NumaCell(1, frozenset({2, 3}), 8192, {2048: (0, 0), 1048576: (2, 2)}),
        ),
        sgx_epc_mib=64,
        machine="pc-i440fx-7.2",
        machines=("pc-i440fx-7.2", "pc-q35-7.2"),
        features=frozenset({"live-migration", "snapshots"}),
    )
    assert hardware_from_json(hardware_to_json(hw)) == hw


@pytest.mark.parametrize("text", ["", "{}", "not json", '{"cells": [{"id": "x"}]}', "[]"])
def test_an_empty_or_unreadable_inventory_offers_nothing_special(text: str) -> None:
    assert hardware_from_json(text) == NO_HARDWARE
