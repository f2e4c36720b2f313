"""Fence commands: the operator's program that powers a failed host off (a fence agent
such as `fence_ipmilan`, a PDU script). vmpool runs it without a shell, with the host's
name and URI in its environment, and trusts only its exit status."""

from __future__ import annotations

import os
import subprocess

from vmpool.domain.ports import FenceOutcome

OUTPUT_KEPT = 2000  # characters of its output kept in the record


class CommandFenceAgent:
    def __init__(self, timeout_s: float = 60.0) -> None:
        self._timeout_s = timeout_s

    def fence(self, command: list[str], host_name: str, host_uri: str) -> FenceOutcome:
        env = dict(os.environ, VMPOOL_HOST_NAME=host_name, VMPOOL_HOST_URI=host_uri)
        try:
            done = subprocess.run(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self._timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return FenceOutcome(False, f"no answer within {self._timeout_s:g} s")
        except OSError as exc:
            return FenceOutcome(False, f"cannot run {command[0]}: {exc.strerror or exc}")
        output = (done.stdout + done.stderr).strip()[-OUTPUT_KEPT:]
        return FenceOutcome(done.returncode == 0, f"exit {done.returncode}: {output}")
