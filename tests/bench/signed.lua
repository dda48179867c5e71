-- signed.lua: wrk script POSTing a new event on every request, as AIRudder does: the seed with
-- a call_id of its own (same length, so the same size), signed with X-AIRudder-Sign. The
-- HMAC comes from libcrypto through LuaJIT's FFI (wrk runs LuaJIT).
--   BENCH_BODY    the seed event
--   BENCH_SECRET  the signing secret ("" = no signature header)
--   BENCH_INTERVAL_MS  pause of each connection between an answer and its next request
--                      (0 or unset = as fast as possible; run.sh calibrates it for a rate)
--   BENCH_DIR     tests/bench, for result.lua
local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len, const unsigned char *data,
                    size_t data_len, unsigned char *out, unsigned int *out_len);
]]
local ok, crypto = pcall(ffi.load, "crypto")
if not ok then crypto = ffi.load("libcrypto.so.3") end

local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local template = file:read("*a")
file:close()
local seed_id = "66b4d7507d5a6618497600326f7b064b"
local at = assert(template:find(seed_id, 1, true), "the seed's call_id is not in BENCH_BODY")
local head, tail = template:sub(1, at - 1), template:sub(at + #seed_id)
local secret = os.getenv("BENCH_SECRET") or ""

local hex = {}
for i = 0, 255 do hex[i] = string.format("%02x", i) end
local digest = ffi.new("unsigned char[32]")
local digest_len = ffi.new("unsigned int[1]")
local function sign(body)
  crypto.HMAC(crypto.EVP_sha256(), secret, #secret, body, #body, digest, digest_len)
  local out = {}
  for i = 0, 31 do out[i + 1] = hex[digest[i]] end
  return table.concat(out)
end

local thread_id = 0
local counter = 0
local headers = {["Content-Type"] = "application/json"}

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("id", next_thread)
end

function init(args)
  thread_id = tonumber(wrk.thread:get("id")) or 0
  -- a different run's call_ids differ too: the dedup window outlives one wrk run
  thread_id = thread_id * 1000 + math.random(0, 999) + (os.time() % 100) * 100000
end

local interval_ms = tonumber(os.getenv("BENCH_INTERVAL_MS") or "0") or 0
function delay()
  return interval_ms
end

function request()
  counter = counter + 1
  local body = head .. string.format("b%08d%023d", thread_id, counter) .. tail
  if secret ~= "" then headers["X-AIRudder-Sign"] = sign(body) end
  return wrk.format("POST", nil, headers, body)
end

dofile(os.getenv("BENCH_DIR") .. "/result.lua")
