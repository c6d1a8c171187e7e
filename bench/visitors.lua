-- wrk script for bench/http_bench.py: counting requests from 1,000 different browsers
-- (User-Agents), so the visitors profile does its real work: a visitor mark per hit,
-- the crawler check, a visitor total and a day row.
local agents = {}
for i = 1, 1000 do
  agents[i] = "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0 b" .. i
end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/count", { ["User-Agent"] = agents[n % 1000 + 1] })
end
