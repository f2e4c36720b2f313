"""The lab's PKI: a CA and the certificates of TLS lab hosts, in libvirt's and QEMU's layouts.

Everything lives under ``<lab_dir>/pki`` (:func:`pki_dir`)::

    ca/cacert.pem  ca/cakey.pem        the lab CA (made once, kept by lab_down)
    client/                            a libvirt client pkipath dir: vmpool's identity, and
        cacert.pem clientcert.pem      the source libvirtd's in peer-to-peer migrations
        clientkey.pem                  (``?pkipath=<lab_dir>/pki/client``)
    labN/libvirtd/                     libvirtd's TLS listener (key_file, cert_file, ca_file)
        cacert.pem servercert.pem serverkey.pem
    labN/qemu/                         QEMU's TLS dir (qemu.conf migrate_tls_x509_cert_dir):
        ca-cert.pem server-cert.pem    the destination QEMU is the TLS server of a
        server-key.pem client-cert.pem migration, the source QEMU its client
        client-key.pem

A host's server certificate names ``labN``, ``localhost``, ``10.231.0.N`` (its mgmt
address: the peer URI and the migration data go there) and ``127.0.0.1`` (vmpool reaches
the host through a forwarder on this machine's loopback). Keys are RSA 2048 (libvirt and
QEMU check key usage "digital signature" and "key encipherment"), unencrypted, mode 0600.

Existing files are kept while they are still signed by the CA, name what they should and
have more than a day left; anything else is made again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "vmpool lab CA"
CLIENT_NAME = "vmpool-lab-client"
KEY_BITS = 2048
CA_DAYS = 3650
CERT_DAYS = 825
CLOCK_SKEW = dt.timedelta(hours=1)
MIN_LEFT = dt.timedelta(days=1)


@dataclass(frozen=True)
class HostPki:
    """Where a TLS lab host's certificates are."""

    libvirtd_dir: Path  # cacert.pem servercert.pem serverkey.pem
    qemu_dir: Path  # ca-cert.pem server-cert.pem server-key.pem client-cert.pem client-key.pem

    @property
    def ca_file(self) -> Path:
        return self.libvirtd_dir / "cacert.pem"

    @property
    def cert_file(self) -> Path:
        return self.libvirtd_dir / "servercert.pem"

    @property
    def key_file(self) -> Path:
        return self.libvirtd_dir / "serverkey.pem"


def pki_dir(lab_dir: Path) -> Path:
    return Path(lab_dir) / "pki"


def client_pki_dir(lab_dir: Path) -> Path:
    """The libvirt client ``pkipath`` dir of the lab (cacert.pem, clientcert.pem,
    clientkey.pem)."""
    return pki_dir(lab_dir) / "client"


def ensure_host_pki(lab_dir: Path, name: str, addresses: list[str]) -> HostPki:
    """The CA (made if missing), then host ``name``'s server certificate (for libvirtd and
    QEMU) and QEMU client certificate, and the lab's client pkipath dir."""
    ca_cert, ca_key = ensure_ca(lab_dir)
    ensure_client(lab_dir)
    root = pki_dir(lab_dir) / name
    host = HostPki(libvirtd_dir=root / "libvirtd", qemu_dir=root / "qemu")
    dns = [name, "localhost"]
    server = _ensure_cert(
        host.libvirtd_dir / "servercert.pem",
        host.libvirtd_dir / "serverkey.pem",
        ca_cert,
        ca_key,
        name,
        server=True,
        dns=dns,
        ips=addresses,
    )
    _write_pem(host.libvirtd_dir / "cacert.pem", _cert_pem(ca_cert))
    # QEMU's dir: the same server certificate, and a client certificate of the host's own
    _write_pem(host.qemu_dir / "ca-cert.pem", _cert_pem(ca_cert))
    _write_pem(host.qemu_dir / "server-cert.pem", _cert_pem(server))
    _write_pem(
        host.qemu_dir / "server-key.pem", (host.libvirtd_dir / "serverkey.pem").read_bytes(), 0o600
    )
    _ensure_cert(
        host.qemu_dir / "client-cert.pem",
        host.qemu_dir / "client-key.pem",
        ca_cert,
        ca_key,
        name,
        server=False,
    )
    return host


def ensure_client(lab_dir: Path) -> Path:
    """The lab's libvirt client pkipath dir, made or refreshed; returns it."""
    ca_cert, ca_key = ensure_ca(lab_dir)
    folder = client_pki_dir(lab_dir)
    _ensure_cert(
        folder / "clientcert.pem",
        folder / "clientkey.pem",
        ca_cert,
        ca_key,
        CLIENT_NAME,
        server=False,
    )
    _write_pem(folder / "cacert.pem", _cert_pem(ca_cert))
    return folder


def ensure_ca(lab_dir: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """The lab CA, made once and kept (a new one would invalidate every certificate)."""
    folder = pki_dir(lab_dir) / "ca"
    cert_path, key_path = folder / "cacert.pem", folder / "cakey.pem"
    loaded = _load(cert_path, key_path)
    now = _now()
    if loaded is not None:
        cert, key = loaded
        if cert.not_valid_after_utc - now > MIN_LEFT:
            return cert, key
    key = _new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_pem(key_path, _key_pem(key), 0o600)
    _write_pem(cert_path, _cert_pem(cert))
    return cert, key


# --------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _write_pem(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_bytes() == data:
            os.chmod(path, mode)
            return
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _load(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey] | None:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, rsa.RSAPrivateKey):
        return None
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        return None
    if public.public_numbers() != key.public_key().public_numbers():
        return None
    return cert, key


def _still_good(
    cert: x509.Certificate, ca_cert: x509.Certificate, dns: list[str], ips: list[str]
) -> bool:
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    if cert.not_valid_after_utc - _now() < MIN_LEFT:
        return False
    if not dns and not ips:
        return True
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return have_dns == set(dns) and have_ips == set(ips)


def _ensure_cert(
    cert_path: Path,
    key_path: Path,
    ca_cert: x509.Certificate,
    ca_key: rsa.RSAPrivateKey,
    common_name: str,
    *,
    server: bool,
    dns: list[str] | None = None,
    ips: list[str] | None = None,
) -> x509.Certificate:
    dns, ips = list(dns or []), list(ips or [])
    loaded = _load(cert_path, key_path)
    if loaded is not None and _still_good(loaded[0], ca_cert, dns, ips):
        return loaded[0]
    key = _new_key()
    now = _now()
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + dt.timedelta(days=CERT_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if dns or ips:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_pem(key_path, _key_pem(key), 0o600)
    _write_pem(cert_path, _cert_pem(cert))
    return cert
