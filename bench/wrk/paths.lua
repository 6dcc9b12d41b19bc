-- wrk script for bench.http: every request is a random line of a file of request paths.
--   wrk ... -s bench/wrk/paths.lua URL -- PATHS_FILE [ACCEPT] [SEED]
-- At the end it prints one machine-readable line, "@@wrk-json {...}" (latencies in µs),
-- which bench.http parses; the usual human-readable summary is printed as well.
-- With WRK_COUNT_STATUSES=1 in the environment it also counts responses per HTTP status
-- (a census run only: wrk then hands every response to Lua, which costs it CPU).

local paths = {}
local count = 0
local started = 0
local threads = {}
statuses = {}

function setup(thread)
  started = started + 1
  thread:set("thread_number", started)
  table.insert(threads, thread)
end

if os.getenv("WRK_COUNT_STATUSES") == "1" then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then
      count = count + 1
      paths[count] = line
    end
  end
  if count == 0 then
    error("no request paths in " .. args[1])
  end
  if args[2] ~= nil and #args[2] > 0 then
    wrk.headers["Accept"] = args[2]
  end
  math.randomseed(tonumber(args[3] or "1") * 1000 + (thread_number or 0))
end

function request()
  return wrk.format(nil, paths[math.random(count)])
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      merged[status] = (merged[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(merged) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    '@@wrk-json {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), table.concat(parts, ",")))
end
