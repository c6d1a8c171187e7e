-- Applies one batch of hits atomically (store/redis/redis_store.hpp has the key layout).
-- The counting rules are store::decide_hits' (src/store/hits.cpp), restated so that a whole
-- batch runs in Redis in one round trip; keep the two in step (redis_store_test compares
-- them hit by hit).
--
-- ARGV: prefix, day, now, repeat window (s), marks' expiry (epoch s), answers' lifetime (s),
-- the number of keys, the most counters there may be (0: no limit; -1: no new one), whether
-- day fields are kept ('1', else '0': the classic profile), then per key: the key,
-- its number of hits, then per hit: the visitor id ('' untracked) and the Idempotency-Key
-- (''). Returns per hit: what it did (0 new visitor, 1 returning, 2 repeat, 3 replayed, 4
-- refused: a new counter past the limit, nothing written), then the views and visitors
-- after it.
local prefix, day = ARGV[1], ARGV[2]
local now, window = tonumber(ARGV[3]), tonumber(ARGV[4])
local marks_expire, answer_ttl = tonumber(ARGV[5]), tonumber(ARGV[6])
local NEW, RETURNING, REPEAT, REPLAYED, REFUSED = 0, 1, 2, 3, 4
local max_counters = tonumber(ARGV[8])
local history = ARGV[9] == '1'

local out = {}
local arg = 10
for _ = 1, tonumber(ARGV[7]) do
  local key, hits = ARGV[arg], tonumber(ARGV[arg + 1])
  arg = arg + 2
  local counter = prefix .. 'c:' .. key
  local marks = prefix .. 'm:' .. day .. ':' .. key
  local before = redis.call('HMGET', counter, 'views', 'visitors')
  repeat  -- once; `break` goes on to the next key (Lua 5.1 has no goto)
    if not before[1] and (max_counters < 0 or (max_counters > 0 and
        redis.call('ZCARD', prefix .. 'keys') >= max_counters)) then
      for _ = 1, hits do
        out[#out + 1] = REFUSED
        out[#out + 1] = 0
        out[#out + 1] = 0
      end
      arg = arg + 2 * hits
      break
    end
    local views, visitors = tonumber(before[1]) or 0, tonumber(before[2]) or 0
    local gained_views, gained_visitors = 0, 0
    for _ = 1, hits do
      local visitor, token = ARGV[arg], ARGV[arg + 1]
      arg = arg + 2
      local record, answer = nil, nil
      if token ~= '' then
        record = prefix .. 'i:' .. key .. ':' .. token
        local known = redis.call('HMGET', record, 'views', 'visitors')
        if known[1] then answer = {REPLAYED, tonumber(known[1]), tonumber(known[2])} end
      end
      if not answer then
        local seen = RETURNING
        if visitor ~= '' then
          local last = redis.call('HGET', marks, visitor)
          if not last then
            seen = NEW
          elseif window > 0 and now - tonumber(last) < window then
            -- (without a window nothing repeats, even a mark written a second ahead by a
            -- process whose clock is ahead of this batch's)
            seen = REPEAT
          end
          if seen ~= REPEAT then redis.call('HSET', marks, visitor, now) end
        end
        if seen ~= REPEAT then
          views = views + 1
          gained_views = gained_views + 1
        end
        if seen == NEW then
          visitors = visitors + 1
          gained_visitors = gained_visitors + 1
        end
        answer = {seen, views, visitors}
        if record then
          redis.call('HSET', record, 'views', views, 'visitors', visitors)
          redis.call('EXPIRE', record, answer_ttl)
        end
      end
      out[#out + 1] = answer[1]
      out[#out + 1] = answer[2]
      out[#out + 1] = answer[3]
    end
    if gained_views > 0 then
      redis.call('HINCRBY', counter, 'views', gained_views)
      redis.call('HINCRBY', counter, 'visitors', gained_visitors)
      if history then
        redis.call('HINCRBY', counter, 'v:' .. day, gained_views)
        redis.call('HINCRBY', counter, 'u:' .. day, gained_visitors)
        redis.call('HSET', counter, 'last_day', day)
      end
      redis.call('ZADD', prefix .. 'keys', 0, key)
    end
    if redis.call('EXISTS', marks) == 1 then redis.call('EXPIREAT', marks, marks_expire) end
  until true
end
return out
