-- tests/bench/tiles_http.lua — wrk script for tests/bench/tiles_http.sh:
-- GET /tiles/Z/X/Y.mvt cycling over a list of tile addresses, gzip accepted.
--
--   wrk ... -s tiles_http.lua URL -- TILES
--
-- TILES holds one "Z X Y" a line. Each wrk thread walks the whole list in
-- order from its own starting point, so that the threads do not ask for the
-- same tile at the same moment; every server sees the same sequence.
local threads = 0

function setup(thread)
   thread:set("id", threads)
   threads = threads + 1
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      local z, x, y = line:match("^(%d+)%s+(%d+)%s+(%d+)")
      if z then
         paths[#paths + 1] = "/tiles/" .. z .. "/" .. x .. "/" .. y .. ".mvt"
      end
   end
   if #paths == 0 then
      error("no tile addresses in " .. tostring(args[1]))
   end
   i = (id * 7919) % #paths
   wrk.headers["Accept-Encoding"] = "gzip"
end

function request()
   i = i % #paths + 1
   return wrk.format("GET", paths[i])
end
