-- The bench's wrk script (run by bench/wrk.ts). It makes requests one of two ways:
--   WRK_REQS=<file>  replays pre-signed webhooks, one a line ("signature<TAB>body"), starting after
--                    line WRK_START (so a measured run follows its warm-up with new webhooks), each
--                    once while the file lasts, then from its start again;
--   WRK_BODY=<json>  POSTs this body with its "{id}" replaced by WRK_ID_PREFIX and a counter, so
--                    every request is distinct (headers come from wrk's -H flags).
-- done() prints one line, "wrk-result <json>", with the counts and latencies bench/wrk.ts reads.
local requests, bodyHead, bodyTail, idPrefix = {}, nil, nil, ""
local start = tonumber(os.getenv("WRK_START") or "0")
-- Requests this thread has made (sent or being sent when the run stopped); done() reads it.
generated = 0

function init(args)
  local file = os.getenv("WRK_REQS")
  if file then
    local lines = assert(io.open(file, "r"))
    for line in lines:lines() do
      local signature, body = line:match("^([^\t]+)\t(.*)$")
      requests[#requests + 1] = wrk.format("POST", wrk.path, { ["Content-Type"] = "application/json", ["X-Webhook-Signature"] = signature }, body)
    end
    lines:close()
  else
    local template = assert(os.getenv("WRK_BODY"), "set WRK_REQS or WRK_BODY")
    local at = assert(template:find("{id}", 1, true), "WRK_BODY has no {id}")
    bodyHead, bodyTail = template:sub(1, at - 1), template:sub(at + 4)
    idPrefix = os.getenv("WRK_ID_PREFIX") or ""
  end
end

function request()
  generated = generated + 1
  if bodyHead then
    return wrk.format("POST", wrk.path, nil, bodyHead .. idPrefix .. generated .. bodyTail)
  end
  return requests[(start + generated - 1) % #requests + 1]
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency)
  local made = 0
  for _, thread in ipairs(threads) do
    made = made + thread:get("generated")
  end
  local errors = summary.errors
  io.write(string.format(
    'wrk-result {"durationUs":%d,"completed":%d,"generated":%d,"statusErrors":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.duration, summary.requests, made, errors.status, errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max
  ))
end
