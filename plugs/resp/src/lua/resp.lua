-- redis-sessions: the RESP2 encoding of a Lua value, exactly as Redis converts a script's
-- result into its reply (script_lua.c, luaReplyToRedisReply): a string is a bulk string, a
-- number an integer (truncated), true is 1 and false nil, a table with a string `err` is
-- an error and one with a string `ok` a status (CR and LF become spaces in both), any
-- other table an array of its elements up to the first nil, anything else nil.
local function __rs_resp(v, out)
  local t = type(v)
  if t == 'string' then
    out[#out + 1] = '$' .. #v .. '\r\n' .. v .. '\r\n'
  elseif t == 'number' then
    out[#out + 1] = ':' .. string.format('%d', v) .. '\r\n'
  elseif t == 'boolean' then
    out[#out + 1] = v and ':1\r\n' or '$-1\r\n'
  elseif t == 'table' then
    local err, ok = rawget(v, 'err'), rawget(v, 'ok')
    if type(err) == 'string' then
      out[#out + 1] = '-' .. (string.gsub(err, '[\r\n]', ' ')) .. '\r\n'
    elseif type(ok) == 'string' then
      out[#out + 1] = '+' .. (string.gsub(ok, '[\r\n]', ' ')) .. '\r\n'
    else
      local n = 0
      while rawget(v, n + 1) ~= nil do n = n + 1 end
      out[#out + 1] = '*' .. n .. '\r\n'
      for i = 1, n do __rs_resp(rawget(v, i), out) end
    end
  else
    out[#out + 1] = '$-1\r\n'
  end
end
