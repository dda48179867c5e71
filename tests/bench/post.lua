-- post.lua: wrk script POSTing one signed body to every connection, optionally paced.
--   BENCH_BODY  file with the body (sent byte for byte)
--   BENCH_SIGN  X-AIRudder-Sign value ("" = no header)
--   BENCH_KEY   Idempotency-Key value ("" = no header)
--   BENCH_INTERVAL_MS  pause of each connection between an answer and its next request
--                      (0 or unset = as fast as possible; run.sh calibrates it for a rate)
--   BENCH_DIR   tests/bench, for result.lua (the RESULT line run.sh reads)

local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local sign = os.getenv("BENCH_SIGN") or ""
if sign ~= "" then wrk.headers["X-AIRudder-Sign"] = sign end
local key = os.getenv("BENCH_KEY") or ""
if key ~= "" then wrk.headers["Idempotency-Key"] = key end

local interval_ms = tonumber(os.getenv("BENCH_INTERVAL_MS") or "0") or 0

function delay()
  return interval_ms
end

dofile(os.getenv("BENCH_DIR") .. "/result.lua")
