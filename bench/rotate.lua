-- wrk script: rotates through the requests of BENCH_TARGETS, a file of "<path> <host>" lines
-- ("-" for no Host header of our own). Requests are formatted once in init(), so the load
-- generator spends its (shared) CPU on sending, not on Lua.

local requests = {}
local next_index = 1

function setup(thread)
  -- Each thread starts at a different request, so threads do not move in lockstep.
  setup_count = (setup_count or 0) + 1
  thread:set("start", setup_count * 37)
end

-- BENCH_BROWSER=1: each request also carries the headers a browser sends for a page, so the
-- forwarded path copies and filters as many headers as it does in production.
local browser = {
  ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  ["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  ["Accept-Language"] = "en-GB,en;q=0.9",
  ["Accept-Encoding"] = "gzip, deflate, br",
  ["Cookie"] = "sb-access-token=eyJhbGciOiJIUzI1NiJ9.e30.x; theme=light",
  ["Sec-Fetch-Dest"] = "document",
  ["Sec-Fetch-Mode"] = "navigate",
  ["Sec-Fetch-Site"] = "none",
  ["Upgrade-Insecure-Requests"] = "1",
}

function init(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    local path, host = line:match("^(%S+) (%S+)$")
    local headers = {}
    if os.getenv("BENCH_BROWSER") == "1" then
      for name, value in pairs(browser) do headers[name] = value end
    end
    if host ~= "-" then headers["Host"] = host end
    requests[#requests + 1] = wrk.format("GET", path, headers)
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

-- BENCH_DELAY_MS: each connection waits this long between requests, for latency at a fixed,
-- unsaturated load rather than at the most the worker can take.
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pause and pause > 0 then
  function delay()
    return pause
  end
end
