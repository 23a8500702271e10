-- wrk script of the Klaxon benchmarks: posts alerts to the edge and counts answers by status.
--
--   BENCH_KIND=generic      POST /api/v1/alerts, `Prefer: respond-async`, one generic alert
--   BENCH_KIND=sync         POST /api/v1/alerts, answered once correlated (no Prefer)
--   BENCH_KIND=alertmanager POST /api/v1/integrations/alertmanager, a v4 webhook of 20 alerts,
--                           each with a fingerprint of its own (thread, request, index)
--   BENCH_KEY               the integration key, sent as `Authorization: Bearer`
--
-- done() prints one line `BENCH_JSON {...}` that the benchmark parses.

local kind = os.getenv("BENCH_KIND") or "generic"
local key = os.getenv("BENCH_KEY")
local severities = { "critical", "high", "medium", "low" }
local batch = 20

local headers = { ["Content-Type"] = "application/json" }
if key and key ~= "" then
  headers["Authorization"] = "Bearer " .. key
end
local path = "/api/v1/alerts"
if kind == "alertmanager" then
  path = "/api/v1/integrations/alertmanager"
elseif kind == "generic" then
  headers["Prefer"] = "respond-async"
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  counter = 0
  statuses = {}
  math.randomseed(tid or 0)
end

local function generic_body()
  return string.format(
    '{"service":"svc-%d","severity":"%s","message":"bench wrk alert %d-%d"}',
    math.random(0, 199), severities[math.random(1, 4)], tid or 0, counter)
end

local function alertmanager_body()
  local alerts = {}
  for i = 1, batch do
    alerts[i] = string.format(
      '{"status":"firing","labels":{"alertname":"BenchAlert","service":"svc-%d","severity":"%s",' ..
      '"instance":"host-%d:9100"},"annotations":{"summary":"bench alert %d/%d"},' ..
      '"startsAt":"2026-11-20T03:12:45.123Z","endsAt":"0001-01-01T00:00:00Z",' ..
      '"generatorURL":"http://prometheus.example.internal:9090/graph","fingerprint":"w%d-%d-%d"}',
      math.random(0, 199), severities[math.random(1, 4)], i, counter, i, tid or 0, counter, i)
  end
  return string.format(
    '{"version":"4","groupKey":"{}:{alertname=\\"BenchAlert\\", group=\\"g%d\\"}","truncatedAlerts":0,' ..
    '"status":"firing","receiver":"klaxon","groupLabels":{"alertname":"BenchAlert"},' ..
    '"commonLabels":{"alertname":"BenchAlert"},"commonAnnotations":{},' ..
    '"externalURL":"http://alertmanager.example.internal:9093","alerts":[%s]}',
    counter % 10, table.concat(alerts, ","))
end

function request()
  counter = counter + 1
  local body
  if kind == "alertmanager" then
    body = alertmanager_body()
  else
    body = generic_body()
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for status, count in pairs(counts) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    table.insert(parts, string.format('"%d":%d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
