-- result.lua: the done() hook both wrk scripts share; one line for tests/bench/run.sh:
--   RESULT requests=N duration_us=N non2xx=N errors=N p50_ms=X p99_ms=X
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d non2xx=%d errors=%d p50_ms=%.3f p99_ms=%.3f\n",
    summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
