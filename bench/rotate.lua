-- wrk script: rotates through the benchmark's tenants, alternating a lookup by slug
-- (GET /_tenant/slug/<slug>) with one by Host (GET /_tenant/brand.json, Host: <domain>).
-- BENCH_TARGETS names a file of "<slug> <domain>" lines. Requests are formatted once in
-- init(), so the load generator spends its (shared) CPU on sending, not on Lua.

local requests = {}
local next_index = 1

function setup(thread)
  -- Each thread starts at a different tenant, so threads do not move in lockstep.
  setup_count = (setup_count or 0) + 1
  thread:set("start", setup_count * 37)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    local slug, domain = line:match("^(%S+) (%S+)$")
    requests[#requests + 1] = wrk.format("GET", "/_tenant/slug/" .. slug)
    requests[#requests + 1] = wrk.format("GET", "/_tenant/brand.json", { Host = domain })
  end
  next_index = (start or 0) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

-- One machine-readable line for bench.mjs. wrk's `status` errors are answers with a status
-- of 400 or more; socket errors are counted apart.
function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%.0f,"p99_us":%.0f,"non2xx":%d,"socket_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout, e.timeout))
end
