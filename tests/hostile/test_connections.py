#!/usr/bin/env python3
"""Finding 2 of issue 10: a header deadline, and no flood that locks every client out.

On the defaults (http.header_timeout_s 10, http.max_connections 4096,
http.max_connections_per_ip 256): a connection that has not sent its whole header in time is
closed, an address holds at most 256 connections, and a flood from a few addresses leaves
/healthz and valid signed events answered."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

HEADER_TIMEOUT_S = 10  # the default
PER_IP = 256  # the default
DEFAULTS = {}


def header_trickle(case):
    """500 connections from two addresses sending a header byte a second: all closed by the
    header deadline (10 s, plus slack), however steadily they send."""
    header = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 100
    t = h.Trickle(case.port, 500, b"", header, interval=1.0,
                  sources=[h.attacker_ip(0), h.attacker_ip(1)]).start()
    limit = HEADER_TIMEOUT_S + 3
    h.await_(lambda: t.opened > 0 and t.still_open() == 0, limit + 1)
    t.stop()
    slowest = max(t.closed_after, default=None)
    case.check(t.opened == 500 and t.still_open() == 0 and slowest is not None and slowest <= limit,
               f"500 header tricklers closed within {limit} s: {t.still_open()} of {t.opened} still "
               f"open after {limit + 1} s"
               + (f" ({len(t.closed_after)} closed, the last after {slowest:.1f} s)" if slowest else ""))


def healthz_answers(case, what, src="127.0.0.1"):
    started = time.monotonic()
    ex = h.exchange(case.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", src=src, wait=2,
                    until_closed=False)
    return case.check(ex.status == 200, f"{what}: GET /healthz from {src} answered 200 within 2 s: "
                      f"{ex!r} after {time.monotonic() - started:.1f} s")


def connection_flood(case):
    """4,800 idle connections from 8 addresses (600 each), past max_connections 4096: the
    per-IP limit keeps them to 8 x 256, so /healthz and valid events are still answered."""
    t = h.Trickle(case.port, 4800, b"", b"", sources=[h.attacker_ip(i) for i in range(8)]).start()
    h.await_(lambda: t.opened == 4800, 10)
    # what the bridge keeps of them, once it has refused the rest
    h.await_(lambda: t.still_open() <= 8 * PER_IP, 3)
    for i in range(3):
        healthz_answers(case, f"flood, probe {i + 1}")
        h.await_(lambda: False, 0.5)
    case.check(t.still_open() <= 8 * PER_IP,
               f"flood: at most 8 x {PER_IP} connections kept: {t.still_open()} of {t.opened} open")
    t.stop()


def per_ip_limit(case):
    """300 idle connections from 127.0.0.2: at most 256 stay open; another address is not
    affected by that one's limit."""
    t = h.Trickle(case.port, 300, b"", b"", sources=[h.attacker_ip(0)]).start()
    other = h.Trickle(case.port, 20, b"", b"", sources=[h.attacker_ip(1)]).start()
    h.await_(lambda: t.opened == 300 and t.still_open() <= PER_IP, 3)
    case.check(t.opened == 300 and t.still_open() <= PER_IP,
               f"{h.attacker_ip(0)}: at most {PER_IP} of 300 connections kept: {t.still_open()} open")
    case.check(other.still_open() == 20,
               f"{h.attacker_ip(1)}: its 20 connections kept: {other.still_open()} open")
    healthz_answers(case, "another address", src=h.attacker_ip(2))
    t.stop()
    other.stop()


CASES = [
    ("connections.header_trickle_defaults", header_trickle, DEFAULTS),
    ("connections.flood_defaults", connection_flood, DEFAULTS),
    ("connections.per_ip_limit_defaults", per_ip_limit, DEFAULTS),
]

if __name__ == "__main__":
    h.main(CASES)
