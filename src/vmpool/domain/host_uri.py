"""Which libvirt URIs a host may be registered with.

A libvirt URI is not just an address: its transport and query parameters tell
the local libvirt client library what to run and what to open on this machine
(`command=` runs a program, `socket=` opens any UNIX socket, `keyfile=` reads a
file, the `test:` driver reads a path as its configuration). So a URI from the
API is parsed and checked against an allow-list before libvirt ever sees it:
known transports, a strict host part, and only the query parameters below,
each with a validated value. Everything else is refused, naming the part.
See docs/security.md for the table.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from vmpool.errors import InvalidInput

MAX_URI_LENGTH = 512
# The grammar, for the API schema; `check_host_uri` is the rule (hosts, values, settings;
# lxc:// and openvz:// pass the grammar only to be refused with the reason).
HOST_URI_PATTERN = (
    r"^((qemu|xen|bhyve|vbox|ch|lxc|openvz)(\+(ssh|tls|tcp|unix))?://[A-Za-z0-9._@:\[\]-]*/(system|session)?"
    r"|(esx|hyperv)://[A-Za-z0-9._@:\[\]-]+/?"
    r"|test:///default)(\?[a-z_]+=[A-Za-z0-9_./+:-]*(&[a-z_]+=[A-Za-z0-9_./+:-]*)*)?$"
)

# libvirt's drivers of virtual machines (docs/hardware.md) and the paths their URIs take
# (libvirt's drivers pages): the remote driver carries them over ssh, tls, tcp or unix.
_DRIVER_PATHS: dict[str, frozenset[str]] = {
    "qemu": frozenset({"/system"}),
    "xen": frozenset({"/system", "/"}),
    "bhyve": frozenset({"/system"}),
    "ch": frozenset({"/system", "/session"}),
    "vbox": frozenset({"/session"}),
}
# Drivers libvirt's client library runs itself, talking HTTPS to the host (VMware ESX's SOAP
# API, Hyper-V's WinRM): no transport, path "/", and only their `transport` parameter.
_DIRECT_DRIVERS = frozenset({"esx", "hyperv"})
# libvirt drivers that run containers, not virtual machines.
_NOT_VMS = {"lxc": "Linux containers (LXC)", "openvz": "OpenVZ containers", "vz": "Virtuozzo"}

# Transports: scheme -> whether it needs a remote host in the URI.
_REMOTE = {f"{d}+{t}" for d in _DRIVER_PATHS for t in ("ssh", "tls", "tcp")}
_LOCAL = {d for d in _DRIVER_PATHS} | {f"{d}+unix" for d in _DRIVER_PATHS}

_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_IPV6_RE = re.compile(r"^\[[0-9A-Fa-f:.]{2,45}\]$")
_USER_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
_PATH_VALUE_RE = re.compile(r"^(/[A-Za-z0-9._+-]+)+$")

# Query parameters with a fixed set of values.
_CHOICES: dict[str, frozenset[str]] = {
    "no_tty": frozenset({"0", "1"}),
    "mode": frozenset({"auto", "legacy", "direct"}),
    "proxy": frozenset({"auto", "native"}),
    "transport": frozenset({"https", "http"}),  # esx://, hyperv:// only
}
# Query parameters that name a file or folder on this machine: allowed only inside
# the operator's key folders (`host_uri_key_dirs`).
_KEY_PATHS = frozenset({"keyfile", "known_hosts", "pkipath"})
# Parameters that would run or open something of the caller's choosing: never.
_NEVER = frozenset({"command", "netcat", "name", "tls_priority", "auth", "sshauth"})


@dataclass(frozen=True)
class HostUriPolicy:
    """What the operator allows beyond the safe default (settings `allow_*`, `host_uri_*`)."""

    allow_insecure_tcp: bool = False
    allow_no_verify: bool = False
    allow_test_driver: bool = False
    key_dirs: tuple[str, ...] = ()
    socket_dirs: tuple[str, ...] = ()


def _refuse(message: str, part: str) -> InvalidInput:
    return InvalidInput(f"host URI refused: {message}", field="uri", parameter=part)


def _inside(path: str, folders: tuple[str, ...]) -> bool:
    if not _PATH_VALUE_RE.fullmatch(path) or posixpath.normpath(path) != path:
        return False
    return any(path.startswith(posixpath.normpath(f) + "/") for f in folders if f.startswith("/"))


def _check_authority(parts: SplitResult, scheme: str) -> None:
    netloc = parts.netloc
    if scheme in _LOCAL:
        if netloc:
            raise _refuse(f"{scheme}:// URIs name no host (use {scheme}:///system)", "host")
        return
    if not netloc:
        raise _refuse(f"{scheme}:// needs a host, e.g. {scheme}://host.example/system", "host")
    user, _, hostport = netloc.rpartition("@")
    if user:
        if not scheme.endswith("+ssh") and scheme not in _DIRECT_DRIVERS:
            raise _refuse("a user name is only for +ssh, esx:// and hyperv://", "user")
        if not _USER_RE.fullmatch(user):
            raise _refuse("the user name must be a plain login name", "user")
    host, port = hostport, ""
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        if rest:
            if not rest.startswith(":"):
                raise _refuse("malformed host part", "host")
            port = rest[1:]
        if not _IPV6_RE.fullmatch(host):
            raise _refuse("malformed IPv6 address", "host")
    else:
        if ":" in hostport:
            host, _, port = hostport.partition(":")
        if not _HOSTNAME_RE.fullmatch(host):
            raise _refuse("the host must be a DNS name or an IP address", "host")
    if port and (not port.isdigit() or not 1 <= int(port) <= 65535):
        raise _refuse("the port must be a number from 1 to 65535", "port")


def _check_query(query: str, scheme: str, policy: HostUriPolicy) -> None:
    if not query:
        return
    seen: set[str] = set()
    for item in query.split("&"):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise _refuse(f"query item {item[:40]!r} is not name=value", key or "query")
        if key in seen:
            raise _refuse(f"parameter {key} is given twice", key)
        seen.add(key)
        if key in _NEVER:
            raise _refuse(f"parameter {key} is not allowed (it acts on this machine)", key)
        if key == "transport" and scheme not in _DIRECT_DRIVERS:
            raise _refuse("parameter transport is only for esx:// and hyperv://", key)
        if key in _CHOICES:
            if key == "transport" and value == "http" and not policy.allow_insecure_tcp:
                raise _refuse("transport=http is unencrypted (setting allow_insecure_tcp)", key)
            if value not in _CHOICES[key]:
                allowed = ", ".join(sorted(_CHOICES[key]))
                raise _refuse(f"parameter {key} must be one of: {allowed}", key)
        elif key == "no_verify":
            if value not in ("0", "1"):
                raise _refuse("parameter no_verify must be 0 or 1", key)
            if value == "1" and not policy.allow_no_verify:
                raise _refuse("no_verify=1 is off (setting allow_no_verify)", key)
        elif key in _KEY_PATHS:
            if not _inside(value, policy.key_dirs):
                shown = ", ".join(policy.key_dirs) or "none configured"
                raise _refuse(
                    f"parameter {key} must name a path inside the key folders "
                    f"(setting host_uri_key_dirs: {shown})",
                    key,
                )
        elif key == "socket":
            if scheme not in _LOCAL:
                raise _refuse("parameter socket is only for local URIs (qemu+unix)", key)
            if not _inside(value, policy.socket_dirs):
                shown = ", ".join(policy.socket_dirs) or "none configured"
                raise _refuse(
                    f"parameter socket must name a socket inside the socket folders ({shown})",
                    key,
                )
        else:
            raise _refuse(f"unknown parameter {key[:40]!r}", key[:40])


def _split(uri: str) -> SplitResult:
    try:
        return urlsplit(uri)
    except ValueError as exc:
        raise _refuse("malformed host part", "host") from exc  # e.g. a bad [IPv6] address


def driver_of(uri: str) -> str:
    """The libvirt driver of a host URI (its scheme without the transport): qemu, xen, ..."""
    return uri.partition("://")[0].partition("+")[0] or "qemu"


def check_host_uri(uri: str, policy: HostUriPolicy) -> str:
    """The URI unchanged if the policy allows it, else `InvalidInput` naming the refused part."""
    if not isinstance(uri, str) or len(uri) > MAX_URI_LENGTH:
        raise _refuse(f"at most {MAX_URI_LENGTH} characters", "uri")
    if not uri.isascii() or not uri.isprintable() or any(c in uri for c in " %#\\'\"`$;|<>"):
        raise _refuse("spaces, control characters, %, #, quotes and shell syntax", "uri")
    scheme = uri.partition("://")[0]
    if scheme == "test":
        if not policy.allow_test_driver:
            raise _refuse("the test driver is off (setting allow_test_driver)", "scheme")
        if uri != "test:///default":
            raise _refuse("the only test driver URI is test:///default", "path")
        return uri
    driver = scheme.partition("+")[0]
    if driver in _NOT_VMS:
        raise _refuse(
            f"{driver}:// runs {_NOT_VMS[driver]}, not virtual machines: vmpool hosts VMs",
            "scheme",
        )
    if scheme in _DIRECT_DRIVERS:
        parts = _split(uri)
        if not parts.netloc:
            raise _refuse(f"{scheme}:// needs a host, e.g. {scheme}://host.example/", "host")
        _check_authority(parts, scheme)
        if parts.path not in ("", "/"):
            raise _refuse(f"the path of an {scheme}:// URI must be /", "path")
        _check_query(parts.query, scheme, policy)
        return uri
    if scheme not in _REMOTE | _LOCAL:
        raise _refuse(
            "the transport must be DRIVER:///system, DRIVER+ssh://, DRIVER+tls://, "
            "DRIVER+unix:/// or (when allowed) DRIVER+tcp://, with DRIVER one of "
            f"{', '.join(_DRIVER_PATHS)}; or esx://, hyperv://",
            "scheme",
        )
    if scheme.endswith("+tcp") and not policy.allow_insecure_tcp:
        raise _refuse(
            f"{scheme} is unencrypted and unauthenticated; use {driver}+tls or {driver}+ssh "
            "(setting allow_insecure_tcp enables it, e.g. for the lab)",
            "scheme",
        )
    parts = _split(uri)
    _check_authority(parts, scheme)
    if parts.path not in _DRIVER_PATHS[driver]:
        paths = " or ".join(sorted(_DRIVER_PATHS[driver]))
        raise _refuse(f"the path of a {driver} URI must be {paths}", "path")
    _check_query(parts.query, scheme, policy)
    return uri
