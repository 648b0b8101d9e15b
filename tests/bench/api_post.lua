-- tests/bench/api_post.lua — wrk script for tests/bench/api.sh and
-- groups.sh: POSTs one JSON body again and again (creating posts, or
-- comments).
--
-- POST to the URL given, with a fixed JSON body: $WRK_BODY, or by default a
-- post's (api.sh's creations); the session cookie and the CSRF
-- token come from the command line (wrk -H 'Cookie: ...' -H 'X-CSRF-Token: ...'),
-- which wrk puts into wrk.headers. Every response's status is counted per
-- thread; done() adds the threads up and prints one line that api.sh reads:
--   api_post: requests=N 2xx=N non2xx=N socket_errors=N statuses=201:N,...
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or '{"kind":"request","category":"groceries","title":"bench"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   ok = 0
   bad = 0
   statuses = {}
end

function response(status, headers, body)
   if status >= 200 and status <= 299 then
      ok = ok + 1
   else
      bad = bad + 1
   end
   local k = tostring(status)
   statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
   local total_ok, total_bad, merged = 0, 0, {}
   for _, t in ipairs(threads) do
      total_ok = total_ok + t:get("ok")
      total_bad = total_bad + t:get("bad")
      for k, v in pairs(t:get("statuses")) do
         merged[k] = (merged[k] or 0) + v
      end
   end
   local keys = {}
   for k in pairs(merged) do table.insert(keys, k) end
   table.sort(keys)
   local parts = {}
   for _, k in ipairs(keys) do table.insert(parts, k .. ":" .. merged[k]) end
   local e = summary.errors
   io.write(string.format("api_post: requests=%d 2xx=%d non2xx=%d socket_errors=%d statuses=%s\n",
      summary.requests, total_ok, total_bad, e.connect + e.read + e.write + e.timeout,
      #parts > 0 and table.concat(parts, ",") or "none"))
end
