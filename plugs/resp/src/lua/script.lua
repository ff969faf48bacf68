-- Runs the caller's script (above, as the body of __rs_script: KEYS and ARGV are its own)
-- and returns the RESP2 encoding of its result. An error it raises becomes an error reply,
-- as Redis would send it, instead of failing this EVAL: a failed redis.call raises Redis'
-- error text (`CODE message`), error('x') a bare message, which gets the code ERR.
local ok, result = pcall(__rs_script)
if not ok and (type(result) ~= 'table' or type(rawget(result, 'err')) ~= 'string') then
  result = tostring(result)
  if not string.find(result, '^%u+ ') then result = 'ERR ' .. result end
  result = {err = result}
end
local out = {}
__rs_resp(result, out)
return table.concat(out)
