#!/usr/bin/env python3
"""Finding 3 of issue 10: one signed event must not cost more than a bound.

Every record carries the whole envelope, so a big envelope times many messages multiplies.
Past http.max_record_bytes (total record bytes, default 8 MiB) or http.max_records (default
10,000) an event is refused before anything is produced: 413 {"error":"event_too_large",
"detail": naming the limit}, in under a second, costing < 64 MB, its body kept in the
dead-letter topic, and not one record written (the events route to the FORBIDDEN topic)."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

DEFAULTS = {}


def amplified(call_id, pad, count):
    return h.event("attack.amplify", call_id=call_id, pad="x" * pad,
                   messages=[{"content": {}}] * count)


def refused_quickly(case, body, what):
    started = time.monotonic()
    ex = h.exchange(case.port, h.post_bytes(body), src=h.attacker_ip(0), wait=15,
                    until_closed=False)
    took = ex.first_byte_s if ex.first_byte_s is not None else time.monotonic() - started
    case.status_is(ex, 413, "event_too_large", f"{what} ({len(body):,} bytes)",
                   detail=r"max_record")
    case.check(ex.first_byte_s is not None and took < 1.0,
               f"{what}: answered in under 1 s: {'after %.2f s' % took if ex.first_byte_s is not None else 'no answer after %.1f s' % took}")
    case.expect["deadletter"] = 1  # the body, whole: it fits in a dead letter


def wide_envelope_many_messages(case):
    """950 KB: a 500 KB string field and 30,000 tiny messages (15 GB of records)."""
    refused_quickly(case, amplified("amp-30000", 500000, 30000), "500 KB field x 30,000 messages")


def big_envelope_2500(case):
    """A 500 KB envelope x 2,500 messages (1.25 GB of records, each under 1 MB)."""
    refused_quickly(case, amplified("amp-2500", 500000, 2500), "500 KB envelope x 2,500 messages")


CASES = [
    ("amplification.500k_field_x_30000", wide_envelope_many_messages, DEFAULTS),
    ("amplification.500k_envelope_x_2500", big_envelope_2500, DEFAULTS),
]

if __name__ == "__main__":
    h.main(CASES)
