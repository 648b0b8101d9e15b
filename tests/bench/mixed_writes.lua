-- tests/bench/mixed_writes.lua — wrk script for tests/bench/mixed_writes.sh:
-- GETs the paths of a file in turn, and counts every answer's status.
--
--   wrk ... -s mixed_writes.lua BASE_URL -- PATHS_FILE
--
-- PATHS_FILE holds one path a line ("/api/posts?near=…"); each wrk thread
-- walks the whole list from its own starting point. The cookie, when the
-- route needs one, comes from the command line (wrk -H 'Cookie: ...').
-- done() adds the threads' counts up and prints one line that
-- mixed_writes.sh reads:
--   mixed: requests=N 2xx=N 5xx=N other=N socket_errors=N statuses=200:N,...
local threads = {}
local count = 0

function setup(thread)
   thread:set("id", count)
   count = count + 1
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if line:match("^/") then
         paths[#paths + 1] = line
      end
   end
   if #paths == 0 then
      error("no paths in " .. tostring(args[1]))
   end
   i = (id * 7919) % #paths
   ok, server_errors, other = 0, 0, 0
   statuses = {}
end

function request()
   i = i % #paths + 1
   return wrk.format("GET", paths[i])
end

function response(status, headers, body)
   if status >= 200 and status <= 299 then
      ok = ok + 1
   elseif status >= 500 then
      server_errors = server_errors + 1
   else
      other = other + 1
   end
   local k = tostring(status)
   statuses[k] = (statuses[k] or 0) + 1
end

function done(summary, latency, requests)
   local t_ok, t_5xx, t_other, merged = 0, 0, 0, {}
   for _, t in ipairs(threads) do
      t_ok = t_ok + t:get("ok")
      t_5xx = t_5xx + t:get("server_errors")
      t_other = t_other + t:get("other")
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
   io.write(string.format("mixed: requests=%d 2xx=%d 5xx=%d other=%d socket_errors=%d statuses=%s\n",
      summary.requests, t_ok, t_5xx, t_other, e.connect + e.read + e.write + e.timeout,
      #parts > 0 and table.concat(parts, ",") or "none"))
end
