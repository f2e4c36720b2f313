"""The host URI allow-list: what may reach libvirt's client library, and what never does."""

from __future__ import annotations

import pytest

from vmpool.domain.host_uri import HostUriPolicy, check_host_uri
from vmpool.errors import InvalidInput

STRICT = HostUriPolicy(key_dirs=("/etc/vmpool/keys",), socket_dirs=("/var/lib/vmpool-lab",))
LAB = HostUriPolicy(allow_insecure_tcp=True, socket_dirs=("/var/lib/vmpool-lab",))

ACCEPTED = [
    (STRICT, "qemu:///system"),
    (STRICT, "qemu+ssh://root@hv1.example.com/system"),
    (STRICT, "qemu+ssh://vmpool@10.0.0.5:2222/system?no_tty=1"),
    (STRICT, "qemu+ssh://hv1/system?keyfile=/etc/vmpool/keys/id_ed25519"),
    (STRICT, "qemu+ssh://hv1/system?known_hosts=/etc/vmpool/keys/known_hosts&mode=direct"),
    (STRICT, "qemu+tls://hv1.example.com/system"),
    (STRICT, "qemu+tls://[fd00::5]:16514/system?pkipath=/etc/vmpool/keys/hv1"),
    (STRICT, "qemu+tls://hv1/system?no_verify=0"),
    (STRICT, "qemu+unix:///system?socket=/var/lib/vmpool-lab/h1/libvirt-sock"),
    (LAB, "qemu+tcp://127.0.0.1:16510/system"),
    (HostUriPolicy(allow_no_verify=True), "qemu+tls://hv1/system?no_verify=1"),
    (HostUriPolicy(allow_test_driver=True), "test:///default"),
    # libvirt's other VM drivers (docs/hardware.md)
    (STRICT, "xen:///system"),
    (STRICT, "xen+ssh://root@xen1.example.com/system"),
    (STRICT, "xen+tls://xen1/"),
    (STRICT, "bhyve:///system"),
    (STRICT, "bhyve+ssh://root@freebsd1/system"),
    (STRICT, "ch:///system"),
    (STRICT, "ch+tls://ch1/session"),
    (STRICT, "vbox:///session"),
    (STRICT, "vbox+ssh://me@desk/session"),
    (STRICT, "esx://root@esx1.example.com/"),
    (STRICT, "esx://esx1.example.com/?no_verify=0&transport=https"),
    (STRICT, "hyperv://administrator@hyperv1.example.com/?transport=https"),
    (LAB, "hyperv://hyperv1/?transport=http"),
]

# (URI, the part the refusal names)
REFUSED = [
    ("qemu+ssh://root@127.0.0.1:1/system?command=/tmp/evil.sh", "command"),
    ("qemu+ssh://hv1/system?netcat=/tmp/evil.sh", "netcat"),
    ("qemu+ssh://hv1/system?socket=/run/docker.sock", "socket"),
    ("qemu+unix:///system?socket=/run/docker.sock", "socket"),
    ("qemu+unix:///system?socket=/var/lib/vmpool-lab/../../../run/x.sock", "socket"),
    ("qemu+ssh://hv1/system?keyfile=/root/.ssh/id_rsa", "keyfile"),
    ("qemu+ssh://hv1/system?known_hosts=/etc/shadow", "known_hosts"),
    ("qemu+tls://hv1/system?pkipath=/tmp", "pkipath"),
    ("qemu+tls://hv1/system?pkipath=/etc/vmpool/keys", "pkipath"),  # the folder itself
    ("qemu+tls://hv1/system?no_verify=1", "no_verify"),
    ("qemu+tls://hv1/system?tls_priority=NORMAL", "tls_priority"),
    ("qemu+ssh://hv1/system?name=qemu:///session", "name"),
    ("qemu+ssh://hv1/system?sshauth=privkey", "sshauth"),
    ("qemu+ssh://hv1/system?proxy=netcat", "proxy"),
    ("qemu+ssh://hv1/system?whatever=1", "whatever"),
    ("qemu+ssh://hv1/system?no_tty=1&no_tty=0", "no_tty"),
    ("qemu+ssh://hv1/system?no_tty", "no_tty"),
    ("qemu+tcp://127.0.0.1:16510/system", "scheme"),
    ("test:///default", "scheme"),
    ("test:///etc/passwd", "scheme"),
    ("xen:///session", "path"),
    ("bhyve:///session", "path"),
    ("vbox:///system", "path"),
    ("esx:///", "host"),
    ("esx://esx1/folder", "path"),
    ("esx+ssh://esx1/", "scheme"),
    ("hyperv://hv1/?transport=http", "transport"),
    ("hyperv://hv1/?transport=smb", "transport"),
    ("qemu+tls://hv1/system?transport=https", "transport"),
    ("xen+tcp://xen1/system", "scheme"),
    ("bhyve+tls://bsd1/system?socket=/var/lib/vmpool-lab/s", "socket"),
    ("openvz:///system", "scheme"),
    ("lxc+ssh://hv1/", "scheme"),
    ("qemu+ext://hv1/system?command=/bin/sh", "scheme"),
    ("qemu+libssh2://hv1/system", "scheme"),
    ("lxc:///", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("qemu:///session", "path"),
    ("qemu+tls://hv1/", "path"),
    ("qemu+tls://hv1/system/../session", "path"),
    ("qemu://hv1/system", "host"),
    ("qemu+unix://hv1/system", "host"),
    ("qemu+tls:///system", "host"),
    ("qemu+ssh://-oProxyCommand=evil/system", "host"),
    ("qemu+ssh://-oProxyCommand@hv1/system", "user"),
    ("qemu+tls://root@hv1/system", "user"),
    ("qemu+tls://hv1:0/system", "port"),
    ("qemu+tls://hv1:99999/system", "port"),
    ("qemu+tls://hv1:x/system", "port"),
    ("qemu+tls://[zz::1]/system", "host"),
    ("qemu+ssh://hv1/system?command=%2Fbin%2Fsh", "uri"),
    ("qemu+ssh://hv1/system?command=$(id)", "uri"),
    ("qemu+ssh://hv1/system#frag", "uri"),
    ("qemu+ssh://hv1/system?x=a b", "uri"),
    ("qemu+ssh://hv1/system\n", "uri"),
    ("qemu+ssh://hv1/sÿstem", "uri"),
    ("qemu:///system?" + "a" * 600, "uri"),
    ("", "scheme"),
]


@pytest.mark.parametrize(("policy", "uri"), ACCEPTED)
def test_accepted_forms(policy: HostUriPolicy, uri: str) -> None:
    assert check_host_uri(uri, policy) == uri


@pytest.mark.parametrize(("uri", "part"), REFUSED)
def test_refused_forms_name_the_part(uri: str, part: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_host_uri(uri, STRICT)
    assert caught.value.details["field"] == "uri"
    assert caught.value.details["parameter"] == part
    assert "host URI refused" in caught.value.message


def test_lab_policy_still_refuses_what_runs_programs() -> None:
    for uri, _ in REFUSED:
        if "+tcp://" in uri or uri.endswith("?transport=http"):
            continue  # what the lab's policy allows
        with pytest.raises(InvalidInput):
            check_host_uri(uri, LAB)


def test_no_key_folders_means_no_key_paths() -> None:
    with pytest.raises(InvalidInput, match="none configured"):
        check_host_uri("qemu+ssh://hv1/system?keyfile=/etc/vmpool/keys/k", HostUriPolicy())


def test_containers_are_refused_with_the_reason() -> None:
    for uri in ("lxc:///", "lxc:///system", "lxc+ssh://hv1/system"):
        with pytest.raises(InvalidInput, match="not virtual machines") as caught:
            check_host_uri(uri, STRICT)
        assert caught.value.details["parameter"] == "scheme"


def test_the_api_grammar_lets_each_accepted_form_through() -> None:
    """The schema's pattern is no stricter than the rule (it may be looser)."""
    import re

    from vmpool.domain.host_uri import HOST_URI_PATTERN

    for _policy, uri in ACCEPTED:
        assert re.fullmatch(HOST_URI_PATTERN, uri), uri
    assert re.fullmatch(HOST_URI_PATTERN, "lxc:///")  # to be refused with the reason


def test_driver_of_a_uri() -> None:
    from vmpool.domain.host_uri import driver_of

    assert driver_of("qemu+unix:///system?socket=/x") == "qemu"
    assert driver_of("xen+ssh://h/system") == "xen"
    assert driver_of("esx://h/") == "esx"
    assert driver_of("test:///default") == "test"
