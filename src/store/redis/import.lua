-- Writes whole counters (store::Store::import): totals, day rows and the index, atomically.
-- ARGV: prefix, mode ('set' or 'add'), the number of counters, then per counter: the key,
-- views, visitors, its number of days, then per day: the date, views, visitors.
-- `set` makes the totals and each listed day equal to the input's; `add` adds them. The
-- counter's last_day becomes the later of its own and the input's last day.
local prefix, set = ARGV[1], ARGV[2] == 'set'
local arg = 4
for _ = 1, tonumber(ARGV[3]) do
  local key = ARGV[arg]
  local counter = prefix .. 'c:' .. key
  local function put(field, value)
    if set then
      redis.call('HSET', counter, field, value)
    else
      redis.call('HINCRBY', counter, field, value)
    end
  end
  put('views', ARGV[arg + 1])
  put('visitors', ARGV[arg + 2])
  local days = tonumber(ARGV[arg + 3])
  arg = arg + 4
  local last = redis.call('HGET', counter, 'last_day') or ''
  for _ = 1, days do
    local date = ARGV[arg]
    put('v:' .. date, ARGV[arg + 1])
    put('u:' .. date, ARGV[arg + 2])
    if date > last then last = date end
    arg = arg + 3
  end
  if last ~= '' then redis.call('HSET', counter, 'last_day', last) end
  redis.call('ZADD', prefix .. 'keys', 0, key)
end
return 'OK'
