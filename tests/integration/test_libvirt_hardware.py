"""The libvirt adapter's inventory of a host's hypervisor (driver, machine types, features)
against libvirt's own test driver (test:///default, in this process: no lab host needed).
The QEMU side is read from a real lab host by tests/integration/test_tpm_lab.py."""

from __future__ import annotations

from vmpool.adapters.hypervisor.libvirt_adapter import LibvirtConnector
from vmpool.domain.hypervisor_features import DRIVER_FEATURES, TPM_EMULATOR


def test_the_test_driver_reports_its_driver_and_no_tpm() -> None:
    connector = LibvirtConnector()
    try:
        hw = connector.connect("test:///default").inventory().hardware
    finally:
        connector.close()
    assert hw.driver == "test"
    # It has no domain capabilities (virConnectGetDomainCapabilities is not supported):
    # no machine default, no TPM; its capabilities list no machine types (an i686 guest).
    assert hw.machine is None and hw.machines == ()
    assert hw.features == DRIVER_FEATURES["test"] and TPM_EMULATOR not in hw.features
