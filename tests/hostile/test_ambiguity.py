#!/usr/bin/env python3
"""Finding 6 of issue 10: one meaning for every request.

Two X-AIRudder-Sign headers are refused (401), whatever their values; whitespace around the
signature is trimmed on both sides; a NUL in the path or in a header value is a 400 (the
events endpoint never sees `/v1/events%00.json`); HTTP/1.1 without a Host, or with two, is a
400; a chunked body is answered 413 as soon as it passes the limit, not at its end. The
signed bodies that must not be stored are events routed to the FORBIDDEN topic."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile as h  # noqa: E402

DEFAULTS = {}
HIDDEN = h.hidden_event("ambiguous")
GOOD = h.sign(HIDDEN)
BAD = "0" * 64


def request(body, headers, path=b"/v1/events", host=True, version=b"HTTP/1.1"):
    lines = [b"POST " + path + b" " + version]
    if host:
        lines.append(b"Host: x")
    lines += [b"Content-Type: application/json", b"Content-Length: %d" % len(body)]
    lines += headers
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def send(case, data, wait=3):
    return h.exchange(case.port, data, src=h.attacker_ip(0), wait=wait)


def two_signature_headers(case):
    for first, second in ((GOOD, BAD), (BAD, GOOD), (GOOD, GOOD)):
        names = {GOOD: "good", BAD: "bad"}
        ex = send(case, request(HIDDEN, [b"X-AIRudder-Sign: " + first.encode(),
                                         b"X-AIRudder-Sign: " + second.encode()]))
        case.status_is(ex, 401, "invalid_signature",
                       f"X-AIRudder-Sign {names[first]}, then {names[second]}")


def signature_whitespace(case):
    sig = h.sign(h.SEED).encode()
    for what, value in (("leading", b"  " + sig), ("trailing", sig + b"  "),
                        ("both sides", b" \t" + sig + b"\t "), ("trailing tab", sig + b"\t")):
        ex = h.exchange(case.port, request(h.SEED, [b"X-AIRudder-Sign: " + value]),
                        src=h.attacker_ip(0), wait=12, until_closed=False)
        case.status_is(ex, 200, None, f"signature with {what} whitespace")
    case.expect["messages"] = 4 * h.SEED_MESSAGES


def nul_in_path(case):
    """%00 in the path is refused. (A raw NUL byte is invisible to the bridge: libmicrohttpd
    0.9.75 hands the path over as a C string, cut there. README, Operations.)"""
    for path in (b"/v1/events%00.json", b"/v1/events%00", b"/v1%00/events"):
        ex = send(case, request(HIDDEN, [b"X-AIRudder-Sign: " + GOOD.encode()], path=path))
        case.status_is(ex, 400, "bad_request", f"POST {path!r}", close=True)


def host_header(case):
    signed = [b"X-AIRudder-Sign: " + GOOD.encode()]
    ex = send(case, request(HIDDEN, signed, host=False))
    case.status_is(ex, 400, "bad_request", "HTTP/1.1 POST without Host", close=True)
    ex = send(case, request(HIDDEN, signed + [b"Host: y"]))
    case.status_is(ex, 400, "bad_request", "HTTP/1.1 POST with two Hosts", close=True)
    ex = send(case, b"GET /healthz HTTP/1.1\r\n\r\n")
    case.status_is(ex, 400, "bad_request", "HTTP/1.1 GET /healthz without Host", close=True)
    ex = send(case, b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    case.status_is(ex, 400, "bad_request", "HTTP/1.1 GET /healthz with two Hosts", close=True)
    ex = h.exchange(case.port, b"GET /healthz HTTP/1.0\r\n\r\n", src=h.attacker_ip(0), wait=2)
    case.status_is(ex, 200, None, "HTTP/1.0 GET /healthz without Host (allowed)")


def chunked_over_limit(case):
    """Chunks of 64 KiB past 1 MiB + 64 KiB (more than any max_body_bytes default), no
    terminating chunk: within 2 s of passing the limit, a 413, or (libmicrohttpd 0.9.75
    cannot answer in the middle of an upload) the connection closed; never the body read on."""
    s = h.connect(case.port, h.attacker_ip(0))
    s.sendall(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"X-AIRudder-Sign: " + BAD.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    sent, passed_at, raw, closed = 0, None, b"", False
    s.settimeout(0.01)
    try:
        while sent < 1048576 + 0x10000:
            s.sendall(chunk)
            sent += 0x10000
            if sent > 1048576 and passed_at is None:
                passed_at = time.monotonic()
            try:
                raw += s.recv(65536)
            except socket.timeout:
                pass
    except OSError:
        closed = True  # the bridge closed while we sent
    if passed_at is None:
        passed_at = time.monotonic()
    s.settimeout(0.1)
    deadline = passed_at + 2
    while time.monotonic() < deadline and b"\r\n\r\n" not in raw:
        try:
            data = s.recv(65536)
            if not data:
                closed = True
                break
            raw += data
        except socket.timeout:
            pass
        except OSError:
            closed = True
            break
    s.close()
    responses, _ = h.parse_responses(raw)
    r = responses[0] if responses else None
    refused = (r is not None and r.status == 413 and
               (r.json() or {}).get("error") == "body_too_large") or (r is None and closed)
    case.check(refused and time.monotonic() <= deadline + 0.5,
               "chunked body past the limit, unterminated: want 413 body_too_large or the "
               f"connection closed within 2 s, got {repr(r) if r else 'no answer'} "
               f"({'closed' if closed else 'still open'})")


CASES = [
    ("ambiguity.two_signature_headers", two_signature_headers, DEFAULTS),
    ("ambiguity.signature_whitespace", signature_whitespace, DEFAULTS),
    ("ambiguity.nul_in_path", nul_in_path, DEFAULTS),
    ("ambiguity.host_header", host_header, DEFAULTS),
    ("ambiguity.chunked_over_limit", chunked_over_limit, DEFAULTS),
]

if __name__ == "__main__":
    h.main(CASES)
