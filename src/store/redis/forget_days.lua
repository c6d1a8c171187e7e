-- Retention (store::Store::keep_days): deletes the day fields (v:DAY and u:DAY) of days
-- before FIRST_KEPT from the next LIMIT counters after CURSOR, in key order; the totals stay.
-- ARGV: prefix, cursor ('' from the first counter), limit, first_kept ("YYYY-MM-DD").
-- Returns {how many counters it read, the last key it read ('' when none)}.
local prefix, cursor, limit, first_kept = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local from = cursor == '' and '-' or '(' .. cursor
local keys = redis.call('ZRANGEBYLEX', prefix .. 'keys', from, '+', 'LIMIT', 0, limit)
for _, key in ipairs(keys) do
  local counter = prefix .. 'c:' .. key
  local old = {}
  for _, field in ipairs(redis.call('HKEYS', counter)) do
    local kind = string.sub(field, 1, 2)
    if (kind == 'v:' or kind == 'u:') and string.sub(field, 3) < first_kept then
      old[#old + 1] = field
      if #old == 1000 then  -- HDEL in bounded pieces: unpack() has a stack limit
        redis.call('HDEL', counter, unpack(old))
        old = {}
      end
    end
  end
  if #old > 0 then redis.call('HDEL', counter, unpack(old)) end
end
return {#keys, keys[#keys] or ''}
