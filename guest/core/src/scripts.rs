//! The Lua scripts that make get, set and the kill methods atomic, in node's layout.
//!
//! node reads with `HMGET` and then writes in a second round trip, so a `get` racing a
//! `kill` can re-create index entries of a dead session, and `set` can lose a concurrent
//! `set`'s keys. Each script here does its read and its writes in one atomic step. `d` is
//! never decoded in Lua (Redis' cjson prints numbers with 14 significant digits): `set`
//! merges in the guest and the script only compares and swaps the field's bytes.
//!
//! Keys: the scripts for one session declare theirs; those that walk a user or an app
//! (kill, killsoid, killall, wipe, soid, soapp) declare the key they start from and derive
//! the others from members they read and the prefix, as the layout requires. On Redis
//! Cluster every key of a script shares the declared key's hash tag (one shard), so the
//! script runs where the declared key lives. Every key still starts with the namespace prefix, which is what a
//! tenant's Redis ACL user (`~NS:*`) allows; Redis checks ACLs inside scripts too.
//! Every write node announces to its read caches (`cachetime`) is announced here too, from
//! inside the script that makes it: set, and every deletion (kill, killsoid, killall,
//! wipe), each as a PUBLISH of `APP:TOKEN` on `NS:cache`. node announces only when its own
//! cache is on, so a cached node app misses uncached writers; this project always does.
//! Numbers written to Redis go through `num`, since Redis formats Lua numbers with
//! `%.17g` (12.7 would become 12.699999999999999).

use std::sync::OnceLock;

/// A script run by EVALSHA, falling back to EVAL when Redis answers NOSCRIPT.
#[derive(Debug)]
pub struct Script {
    pub name: &'static str,
    pub source: &'static str,
    sha1: OnceLock<String>,
}

impl Script {
    const fn new(name: &'static str, source: &'static str) -> Self {
        Self {
            name,
            source,
            sha1: OnceLock::new(),
        }
    }

    /// The SHA1 Redis knows the script by.
    pub fn sha1(&self) -> &str {
        self.sha1
            .get_or_init(|| sha1_smol::Sha1::from(self.source).digest().to_string())
    }
}

/// Helpers shared by the scripts.
macro_rules! prelude {
    () => {
        r#"
local function num(x)
  if x == math.floor(x) and x > -1e15 and x < 1e15 then return string.format('%d', x) end
  return tostring(x)
end
local function read(key)
  return redis.call('HMGET', key, 'id', 'r', 'w', 'ttl', 'd', 'la', 'ip', 'no_resave', 'exp')
end
-- Whether a session with these fields lives at `now`: idle no longer than ttl, and not past
-- its max-age deadline `exp` (a field only this project writes).
local function alive(ttl, la, exp, now)
  ttl, la, exp = tonumber(ttl), tonumber(la), tonumber(exp)
  if not ttl or not la or ttl < now - la then return false end
  return not exp or now <= exp
end
-- Records activity on a live session like node's get and set, counting `counter`.
-- `now` is ARGV's decimal string (unix seconds), written as is. Returns the counter's new
-- value, or false when the session is missing or expired. Within the second of the last
-- activity (idle 0) `la` and the index scores already hold what node would write, so only
-- the counter is written: a session read many times a second costs Redis two calls.
local function touch(key, sessions, users, expiries, now, app, token, f, counter)
  local id, ttl, la, exp, t = f[1], tonumber(f[4]), tonumber(f[6]), tonumber(f[9]), tonumber(now)
  if not id or not ttl or not la or ttl < t - la or (exp and t > exp) then return false end
  local n = redis.call('HINCRBY', key, counter, 1)
  local idle = t - la
  if idle == 0 then return n end
  local deadline = t + ttl
  if f[8] == '1' then
    -- no_resave: keep la + ttl on the creation deadline (node drifts when idle == 1).
    deadline = la + ttl
    redis.call('HSET', key, 'ttl', num(ttl - idle), 'la', now)
  elseif idle > 1 then
    redis.call('HSET', key, 'la', now)
  end
  if exp and exp < deadline then deadline = exp end
  local member = token .. ':' .. id
  redis.call('ZADD', sessions, now, member)
  redis.call('ZADD', users, now, id)
  redis.call('ZADD', expiries, num(deadline), app .. ':' .. member)
  return n
end
-- Tells node's read caches (`cachetime`) that app:token changed, on the channel NS:cache.
local function announce(prefix, app, token)
  redis.call('PUBLISH', prefix .. 'cache', app .. ':' .. token)
end
-- Deletes one session and its index entries (node's _kill), and announces it. Returns the
-- DEL count.
local function remove(prefix, app, token, id)
  announce(prefix, app, token)
  local base = prefix .. app .. ':'
  local tokens = base .. 'us:' .. id
  redis.call('ZREM', base .. '_sessions', token .. ':' .. id)
  redis.call('SREM', tokens, token)
  redis.call('ZREM', prefix .. 'SESSIONS', app .. ':' .. token .. ':' .. id)
  local n = redis.call('DEL', base .. token)
  if redis.call('EXISTS', tokens) == 0 then redis.call('ZREM', base .. '_users', id) end
  return n
end
-- a < b byte by byte (Lua's `<` on strings follows the server's locale).
local function below(a, b)
  for i = 1, math.min(#a, #b) do
    local x, y = a:byte(i), b:byte(i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- TOKEN:ID -> token, id (the token is 64 characters; the id may hold ':').
local function split_member(m)
  if #m < 66 or m:sub(65, 65) ~= ':' then return nil end
  return m:sub(1, 64), m:sub(66)
end
"#
    };
}

/// KEYS: hash, _sessions, _users, SESSIONS. ARGV: now, app, token.
/// Returns the 9 fields as read (node returns `r` before the increment).
pub static GET: Script = Script::new(
    "get",
    concat!(
        prelude!(),
        r#"
local f = read(KEYS[1])
touch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], f, 'r')
return f
"#
    ),
);

/// Compare-and-set of `d`, announced to node's caches. KEYS: hash, _sessions, _users,
/// SESSIONS. ARGV: now, app, token, `1` if `d` was read as ARGV[5] (`0` if absent), d as
/// read, new d (empty deletes the field), prefix. Returns {1, w} when written (the session
/// is the one the merge was made from, as node answers from its read), {0, 0} when missing
/// or expired, {2, 0, the 9 fields} when `d` changed since it was read (merge again).
pub static SET: Script = Script::new(
    "set",
    concat!(
        prelude!(),
        r#"
local f = read(KEYS[1])
local expected = false
if ARGV[4] == '1' then expected = ARGV[5] end
if f[5] ~= expected then return {2, 0, unpack(f)} end
local w = touch(KEYS[1], KEYS[2], KEYS[3], KEYS[4], ARGV[1], ARGV[2], ARGV[3], f, 'w')
if not w then return {0, 0} end
if ARGV[6] == '' then
  redis.call('HDEL', KEYS[1], 'd')
else
  redis.call('HSET', KEYS[1], 'd', ARGV[6])
end
announce(ARGV[7], ARGV[2], ARGV[3])
return {1, w}
"#
    ),
);

/// KEYS: hash. ARGV: now, prefix, app, token. Returns 1, or 0 when missing or expired.
pub static KILL: Script = Script::new(
    "kill",
    concat!(
        prelude!(),
        r#"
local f = redis.call('HMGET', KEYS[1], 'id', 'ttl', 'la', 'exp')
if not f[1] or not alive(f[2], f[3], f[4], tonumber(ARGV[1])) then return 0 end
return remove(ARGV[2], ARGV[3], ARGV[4], f[1])
"#
    ),
);

/// `create` with a cap on the user's live sessions: node's writes (as its MULTI), then the
/// user's other live sessions beyond `cap - 1` are deleted, the oldest last activity first
/// (ties by token), each announced. Expired ones are not counted (the wipe takes them).
/// KEYS: hash, _sessions, _users, SESSIONS, us:ID. ARGV: prefix, app, token, id, now,
/// expiry, cap, then the hash's field/value pairs. Returns how many it deleted.
pub static CREATE_CAPPED: Script = Script::new(
    "create_capped",
    concat!(
        prelude!(),
        r#"
local prefix, app, token, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, cap = tonumber(ARGV[5]), tonumber(ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[5], token .. ':' .. id)
redis.call('ZADD', KEYS[3], ARGV[5], id)
redis.call('ZADD', KEYS[4], ARGV[6], app .. ':' .. token .. ':' .. id)
redis.call('SADD', KEYS[5], token)
redis.call('HSET', KEYS[1], unpack(ARGV, 8))
local live = {}
for _, t in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  if t ~= token then
    local f = redis.call('HMGET', prefix .. app .. ':' .. t, 'ttl', 'la', 'exp')
    if alive(f[1], f[2], f[3], now) then live[#live + 1] = {tonumber(f[2]), t} end
  end
end
local evicted = 0
if #live >= cap then
  table.sort(live, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return below(a[2], b[2])
  end)
  for i = 1, #live - cap + 1 do
    evicted = evicted + remove(prefix, app, live[i][2], id)
  end
end
return evicted
"#
    ),
);

/// Replaces a live session's token, keeping everything else. KEYS: old hash, new hash,
/// _sessions, SESSIONS. ARGV: now, prefix, app, old token, new token. The hash moves whole
/// (every field, `la` included: rotating is not activity), each index entry moves with its
/// score, and the old token is announced. Returns 1, 0 when missing or expired, 2 when the
/// new token is taken.
pub static ROTATE: Script = Script::new(
    "rotate",
    concat!(
        prelude!(),
        r#"
local f = redis.call('HMGET', KEYS[1], 'id', 'ttl', 'la', 'exp')
if not f[1] or not alive(f[2], f[3], f[4], tonumber(ARGV[1])) then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 2 end
local id, prefix, app, old, new = f[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local function move(key, from, to)
  local score = redis.call('ZSCORE', key, from)
  if score then
    redis.call('ZREM', key, from)
    redis.call('ZADD', key, score, to)
  end
end
redis.call('RENAME', KEYS[1], KEYS[2])
move(KEYS[3], old .. ':' .. id, new .. ':' .. id)
move(KEYS[4], app .. ':' .. old .. ':' .. id, app .. ':' .. new .. ':' .. id)
local tokens = prefix .. app .. ':us:' .. id
if redis.call('SREM', tokens, old) == 1 then redis.call('SADD', tokens, new) end
announce(prefix, app, old)
return 1
"#
    ),
);

/// KEYS: us:ID. ARGV: prefix, app, id, batch size. Pops up to `batch` of the user's tokens and deletes
/// those sessions. Returns {sessions deleted, tokens popped}: fewer tokens than `batch`
/// means the user had none left.
pub static KILLSOID: Script = Script::new(
    "killsoid",
    concat!(
        prelude!(),
        r#"
local n = 0
local tokens = redis.call('SPOP', ARGV[1] .. ARGV[2] .. ':us:' .. ARGV[3], tonumber(ARGV[4]))
for _, token in ipairs(tokens) do
  n = n + remove(ARGV[1], ARGV[2], token, ARGV[3])
end
return {n, #tokens}
"#
    ),
);

/// KEYS: _sessions. ARGV: prefix, app, batch size. Deletes the app's `batch` oldest sessions, the token sets
/// and the `_users` entries of their users (node's killall, one slice of it). Returns how
/// many `_sessions` members it removed: fewer than `batch` means the app had none left.
/// A batch of 0 deletes nothing (it makes Redis load the script).
pub static KILLALL: Script = Script::new(
    "killall",
    concat!(
        prelude!(),
        r#"
local base = ARGV[1] .. ARGV[2] .. ':'
local batch = tonumber(ARGV[3])
if batch < 1 then return 0 end
local members = redis.call('ZRANGE', base .. '_sessions', 0, batch - 1)
local ids = {}
for _, m in ipairs(members) do
  local token, id = split_member(m)
  if token then
    remove(ARGV[1], ARGV[2], token, id)
    ids[id] = true
  else
    redis.call('ZREM', base .. '_sessions', m)
  end
end
for id in pairs(ids) do
  redis.call('DEL', base .. 'us:' .. id)
  redis.call('ZREM', base .. '_users', id)
end
return #members
"#
    ),
);

/// KEYS: SESSIONS. ARGV: prefix, now, batch size. Deletes up to `batch` sessions whose expiry is due, with
/// every index entry. Returns how many `SESSIONS` members it removed. A batch of 0 deletes
/// nothing (it makes Redis load the script).
pub static WIPE: Script = Script::new(
    "wipe",
    concat!(
        prelude!(),
        r#"
local expiries = ARGV[1] .. 'SESSIONS'
local batch = tonumber(ARGV[3])
if batch < 1 then return 0 end
local members = redis.call('ZRANGEBYSCORE', expiries, '-inf', ARGV[2], 'LIMIT', 0, batch)
for _, m in ipairs(members) do
  local sep = m:find(':', 1, true)
  local token, id
  if sep then token, id = split_member(m:sub(sep + 1)) end
  if token then
    remove(ARGV[1], m:sub(1, sep - 1), token, id)
  else
    redis.call('ZREM', expiries, m)
  end
end
return #members
"#
    ),
);

/// KEYS: us:ID. ARGV: prefix, app, id, SSCAN cursor, SSCAN count. Returns {next cursor, then the 9
/// fields of each session of this slice of the user's tokens, flat}.
/// A user whose set fits in one page is read whole with SMEMBERS, so the order is node's
/// (SSCAN walks a hash table's buckets in another order than SMEMBERS does).
pub static SOID: Script = Script::new(
    "soid",
    concat!(
        prelude!(),
        r#"
local base = ARGV[1] .. ARGV[2] .. ':'
local set = base .. 'us:' .. ARGV[3]
local scan
if ARGV[4] == '0' and redis.call('SCARD', set) <= tonumber(ARGV[5]) then
  scan = {'0', redis.call('SMEMBERS', set)}
else
  scan = redis.call('SSCAN', set, ARGV[4], 'COUNT', tonumber(ARGV[5]))
end
local out = {scan[1]}
for _, token in ipairs(scan[2]) do
  local f = read(base .. token)
  for i = 1, 9 do out[#out + 1] = f[i] end
end
return out
"#
    ),
);

/// One page of soapp, walking `_sessions` from the highest score down.
/// KEYS: _sessions. ARGV: prefix, app, lowest score (inclusive), page size, byte budget, then the cursor:
/// the score and member listed last and its position among the members of that score
/// ('' '' '' for the first page). Returns {score, member, position of the last row when the
/// page is full ('' '' 0 at the end), then the 9 fields of each row, flat}.
/// When the member is still at that position, the page starts right after it (Redis skips
/// the rows); otherwise the rows tied on the cursor's score are walked down to the member
/// (Redis orders ties by member bytes, descending here), compared byte by byte since Lua's
/// `<` follows the server's locale.
pub static SOAPP: Script = Script::new(
    "soapp",
    concat!(
        prelude!(),
        r#"
local base = ARGV[1] .. ARGV[2] .. ':'
local key, min = base .. '_sessions', ARGV[3]
local size, budget = tonumber(ARGV[4]), tonumber(ARGV[5])
local max, after = '+inf', false
local offset, tied, pos = 0, false, -1
if ARGV[6] ~= '' then
  max, after = ARGV[6], ARGV[7]
  local k = tonumber(ARGV[8])
  if k and k >= 0 and redis.call('ZREVRANGEBYSCORE', key, max, max, 'LIMIT', k, 1)[1] == after then
    offset, tied, pos, after = k + 1, max, k, false
  end
end
local out = {'', '', 0}
local rows, bytes = 0, 0
while true do
  local chunk = redis.call('ZREVRANGEBYSCORE', key, max, min, 'WITHSCORES', 'LIMIT', offset, size)
  for i = 1, #chunk, 2 do
    local m, s = chunk[i], chunk[i + 1]
    if s == tied then pos = pos + 1 else tied, pos = s, 0 end
    if after and s == max and not below(m, after) then
      -- listed by an earlier page
    else
      after = false
      local f = read(base .. m:sub(1, 64))
      for j = 1, 9 do out[#out + 1] = f[j] end
      rows = rows + 1
      bytes = bytes + #m + #(f[5] or '')
      if rows >= size or bytes >= budget then
        out[1], out[2], out[3] = s, m, pos
        return out
      end
    end
  end
  if #chunk < 2 * size then return out end
  offset = offset + size
end
"#
    ),
);

/// Every script the session logic runs (for checks of what they call).
pub static ALL: [&Script; 10] = [
    &GET,
    &SET,
    &KILL,
    &ROTATE,
    &CREATE_CAPPED,
    &KILLSOID,
    &KILLALL,
    &WIPE,
    &SOID,
    &SOAPP,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_the_hex_digest_redis_uses() {
        let s = Script::new("t", "return 1");
        // redis-cli SCRIPT LOAD "return 1"
        assert_eq!(s.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    }
}
