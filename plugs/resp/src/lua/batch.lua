-- Runs several commands, ARGV = N1 ARG... N2 ARG... (each command's length, then it),
-- atomically as every script runs, and returns the RESP2 encoding of the array of their
-- replies. A command's error stays its element and does not stop the others, as in EXEC.
local out, n, i = {}, 0, 1
while i <= #ARGV do
  local len = tonumber(ARGV[i])
  __rs_resp(redis.pcall(unpack(ARGV, i + 1, i + len)), out)
  n = n + 1
  i = i + len + 1
end
return '*' .. n .. '\r\n' .. table.concat(out)
