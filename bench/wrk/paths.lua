-- wrk script for bench.http: every request is a random line of a file of request paths.
--   wrk ... -s bench/wrk/paths.lua URL -- PATHS_FILE [ACCEPT] [SEED]
-- At the end it prints one machine-readable line, "@@wrk-json {...}" (latencies in µs),
-- which bench.http parses; the usual human-readable summary is printed as well.

local paths = {}
local count = 0
local started = 0

function setup(thread)
  started = started + 1
  thread:set("thread_number", started)
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
  local e = summary.errors
  io.write(string.format(
    '@@wrk-json {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"max":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
