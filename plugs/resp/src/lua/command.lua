-- Runs ARGV as one command and returns the RESP2 encoding of its reply (an error too).
local out = {}
__rs_resp(redis.pcall(unpack(ARGV)), out)
return table.concat(out)
