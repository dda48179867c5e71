#!/usr/bin/env python3
"""Finding 1 of issue 10: unsigned clients must not exhaust the in-flight budget.

Bodies count against the budget as they arrive, not as declared, and a body slower than
http.body_min_rate after http.body_timeout_s is cut off; so neither a few slow bodies
declaring 1 MB nor a thousand declaring 16 bytes keep valid signed events from getting 200.
The attackers send a wrong signature: they are refused in any case, the point is what they
hold while their bodies trickle in."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

# Short deadlines keep the suite fast; test_connections.py runs on the defaults.
BODY_TIMEOUT_S = 3
FAST = {"header_timeout_s": 2, "body_timeout_s": BODY_TIMEOUT_S}
# the body deadline, plus what 16384 bytes/s would add for the byte or two received, plus slack
CUT_OFF_S = BODY_TIMEOUT_S + 3


def head(length):
    return (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-AIRudder-Sign: {'0' * 64}\r\nContent-Length: {length}\r\n\r\n").encode()


def under_attack(case, trickle, what):
    """Keep the valid client going while the attackers trickle; they must be cut off."""
    started = time.monotonic()
    trickle.start()
    h.await_(lambda: trickle.opened > 0 and trickle.still_open() == 0, CUT_OFF_S + 1)
    h.await_(lambda: False, max(0.0, 3 - (time.monotonic() - started)))  # >= 3 s of valid posts
    trickle.stop()
    slowest = max(trickle.closed_after, default=None)
    case.check(trickle.opened == trickle.count and trickle.still_open() == 0 and
               slowest is not None and slowest <= CUT_OFF_S,
               f"{what}: all {trickle.count} cut off within {CUT_OFF_S} s; "
               f"{trickle.still_open()} of {trickle.opened} still open after "
               f"{time.monotonic() - started:.1f} s"
               + (f" ({len(trickle.closed_after)} closed by the bridge, the last after {slowest:.1f} s)"
                  if slowest is not None else ""))


def baseline(case):
    """No attack: the valid client alone meets the thresholds on this build."""
    h.await_(lambda: False, 3)


def slow_unsigned_bodies(case):
    """17 connections declaring 999,000 bytes and 400 declaring 4,000 (together more than
    the 16 MiB of max_in_flight_bytes, leaving less than the seed's 5,365 bytes), sending
    one byte a second, from 4 addresses."""
    heads = [head(999000)] * 17 + [head(4000)] * 400
    t = h.Trickle(case.port, len(heads), heads, b"{" + b" " * 200, interval=1.0,
                  sources=[h.attacker_ip(i) for i in range(4)])
    under_attack(case, t, "417 slow bodies declaring 17 MB")


def many_small_declared(case):
    """1,010 connections (more than max_in_flight) declaring 16 bytes, one byte a second,
    spread over 8 addresses so that the per-IP limit alone does not stop them."""
    t = h.Trickle(case.port, 1010, head(16), b"{" + b" " * 15, interval=1.0,
                  sources=[h.attacker_ip(i) for i in range(8)])
    under_attack(case, t, "1,010 slow 16-byte bodies")


CASES = [
    ("budget.baseline", baseline, {}),
    ("budget.slow_unsigned_bodies", slow_unsigned_bodies, FAST),
    ("budget.many_small_declared", many_small_declared, FAST),
]

if __name__ == "__main__":
    h.main(CASES)
