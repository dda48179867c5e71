#!/usr/bin/env python3
"""Finding 4 of issue 10: no body gets a 503 that a retry cannot cure.

librdkafka refuses a record or a dead letter over message.max.bytes (1,000,000) on the
client side; the bridge answered 503, so AIRudder would retry forever. On the defaults every
body now gets an answer that holds: stored (200, or 400/422 with the body dead-lettered) or
refused for good (413 event_too_large naming the limit, or 413 body_too_large); the same
answer twice, never 503, and never a record of a refused event. Bodies just under 1,000,000
bytes (whose record or dead letter passes it by its overhead) and between 1,000,000 and
1,048,576 (the old max_body_bytes) are tried."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

DEFAULTS = {}


def valid_of_size(size):
    """A valid event of one message whose text pads it to exactly size bytes."""
    def build(pad):
        return h.event("big.event", call_id=f"big-{size}",
                       messages=[{"msg_id": "m0", "content": {"type": "text", "text": "x" * pad}}])
    return build(size - len(build(0)))


def invalid_of_size(size):
    """Signed, not JSON (unterminated), exactly size bytes."""
    start = b'{"event":"big.invalid","call_id":"big-invalid","pad":"'
    return start + b"x" * (size - len(start))


def twice(case, body, valid):
    what = f"{'valid' if valid else 'invalid'} {len(body):,}-byte body"
    exs = [h.exchange(case.port, h.post_bytes(body), src=h.attacker_ip(0), wait=15,
                      until_closed=False) for _ in range(2)]
    statuses = [e.status for e in exs]
    r = exs[0].responses[0] if exs[0].responses else None
    body_json = (r.json() or {}) if r else {}
    error = body_json.get("error") if isinstance(body_json, dict) else None
    case.check(statuses[0] == statuses[1], f"{what}: the same answer twice: {statuses}")
    stored = {200} if valid else {400, 422}
    case.check(statuses[0] in stored | {413},
               f"{what}: stored ({'/'.join(map(str, sorted(stored)))}) or refused for good (413), "
               f"never a 503 a retry cannot cure: got {exs[0]!r}")
    if statuses[0] == 413:
        case.check(error in ("event_too_large", "body_too_large"),
                   f"{what}: 413 says event_too_large or body_too_large: {error}")
        if error == "event_too_large":
            case.check(re.search(r"max|limit|\d", str(body_json.get("detail", ""))),
                       f"{what}: event_too_large names the limit: {body_json.get('detail')!r}")
            case.expect_any["deadletter"] = {0, 2}  # kept when it fits
        else:
            case.expect["deadletter"] = 0
        case.expect["messages"] = 0
    elif statuses[0] in stored:
        if valid:
            case.expect["messages"] = 2  # one message, posted twice
        else:
            case.expect["deadletter"] = 2


CASES = [
    ("kafka_limits.record_over_message_max", lambda c: twice(c, valid_of_size(999990), True), DEFAULTS),
    ("kafka_limits.deadletter_over_message_max", lambda c: twice(c, invalid_of_size(999990), False), DEFAULTS),
    ("kafka_limits.valid_body_in_window", lambda c: twice(c, valid_of_size(1040000), True), DEFAULTS),
    ("kafka_limits.invalid_body_in_window", lambda c: twice(c, invalid_of_size(1040000), False), DEFAULTS),
]

if __name__ == "__main__":
    h.main(CASES)
