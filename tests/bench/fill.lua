-- fill.lua: wrk script POSTing the seed event with a new call_id on every request, to fill a
-- topic with many conversations for the replay benchmark (the bridge runs with
-- signature.mode = "off" for it: wrk cannot sign each body).
--   BENCH_BODY  the seed event
--   BENCH_DIR   tests/bench, for result.lua
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local template = file:read("*a")
file:close()
local prefix = ""
local counter = 0

function setup(thread)
  thread:set("prefix", tostring(math.random(100000, 999999)))
end

function init(args)
  prefix = wrk.thread:get("prefix") or tostring(math.random(100000, 999999))
end

function request()
  counter = counter + 1
  local body = template:gsub("66b4d7507d5a6618497600326f7b064b", "bench-" .. prefix .. "-" .. counter, 1)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end

dofile(os.getenv("BENCH_DIR") .. "/result.lua")
