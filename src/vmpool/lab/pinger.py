"""Pings from inside a lab network namespace, never from the machine's own: `netns_ping`
(a few echoes, one after the other: is it reachable?) and `Pinger` (an echo every
`interval` seconds, whatever comes back: how long is a guest unreachable during a live
migration, as its peers on the network see it). The machine has no ping(8): a raw socket
does it, in a script this Python runs inside the namespace (`ip netns exec`).
"""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
from dataclasses import dataclass

# What both scripts start with: an echo request `echo(seq)` and the reply's (type, id, seq).
_ICMP = r"""
import json, os, select, signal, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
def echo(seq):
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq & 0xFFFF) + b"vmpool-lab-ping!"
    return hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
def reply(data):
    ihl = (data[0] & 15) * 4
    t, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
    return t, rid, rseq
"""

# argv: address count timeout; prints the replies; exit 0 if at least one came back.
_PING = (
    _ICMP
    + r"""
addr, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
got = 0
for seq in range(1, count + 1):
    start = time.monotonic()
    sock.sendto(echo(seq), (addr, 0))
    while True:
        left = timeout - (time.monotonic() - start)
        if left <= 0: break
        sock.settimeout(left)
        try: data, peer = sock.recvfrom(2048)
        except socket.timeout: break
        t, rid, rseq = reply(data)
        if t == 0 and rid == ident and rseq == seq and peer[0] == addr:
            got += 1
            print("reply from %s seq=%d %.1f ms" % (addr, seq, (time.monotonic() - start) * 1e3))
            time.sleep(max(0.0, 0.2 - (time.monotonic() - start)))
            break
print("%d/%d replies" % (got, count))
sys.exit(0 if got else 1)
"""
)

# argv: address interval_s; runs until SIGINT, then waits for late replies and prints one
# JSON line: sent, received (sequence numbers), interval_s.
_STEADY = (
    _ICMP
    + r"""
addr, interval = sys.argv[1], float(sys.argv[2])
stop = []
signal.signal(signal.SIGINT, lambda *_: stop.append(1))
sock.setblocking(False)
got, seq = set(), 0
start = time.monotonic()
def drain(until):
    while True:
        left = until - time.monotonic()
        if left <= 0: return
        r, _, _ = select.select([sock], [], [], left)
        if not r: return
        try: data, peer = sock.recvfrom(2048)
        except (BlockingIOError, InterruptedError): continue
        t, rid, rseq = reply(data)
        if t == 0 and rid == ident and peer[0] == addr: got.add(rseq)
print("started", flush=True)
while not stop:
    seq += 1
    try: sock.sendto(echo(seq), (addr, 0))
    except OSError: pass  # no route yet: counted as lost
    drain(start + seq * interval)
drain(time.monotonic() + 1.0)
print(json.dumps({"sent": seq, "received": sorted(got), "interval_s": interval}), flush=True)
"""
)


def netns_ping(
    netns: str, address: str, count: int = 3, timeout: float = 1.0
) -> subprocess.CompletedProcess[str]:
    """Ping ``address`` from inside a lab network namespace (ICMP echo, ``count`` tries of
    ``timeout`` seconds each); returncode 0 if any reply came back."""
    return subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", _PING, address, str(count),
         str(timeout)],
        stdin=subprocess.DEVNULL, capture_output=True, text=True,
        timeout=count * (timeout + 1) + 10, check=False,
    )  # fmt: skip


@dataclass(frozen=True)
class PingReport:
    sent: int
    received: int
    lost: int
    longest_gap_ms: float  # the longest stretch without a reply, in sent intervals
    interval_ms: float

    @staticmethod
    def from_sequence(sent: int, received: list[int], interval_s: float) -> PingReport:
        seen = sorted(set(received))
        # A gap: from the last reply before it to the first after it (or the ends).
        marks = [0, *seen, sent + 1]
        longest = max(b - a - 1 for a, b in itertools.pairwise(marks))
        return PingReport(
            sent=sent,
            received=len(seen),
            lost=sent - len(seen),
            longest_gap_ms=round(longest * interval_s * 1000.0, 1),
            interval_ms=interval_s * 1000.0,
        )


class Pinger:
    """`with Pinger(netns, address) as p:` ... then `p.report`."""

    def __init__(self, netns: str, address: str, interval_s: float = 0.01) -> None:
        self._args = ["ip", "netns", "exec", netns, sys.executable, "-c", _STEADY, address,
                      str(interval_s)]  # fmt: skip
        self._proc: subprocess.Popen[str] | None = None
        self.report: PingReport | None = None

    def __enter__(self) -> Pinger:
        self._proc = subprocess.Popen(
            self._args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
        )
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline()
        if first.strip() != "started":
            self._proc.kill()
            raise RuntimeError(f"the pinger did not start: {first!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        assert proc is not None
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        last = out.strip().splitlines()[-1] if out.strip() else "{}"
        data = json.loads(last)
        self.report = PingReport.from_sequence(
            int(data["sent"]), [int(s) for s in data["received"]], float(data["interval_s"])
        )
