"""Image uploads through the real daemon (`vmpool serve`, uvicorn) over HTTP (issue 10): the
body is streamed, a body past `max_image_bytes` is refused with 413 even when chunked, and an
upload the client breaks off leaves no image, no staging file and no name taken."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.e2e.conftest import Daemon, start_daemon, wait_until


def _store(tmp_path: Path) -> list[str]:
    root = tmp_path / "data" / "image-store"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_uploads_are_streamed_bounded_and_leave_nothing_when_broken(
    daemon_env: dict[str, str], tmp_path: Path
) -> None:
    daemon_env["VMPOOL_MAX_IMAGE_BYTES"] = str(4 * 2**20)
    d: Daemon = start_daemon(daemon_env, tmp_path)
    try:
        image = tmp_path / "base.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "1G"], check=True)
        with d.client() as c:
            r = c.post("/v1/images", params={"name": "base"}, content=image.read_bytes(),
                       headers={"content-type": "application/octet-stream"})  # fmt: skip
            assert r.status_code == 201, r.text
            assert r.json()["format"] == "qcow2" and r.json()["virtual_size_bytes"] == 2**30

            def chunked() -> Iterator[bytes]:  # no Content-Length: the server must count
                for _ in range(5):
                    yield b"\0" * 2**20

            r = c.post("/v1/images", params={"name": "huge"}, content=chunked())
            assert r.status_code == 413, r.text
            assert [i["name"] for i in c.get("/v1/images").json()["items"]] == ["base"]

        # A client that sends half its body and goes away.
        host, port = urlsplit(d.url).hostname, urlsplit(d.url).port
        assert host is not None and port is not None
        with socket.create_connection((host, port)) as s:
            s.sendall(
                b"POST /v1/images?name=broken HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {d.token}\r\n".encode()
                + b"Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
                + b"\0" * 300_000
            )
            time.sleep(0.5)  # let the server start receiving it
        with d.client() as c:
            wait_until(
                "the broken upload to be forgotten",
                lambda: (
                    [i["name"] for i in c.get("/v1/images").json()["items"]] == ["base"]
                    and _store(tmp_path) == ["1.qcow2"]
                ),
                seconds=30,
            )
            # The name is free again.
            r = c.post("/v1/images", params={"name": "broken"}, content=image.read_bytes())
            assert r.status_code == 201, r.text
    finally:
        d.proc.terminate()
        d.proc.wait(timeout=20)
    assert "Traceback" not in d.log.read_text()
