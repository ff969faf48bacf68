-- Writes sessions ARGV[3] to ARGV[4] - 1 of app ARGV[2] under prefix ARGV[1] in node's
-- layout: token `%064d` of i, user ARGV[7] .. (i % ARGV[5]), last activity spread over the
-- 500 seconds before ARGV[6], ttl 7200. Used by bench/bigapps.py and cli/tests/it/bigapps.rs.
local p, app, prefix = ARGV[1] .. ARGV[2] .. ':', ARGV[2], ARGV[1]
local users, now = tonumber(ARGV[5]), tonumber(ARGV[6])
for i = tonumber(ARGV[3]), tonumber(ARGV[4]) - 1 do
  local token = string.format('%064d', i)
  local id = ARGV[7] .. string.format('%d', i % users)
  local la = string.format('%d', now - i % 500)
  redis.call('HSET', p .. token, 'id', id, 'r', '1', 'w', '1', 'ip', '10.0.0.1', 'la', la, 'ttl', '7200')
  redis.call('ZADD', p .. '_sessions', la, token .. ':' .. id)
  redis.call('ZADD', p .. '_users', la, id)
  redis.call('ZADD', prefix .. 'SESSIONS', string.format('%d', now - i % 500 + 7200), app .. ':' .. token .. ':' .. id)
  redis.call('SADD', p .. 'us:' .. id, token)
end
return 1
