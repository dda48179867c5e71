"""hostile.py - the harness of the hostile-input suite (tests/hostile/test_*.py).

Each test_<finding>.py holds the cases of one finding of issue 10 and ends with
`hostile.main(CASES)`. A case runs against a real airudder-bridge of its own (the binary
under test, $ARB_BUILD_DIR/airudder-bridge) and the real shared Kafka broker; tests/hostile/
run.sh creates the topics and starts the file. Python 3 standard library only, raw sockets.

Around every case the harness
  - starts a bridge with the case's http.* settings and routes: "hidden.probe" and
    "attack.amplify" events go to the FORBIDDEN topic, every other event to MESSAGES, dead
    letters to DEADLETTER;
  - runs a valid client (from 127.0.0.1, two threads) posting the signed seed fixture
    (7 messages) for as long as the case runs, and checks that >= 99 % of its posts got 200
    with p99 under kafka.ack_timeout_ms (and that it got to post at all);
  - samples the bridge's VmRSS every 20 ms (and reads VmHWM) and checks the peak stayed
    under 64 MB above the baseline: VmRSS after 1.5 s of valid traffic, when the case starts. Past $HOSTILE_RSS_KILL_MB (default
    2048) the bridge is killed, so a runaway bridge cannot take the machine down;
  - counts the records each topic gained (high minus low watermark, with kcat, as
    tests/lib.sh's arb_topic_count): FORBIDDEN must gain none, MESSAGES 7 per valid 200 plus
    what the case expects, DEADLETTER what the case expects;
  - stops the bridge with SIGTERM and checks it exits 0 (a sanitizer report fails it).
Attackers connect from 127.0.0.2 and up (attacker_ip), never from the valid client's address.

Expected answers are those of issue 10 once fixed: framing problems 400
{"error":"bad_request",...} with Connection: close, a repeated signature header 401, an
event whose records are too large 413 event_too_large naming the limit, slow clients cut off
by http.header_timeout_s / http.body_timeout_s / http.body_min_rate. A setting the bridge does
not know yet is left out (so today's bridge still starts and shows how it behaves) and the
case fails on that alone as well.
"""

import json
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback

MB = 1024 * 1024
MEMORY_BOUND = 64 * MB
RSS_KILL = int(os.environ.get("HOSTILE_RSS_KILL_MB", "2048")) * MB
ACK_TIMEOUT_MS = 10000

SOURCE_DIR = os.environ.get("ARB_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.environ.get("ARB_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
TMP = os.environ.get("HOSTILE_TMP") or "/tmp"
SECRET = os.environ.get("ARB_SIGN_SECRET", "hostile-secret")
TOPICS = {
    "messages": os.environ.get("HOSTILE_MESSAGES", "hostile.messages"),
    "deadletter": os.environ.get("HOSTILE_DEADLETTER", "hostile.deadletter"),
    "forbidden": os.environ.get("HOSTILE_FORBIDDEN", "hostile.forbidden"),
}
SEED_PATH = os.path.join(SOURCE_DIR, "tests", "fixtures", "channel.message.sent.json")
with open(SEED_PATH, "rb") as _f:
    SEED = _f.read()
SEED_MESSAGES = len(json.loads(SEED)["messages"])

# The settings issue 10 adds; a bridge that refuses one of them as unknown runs without it.
NEW_KEYS = ("header_timeout_s", "body_timeout_s", "body_min_rate", "max_connections_per_ip",
            "max_unverified_bytes", "max_record_bytes", "max_records")


def log(*args):
    print(*args, flush=True)


def bootstrap():
    path = os.path.join(os.environ.get("ARB_KAFKA_DIR", os.path.join(BUILD_DIR, "kafka")),
                        "bootstrap")
    with open(path) as f:
        return f.read().strip()


# ---- signing and events ----

def sign(body, secret=SECRET):
    import hashlib
    import hmac
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event(name="channel.message.sent", call_id="hostile", messages=None, **fields):
    """An event as compact JSON bytes: the seed's envelope with the given changes."""
    seed = json.loads(SEED)
    seed["event"] = name
    seed["call_id"] = call_id
    seed.update(fields)
    if messages is not None:
        seed["messages"] = messages
    return json.dumps(seed, separators=(",", ":"), ensure_ascii=False).encode()


def hidden_event(call_id="hidden"):
    """The seed's messages, as an event routed to FORBIDDEN: it must never be stored."""
    return event("hidden.probe", call_id=call_id)


def post_bytes(body, sign_value=None, path="/v1/events", host="127.0.0.1", extra=b"",
               content_length=True, version="HTTP/1.1"):
    """A complete POST request as bytes; sign_value None signs body, False sends no header."""
    lines = [f"POST {path} {version}".encode(), b"Host: " + host.encode(),
             b"Content-Type: application/json"]
    if sign_value is None:
        sign_value = sign(body)
    if sign_value is not False:
        lines.append(b"X-AIRudder-Sign: " + (sign_value if isinstance(sign_value, bytes)
                                             else sign_value.encode()))
    if content_length:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    head = b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n"
    return head + body


# ---- raw HTTP ----

class Response:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def __repr__(self):
        return f"{self.status} {self.body[:120]!r}"


def parse_responses(data):
    """Every complete response in data, in order, and the bytes left over."""
    out = []
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, data
        head = data[:end].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", head[0])
        if not m:
            return out, data
        headers = []
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers.append((k.strip(), v.strip()))
        length = 0
        for k, v in headers:
            if k.lower() == "content-length" and v.isdigit():
                length = int(v)
        if len(data) < end + 4 + length:
            return out, data
        body = data[end + 4:end + 4 + length]
        out.append(Response(int(m.group(1)), m.group(2), headers, body))
        data = data[end + 4 + length:]


def connect(port, src="127.0.0.1", timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


class Exchange:
    """What came back on one connection: responses, whether the server closed it, when."""

    def __init__(self):
        self.responses, self.raw, self.closed, self.error = [], b"", False, None
        self.first_byte_s = None  # seconds from the end of sending to the first answer byte
        self.closed_s = None

    @property
    def status(self):
        return self.responses[0].status if self.responses else None

    def status_lines(self):
        return len(re.findall(rb"(?:^|\r\n)HTTP/1\.[01] \d{3}", self.raw))

    def __repr__(self):
        what = [repr(r) for r in self.responses] or ["no answer"]
        return "; ".join(what) + (" (closed)" if self.closed else " (still open)")


def exchange(port, data, src="127.0.0.1", wait=3.0, until_closed=True, pieces=None):
    """Send data (or each of pieces, in order), then read until the server closes the
    connection, or wait seconds pass with nothing more to read (until_closed False: until
    one complete response arrived)."""
    ex = Exchange()
    try:
        s = connect(port, src)
    except OSError as e:
        ex.error = f"connect: {e}"
        return ex
    try:
        for piece in pieces or [data]:
            s.sendall(piece)
    except OSError as e:
        ex.error = f"send: {e}"
    sent = time.monotonic()
    deadline = sent + wait
    s.settimeout(0.05)
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError as e:  # a reset: closed, after whatever came
            ex.error = ex.error or f"recv: {e}"
            ex.closed, ex.closed_s = True, time.monotonic() - sent
            break
        if not chunk:
            ex.closed, ex.closed_s = True, time.monotonic() - sent
            break
        if ex.first_byte_s is None:
            ex.first_byte_s = time.monotonic() - sent
        ex.raw += chunk
        ex.responses, _ = parse_responses(ex.raw)
        if ex.responses and not until_closed:
            break
        deadline = max(deadline, time.monotonic() + 0.5)  # keep reading while it talks
    s.close()
    return ex


# ---- the bridge ----

class Bridge:
    def __init__(self, name, http=None):
        self.name = name
        self.http = dict(http or {})
        self.port = free_port()
        self.conf = os.path.join(TMP, f"{name}.conf")
        self.log = os.path.join(TMP, f"{name}.log")
        self.unknown = []
        self.proc = None
        self.peak_rss = 0
        self.killed_at = None
        self.samples = 0
        self._stop = threading.Event()

    def write_conf(self, http):
        lines = [f'  listen = "127.0.0.1:{self.port}";']
        lines += [f"  {k} = {v};" for k, v in http.items()]
        with open(self.conf, "w") as f:
            f.write("http = {\n" + "\n".join(lines) + "\n};\n")
            f.write('signature = { secrets = [ "${ARB_SIGN_SECRET}" ]; };\n')
            f.write(f'kafka = {{ bootstrap = "{bootstrap()}"; ack_timeout_ms = {ACK_TIMEOUT_MS}; }};\n')
            f.write("routes = (\n"
                    f'  {{ event = "hidden.probe"; topic = "{TOPICS["forbidden"]}"; }},\n'
                    f'  {{ event = "attack.amplify"; topic = "{TOPICS["forbidden"]}"; }},\n'
                    f'  {{ event = "*"; topic = "{TOPICS["messages"]}"; }}\n);\n')
            f.write(f'deadletter = {{ topic = "{TOPICS["deadletter"]}"; }};\n')
            # The valid client posts the same bytes again and again; the dedup window would
            # answer the repeats without writing, and the accounting wants 7 records each.
            f.write("dedup = { window_s = 0; };\n")
            f.write('log = { level = "warn"; format = "text"; };\n')
            f.write("shutdown_timeout_s = 10;\n")

    def start(self):
        env = dict(os.environ, ARB_SIGN_SECRET=SECRET)
        # ASan's quarantine keeps freed memory for 256 MB by default: bounded memory would
        # look like growth. 16 MB still catches a use after free of recent allocations.
        if "ASAN_OPTIONS" in env or asan_build():
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=16"
        http = dict(self.http)
        self.write_conf(http)
        check = subprocess.run([bridge_binary(), "-t", "-c", self.conf], env=env,
                               capture_output=True, text=True)
        if check.returncode != 0:
            self.unknown = [k for k in http if f"unknown key 'http.{k}'" in check.stderr]
            if not self.unknown:
                raise RuntimeError(f"bridge -t refused {self.conf}:\n{check.stderr}")
            for k in self.unknown:
                del http[k]
            self.write_conf(http)
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([bridge_binary(), "-c", self.conf], env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"bridge exited {self.proc.returncode} at start; see {self.log}")
            ex = exchange(self.port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", wait=2,
                          until_closed=False)
            if ex.status == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"bridge not ready in 30 s; see {self.log}")
            time.sleep(0.1)
        self.watch = threading.Thread(target=self._watch, daemon=True)
        self.watch.start()

    def status(self, field):
        """VmRSS / VmHWM and such, in bytes; 0 once the process is gone."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _watch(self):
        while not self._stop.is_set() and self.proc.poll() is None:
            rss = self.status("VmRSS")
            self.samples += 1
            self.peak_rss = max(self.peak_rss, rss)
            if rss > RSS_KILL and self.killed_at is None:
                self.killed_at = rss
                log(f"  watchdog: bridge RSS {rss // MB} MB > {RSS_KILL // MB} MB: SIGKILL")
                self.proc.kill()
            self._stop.wait(0.02)

    def reset_peak(self):
        """Start measuring the peak now (VmHWM too: clear_refs 5 resets it); VmRSS now."""
        try:
            with open(f"/proc/{self.proc.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass
        self.peak_rss = self.status("VmRSS")
        return self.peak_rss

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, wait (SIGKILL after 30 s); the exit status."""
        self._stop.set()
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode

    def log_tail(self, n=20):
        """The last n distinct lines of the log (a line repeated is shown once, counted)."""
        try:
            with open(self.log, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return ""
        out = []
        for line in lines:
            text = line.split(" ", 1)[-1]  # without the timestamp
            if out and out[-1][1] == text:
                out[-1][2] += 1
            else:
                out.append([line, text, 1])
        return "\n".join(l + (f"  [x{c}]" if c > 1 else "") for l, _, c in out[-n:])


def bridge_binary():
    return os.path.join(BUILD_DIR, "airudder-bridge")


def asan_build():
    try:
        with open(bridge_binary(), "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


_ports = set()


def free_port():
    while True:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _ports:
            _ports.add(port)
            return port


# ---- Kafka ----

_partitions = {}


def topic_count(topic):
    """Records in topic now: the sum over its partitions of high minus low watermark."""
    if topic not in _partitions:
        out = subprocess.run(["kcat", "-b", bootstrap(), "-L", "-t", topic, "-m", "10"],
                             capture_output=True, text=True).stdout
        _partitions[topic] = re.findall(r"^\s*partition (\d+), leader", out, re.M)
        if not _partitions[topic]:
            raise RuntimeError(f"no topic {topic}: {out}")
    total = 0
    for when, sign_ in (("-1", 1), ("-2", -1)):
        args = ["kcat", "-b", bootstrap(), "-Q"]
        for p in _partitions[topic]:
            args += ["-t", f"{topic}:{p}:{when}"]
        out = subprocess.run(args, capture_output=True, text=True)
        offsets = re.findall(r"offset (\d+)\s*$", out.stdout, re.M)
        if len(offsets) != len(_partitions[topic]):
            raise RuntimeError(f"kcat -Q {topic}: {out.stdout}{out.stderr}")
        total += sign_ * sum(int(o) for o in offsets)
    return total


def counts():
    return {k: topic_count(t) for k, t in TOPICS.items()}


# ---- the valid client ----

class ValidClient:
    """Posts the signed seed from 127.0.0.1 over fresh connections, in `threads` loops,
    until stopped; every post's status (None: no answer) and latency is kept."""

    def __init__(self, port, threads=2, pause=0.02):
        self.port, self.pause = port, pause
        self.results = []  # (status, seconds)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self.request = post_bytes(SEED)
        self.threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def _loop(self):
        while not self._stop.is_set():
            started = time.monotonic()
            ex = exchange(self.port, self.request, wait=ACK_TIMEOUT_MS / 1000 + 2,
                          until_closed=False)
            with self.lock:
                self.results.append((ex.status, time.monotonic() - started))
            self._stop.wait(self.pause)

    def stop(self):
        self._stop.set()
        for t in self.threads:
            t.join()

    def mark(self):
        """From now on summary() counts: the posts before were the baseline's."""
        with self.lock:
            self.marked = len(self.results)

    def ok(self):
        """Posts answered 200, all of them: each wrote the seed's records."""
        return sum(1 for s, _ in self.results if s == 200)

    def summary(self):
        """Posts since mark(), those answered 200, the p99 latency, the count per status."""
        results = self.results[getattr(self, "marked", 0):]
        n = len(results)
        lat = sorted(t for _, t in results)
        p99 = lat[int(0.99 * (n - 1))] if n else float("inf")
        statuses = {}
        for s, _ in results:
            statuses[s] = statuses.get(s, 0) + 1
        return n, sum(1 for s, _ in results if s == 200), p99, statuses


# ---- attackers ----

def attacker_ip(i):
    """The i-th attacker address: 127.0.0.2, 127.0.0.3, ... (never the valid client's)."""
    return f"127.0.{(i + 2) // 256}.{(i + 2) % 256}"


class Trickle:
    """Many connections, each sending `head` (or head[i], when a list) at once and then
    `drip` one byte at a time every `interval` seconds, from the given source addresses in
    turn. Records when the
    server closed each (reset, FIN or an answer). Runs in a thread until stop()."""

    def __init__(self, port, count, head, drip, interval=1.0, sources=(attacker_ip(0),)):
        self.port, self.count, self.head, self.drip = port, count, head, drip
        self.interval, self.sources = interval, sources
        self.socks = {}
        self.opened = 0
        self.refused = 0
        self.closed_after = []  # seconds from the connection's start to the server closing it
        self.answers = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def _run(self):
        sel = selectors.DefaultSelector()
        for i in range(self.count):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((self.sources[i % len(self.sources)], 0))
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", self.port))
            except OSError:
                self.refused += 1
                s.close()
                continue
            self.socks[s] = {"start": time.monotonic(), "sent": 0, "head": False,
                             "bytes": self.head[i] if isinstance(self.head, list) else self.head}
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
        self.opened = len(self.socks)
        next_drip = time.monotonic()
        while not self._stop.is_set() and self.socks:
            now = time.monotonic()
            drip_now = now >= next_drip
            if drip_now:
                next_drip = now + self.interval
            for key, events in sel.select(timeout=0.05):
                s = key.fileobj
                st = self.socks.get(s)
                if st is None:
                    continue
                if events & selectors.EVENT_READ:
                    try:
                        data = s.recv(4096)
                    except OSError:
                        data = b""
                    if data:
                        self.answers.append(data[:200])
                    self._closed(sel, s)
                    continue
                if events & selectors.EVENT_WRITE and not st["head"]:
                    try:
                        s.sendall(st["bytes"])
                        st["head"] = True
                        sel.modify(s, selectors.EVENT_READ)
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._closed(sel, s)
            if drip_now:
                for s, st in list(self.socks.items()):
                    if not st["head"] or st["sent"] >= len(self.drip):
                        continue
                    try:
                        s.send(self.drip[st["sent"]:st["sent"] + 1])
                        st["sent"] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        self._closed(sel, s)
        for s in list(self.socks):
            s.close()
        sel.close()

    def _closed(self, sel, s):
        st = self.socks.pop(s)
        self.closed_after.append(time.monotonic() - st["start"])
        sel.unregister(s)
        s.close()

    def still_open(self):
        return len(self.socks)

    def stop(self):
        self._stop.set()
        self.thread.join()


def await_(cond, timeout, step=0.05):
    """Wait until cond() is true or timeout seconds pass; cond()'s last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


# ---- running cases ----

class Case:
    """The context a case function gets: its bridge, and check() to record what holds."""

    def __init__(self, name, bridge):
        self.name, self.bridge = name, bridge
        self.port = bridge.port
        self.checks = []  # (ok, text)
        self.expect = {"messages": 0, "deadletter": 0}  # records the case itself adds
        self.expect_any = {}  # topic -> set of acceptable counts (instead of expect)

    def check(self, ok, text):
        self.checks.append((bool(ok), text))
        log(f"  {'ok' if ok else 'FAIL'}: {text}")
        return ok

    def status_is(self, ex, status, error=None, what="", close=False, detail=None):
        """One answer of status (with JSON error, a detail matching regex detail, and
        Connection: close when close), nothing after it."""
        r = ex.responses[0] if ex.responses else None
        ok = r is not None and r.status == status
        body = r.json() if r else None
        if ok and error is not None:
            ok = isinstance(body, dict) and body.get("error") == error
        if ok and detail is not None:
            ok = isinstance(body, dict) and isinstance(body.get("detail"), str) and \
                re.search(detail, body["detail"]) is not None
        if ok and close:
            ok = (r.header("Connection") or "").lower() == "close" and ex.closed
        if ok and len(ex.responses) > 1:
            ok = False
        want = f"{status}" + (f" {error}" if error else "") + (" + Connection: close, closed" if close else "")
        return self.check(ok, f"{what}: want {want}, got {ex!r}")


def run_case(name, fn, http, valid=True):
    log(f"== {name}")
    bridge = Bridge(name, http)
    case = Case(name, bridge)
    client = None
    try:
        bridge.start()
        for _ in range(5):  # warm-up: allocator, producer, connections
            exchange(bridge.port, post_bytes(SEED), wait=5, until_closed=False)
        before = counts()
        if valid:  # the baseline is the steady state under valid traffic
            client = ValidClient(bridge.port).start()
        time.sleep(1.5)
        base = bridge.reset_peak()
        if client:
            client.mark()
        started = time.monotonic()
        fn(case)
        await_(lambda: False, 2 - (time.monotonic() - started))  # >= 2 s of valid posts
        elapsed = time.monotonic() - started
        if client:
            client.stop()
        case.check(bridge.alive(), "the bridge is still running"
                   + (f" (killed by the watchdog at {bridge.killed_at // MB} MB)" if bridge.killed_at else
                      f" (exit {bridge.proc.returncode})" if not bridge.alive() else ""))
        peak = max(bridge.peak_rss, bridge.status("VmHWM") if bridge.alive() else 0)
        if bridge.killed_at:
            peak = max(peak, bridge.killed_at)
        case.check(peak - base < MEMORY_BOUND,
                   f"memory: peak {peak / MB:.0f} MB, {(peak - base) / MB:.0f} MB above the "
                   f"baseline {base / MB:.0f} MB (bound {MEMORY_BOUND // MB} MB)")
        rc = bridge.stop()
        if not bridge.killed_at:
            case.check(rc == 0, f"the bridge exits 0 on SIGTERM (got {rc})")
        after = counts()
        delta = {k: after[k] - before[k] for k in after}
        ok200 = 0
        if client:
            ok200 = client.ok()
            n, n200, p99, statuses = client.summary()
            rate = n200 / n if n else 0
            case.check(n >= 10 and rate >= 0.99 and p99 < ACK_TIMEOUT_MS / 1000,
                       f"valid client over {elapsed:.1f} s: {n200}/{n} got 200 ({100 * rate:.1f} %, "
                       f"want >= 99 % of >= 10), p99 {p99 * 1000:.0f} ms (want < {ACK_TIMEOUT_MS} ms); "
                       f"statuses {statuses}")
        case.check(delta["forbidden"] == 0,
                   f"nothing hidden executed: {delta['forbidden']} records in {TOPICS['forbidden']}")
        # A valid post that got no 200 (no answer, 503) may or may not have written its records.
        unsure = len(client.results) - ok200 if client else 0
        valid_records = range(SEED_MESSAGES * ok200, SEED_MESSAGES * (ok200 + unsure) + 1)
        extra = case.expect_any.get("messages", {case.expect["messages"]})
        ok = any(delta["messages"] - x in valid_records for x in extra)
        want = (f"{SEED_MESSAGES} x {ok200} valid" + (f" (+ up to {SEED_MESSAGES} x {unsure} unanswered)" if unsure else "")
                + f" + {' or '.join(map(str, sorted(extra)))}")
        case.check(ok, f"records in {TOPICS['messages']}: {delta['messages']}, want {want}")
        want_dl = case.expect_any.get("deadletter", {case.expect["deadletter"]})
        case.check(delta["deadletter"] in want_dl,
                   f"dead letters: {delta['deadletter']}, want {' or '.join(map(str, sorted(want_dl)))}")
    except Exception:  # a harness problem, or the bridge would not start: the case fails
        case.check(False, "case raised:\n" + traceback.format_exc())
    finally:
        if client:
            client.stop()
        if bridge.proc is not None and bridge.proc.poll() is None:
            bridge.stop()
    if bridge.unknown:  # last, so that the summary shows how the case failed first
        case.check(False, "the bridge knows " + ", ".join("http." + k for k in bridge.unknown)
                   + " (it refused them as unknown keys: the case ran without them)")
    failed = [t for ok, t in case.checks if not ok]
    if failed:
        log(f"  --- {name}: last lines of {bridge.log}\n{bridge.log_tail()}")
    return name, not failed, failed


def main(cases):
    """Run cases, a list of (name, function, http settings[, valid client]); a name given on
    the command line runs only the cases whose names contain it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the bridge inherits it too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    wanted = sys.argv[1:]
    results = []
    for c in cases:
        name = c[0]
        if wanted and not any(w in name for w in wanted):
            continue
        results.append(run_case(*c))
    log("\n== summary")
    for name, ok, failed in results:
        log(f"{'PASS' if ok else 'FAIL'}  {name}" + ("" if ok else "  <- " + failed[0].splitlines()[0][:150]))
    npass = sum(1 for _, ok, _ in results if ok)
    log(f"{npass} passed, {len(results) - npass} failed")
    sys.exit(0 if results and npass == len(results) else 1)
