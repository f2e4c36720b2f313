"""The lab's PKI (vmpool.lab.pki): libvirt's and QEMU's file layouts, names, reuse."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from vmpool.lab.pki import client_pki_dir, ensure_host_pki, pki_dir


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_host_and_client_certificates_in_libvirt_and_qemu_layouts(tmp_path: Path) -> None:
    host = ensure_host_pki(tmp_path, "lab2", ["10.231.0.2", "127.0.0.1"])
    ca = _cert(pki_dir(tmp_path) / "ca" / "cacert.pem")
    assert {p.name for p in host.libvirtd_dir.iterdir()} == {
        "cacert.pem", "servercert.pem", "serverkey.pem"
    }  # fmt: skip
    assert {p.name for p in host.qemu_dir.iterdir()} == {
        "ca-cert.pem", "server-cert.pem", "server-key.pem", "client-cert.pem", "client-key.pem"
    }  # fmt: skip
    assert {p.name for p in client_pki_dir(tmp_path).iterdir()} == {
        "cacert.pem", "clientcert.pem", "clientkey.pem"
    }  # fmt: skip
    server = _cert(host.cert_file)
    server.verify_directly_issued_by(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"lab2", "localhost"}
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("10.231.0.2"), ipaddress.ip_address("127.0.0.1")
    }  # fmt: skip
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert _cert(host.qemu_dir / "server-cert.pem") == server
    for client in (client_pki_dir(tmp_path) / "clientcert.pem", host.qemu_dir / "client-cert.pem"):
        _cert(client).verify_directly_issued_by(ca)
        eku = _cert(client).extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    for key in (
        host.key_file,
        host.qemu_dir / "client-key.pem",
        pki_dir(tmp_path) / "ca/cakey.pem",
    ):
        assert key.stat().st_mode & 0o777 == 0o600


def test_certificates_are_kept_unless_they_name_other_addresses(tmp_path: Path) -> None:
    first = ensure_host_pki(tmp_path, "lab1", ["10.231.0.1", "127.0.0.1"])
    before = first.cert_file.read_bytes()
    client = (client_pki_dir(tmp_path) / "clientcert.pem").read_bytes()
    again = ensure_host_pki(tmp_path, "lab1", ["10.231.0.1", "127.0.0.1"])
    assert again.cert_file.read_bytes() == before
    assert (client_pki_dir(tmp_path) / "clientcert.pem").read_bytes() == client
    ensure_host_pki(tmp_path, "lab1", ["10.231.0.9", "127.0.0.1"])
    assert first.cert_file.read_bytes() != before
    assert (first.qemu_dir / "server-cert.pem").read_bytes() == first.cert_file.read_bytes()
