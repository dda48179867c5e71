#!/usr/bin/env python3
"""Finding 5 of issue 10: strict framing, so nothing can be smuggled behind a proxy.

A request whose framing is ambiguous (Content-Length with Transfer-Encoding, two different
Content-Lengths, `Content-Length : N`, an unknown transfer-coding, a malformed
Content-Length) is answered once, 400 {"error":"bad_request","detail":...} with
Connection: close, at once, and the connection is closed: the signed POST hidden in its body
(an event routed to the FORBIDDEN topic) is never executed."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

DEFAULTS = {}
HIDDEN = h.post_bytes(h.hidden_event("smuggled"))  # a complete, validly signed POST
START = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def refused(case, request, what, statuses=(400,), ours=True):
    """The request is refused at once and the connection closed. ours: the answer is the
    bridge's own (JSON with a detail, one status line); libmicrohttpd answers a malformed
    Content-Length itself, before the bridge sees the request."""
    ex = h.exchange(case.port, request, src=h.attacker_ip(0), wait=3)
    r = ex.responses[0] if ex.responses else None
    error = {400: "bad_request", 413: "body_too_large"}.get(r.status if r else 400, "bad_request")
    if r is not None and r.status in statuses:
        status = r.status
    else:
        status = statuses[0]
    if not ours:
        case.check(r is not None and r.status in statuses and ex.closed,
                   f"{what}: want {statuses} and the connection closed, got {ex!r}")
    else:
        case.status_is(ex, status, error, what, close=True)
    if ours and r is not None and r.status == 400:
        body = r.json()
        case.check(isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"],
                   f"{what}: the 400 has a detail: {r.body[:100]!r}")
    if ours:
        case.check(ex.status_lines() <= 1, f"{what}: one status line: {ex.status_lines()} sent")
    case.check(ex.first_byte_s is not None and ex.first_byte_s < 2,
               f"{what}: answered at once: "
               + ("after %.2f s" % ex.first_byte_s if ex.first_byte_s is not None else "no answer in 3 s"))


def cl_te(case):
    inner = b"0\r\n\r\n" + HIDDEN
    refused(case, START + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % len(inner)
            + inner, "Content-Length + Transfer-Encoding")
    refused(case, START + b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n" % len(inner)
            + inner, "Transfer-Encoding + Content-Length")


def two_content_lengths(case):
    refused(case, START + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n" % len(HIDDEN) + HIDDEN,
            "Content-Length 0 and N")
    refused(case, START + b"Content-Length: %d\r\nContent-Length: 0\r\n\r\n" % len(HIDDEN) + HIDDEN,
            "Content-Length N and 0")


def space_before_colon(case):
    refused(case, START + b"Content-Length : %d\r\n\r\n" % len(HIDDEN) + HIDDEN,
            "'Content-Length : N'")


def unknown_codings(case):
    for coding in (b"gzip", b"identity", b"gzip, chunked", b"chunked, gzip", b"xchunked"):
        refused(case, START + b"Transfer-Encoding: " + coding + b"\r\n\r\n" + HIDDEN,
                f"Transfer-Encoding: {coding.decode()}")


def bad_content_lengths(case):
    """libmicrohttpd 0.9.75 answers these itself (its own HTML 400, with the status line
    twice: a defect of that version, README Operations), before the bridge sees them: what
    the bridge can promise is the refusal, at once, the connection closed, nothing run."""
    for value in (b"abc", b"-1", b"+5", b"0x10", b"1 2", b"5,5", b""):
        refused(case, START + b"Content-Length: " + value + b"\r\n\r\n{}",
                f"Content-Length: {value.decode()!r}", ours=False)
    for value in (b"99999999999999999999999", b"18446744073709551616"):  # overflow
        refused(case, START + b"Content-Length: " + value + b"\r\n\r\n{}",
                f"Content-Length: {value.decode()}", statuses=(400, 413), ours=False)


def request_in_body(case):
    """Control: a POST whose (unsigned) body is a whole signed request is one request: 401,
    and the request inside is just bytes."""
    outer = START + b"Content-Length: %d\r\n\r\n" % len(HIDDEN) + HIDDEN
    ex = h.exchange(case.port, outer, src=h.attacker_ip(0), wait=2, until_closed=False)
    case.status_is(ex, 401, "invalid_signature", "signed request inside an unsigned body")


CASES = [
    ("smuggling.cl_te", cl_te, DEFAULTS),
    ("smuggling.two_content_lengths", two_content_lengths, DEFAULTS),
    ("smuggling.space_before_colon", space_before_colon, DEFAULTS),
    ("smuggling.unknown_transfer_codings", unknown_codings, DEFAULTS),
    ("smuggling.bad_content_length_status_twice", bad_content_lengths, DEFAULTS),
    ("smuggling.request_in_body_control", request_in_body, DEFAULTS),
]

if __name__ == "__main__":
    h.main(CASES)
