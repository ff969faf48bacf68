//! node redis-sessions' key layout (v1 to v4 are identical on the wire).
//!
//! | key | type | content |
//! |---|---|---|
//! | `NS:APP:TOKEN` | hash | `id r w ip la ttl [d] [no_resave] [exp]` (`exp`: this project's max-age deadline, which node ignores) |
//! | `NS:APP:_sessions` | zset | `TOKEN:ID` scored by last activity (unix seconds) |
//! | `NS:APP:_users` | zset | `ID` scored by last activity |
//! | `NS:APP:us:ID` | set | the user's tokens |
//! | `NS:SESSIONS` | zset | `APP:TOKEN:ID` scored by expiry (`la + ttl`), read by wipe |
//!
//! On Redis Cluster a namespace is split into shards instead ([`Layout::sharded`]): shard
//! `I` is the same layout under the prefix `{TAG}:` instead of `NS:`, one hash tag, so each
//! shard's keys share one slot and every script stays on one node. node cannot read it.

use crate::token;
use crate::validate::TOKEN_LEN;
use std::borrow::Cow;

/// Redis Cluster's slot count.
const SLOTS: u32 = 16384;

/// The most shards a namespace can have: a token names its shard in two of its symbols.
pub const MAX_SHARDS: u16 = token::SHARDS_IN_TOKEN;

/// Redis Cluster's slot of a key: CRC16 (XMODEM) of its hash tag, the part between the
/// first `{` and the next `}` when not empty, else of the whole key.
pub fn slot(key: &[u8]) -> u16 {
    let tagged = key.iter().position(|&b| b == b'{').and_then(|open| {
        let rest = &key[open + 1..];
        let close = rest.iter().position(|&b| b == b'}')?;
        (close > 0).then(|| &rest[..close])
    });
    (u32::from(crc16::State::<crc16::XMODEM>::calculate(
        tagged.unwrap_or(key),
    )) % SLOTS) as u16
}

/// Where a namespace's keys live: node's one prefix `NS:`, or shards.
#[derive(Debug, Clone)]
pub struct Layout {
    /// One [`Keys`] per shard; node's layout is the one shard `NS:`.
    shards: Vec<Keys>,
    sharded: bool,
}

impl Layout {
    /// node's layout.
    pub fn node(namespace: &str) -> Self {
        Self {
            shards: vec![Keys::new(namespace)],
            sharded: false,
        }
    }

    /// `shards` shards (1 to [`MAX_SHARDS`]; 0 is node's layout). Shard `I`'s prefix is
    /// `{NS:sI.K}:`, K the first number that puts the tag in the `I`-th of `shards` equal
    /// slot ranges: a cluster whose masters own equal contiguous ranges (what
    /// `redis-cli --cluster create` makes) gets an equal share of the shards, which random
    /// tags would not give (16 random slots over 3 masters are often 3/6/7).
    pub fn sharded(namespace: &str, shards: u16) -> Self {
        let n = u32::from(shards.min(MAX_SHARDS));
        if n == 0 {
            return Self::node(namespace);
        }
        let shards = (0..n)
            .map(|i| {
                let range = i * SLOTS / n..(i + 1) * SLOTS / n;
                // A namespace holding `}` truncates the tag, so no K may help: keep the last.
                let mut tag = String::new();
                for k in 0..100_000 {
                    tag = format!("{{{namespace}:s{i}.{k}}}:");
                    if range.contains(&u32::from(slot(tag.as_bytes()))) {
                        break;
                    }
                }
                Keys { prefix: tag }
            })
            .collect();
        Self {
            shards,
            sharded: true,
        }
    }

    /// Every shard's keys (node's layout: one).
    pub fn shards(&self) -> &[Keys] {
        &self.shards
    }

    pub fn is_sharded(&self) -> bool {
        self.sharded
    }

    /// The shard a token names (node's layout: the one), `None` for a token of no shard
    /// here (made by node, or for another shard count): no session has it.
    pub fn token_shard(&self, token: &str) -> Option<usize> {
        if !self.sharded {
            return Some(0);
        }
        let shard = token::shard_of(token)?;
        (shard < self.shards.len()).then_some(shard)
    }

    /// The shard of a user's sessions, so all of them are in one: SHA-1 of the id (fixed
    /// forever, as the layout must be; CRC16's low bits put sequential ids like `user1`,
    /// `user2`... twice as often in some shards as in others).
    pub fn user_shard(&self, id: &str) -> usize {
        if !self.sharded {
            return 0;
        }
        let digest = sha1_smol::Sha1::from(id).digest().bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % self.shards.len() as u64) as usize
    }

    /// The keys of shard `i` (< `shards().len()`).
    pub fn shard(&self, i: usize) -> &Keys {
        &self.shards[i]
    }
}

/// The glob of every key of `namespace` in its layout, and of no other namespace's when
/// namespaces hold no `:`, `{`, `}` or glob character: `NS:*`, sharded `{NS:s*`. What a
/// Redis ACL user confined to the namespace is allowed (`~`).
pub fn key_glob(namespace: &str, sharded: bool) -> String {
    if sharded {
        format!("{{{namespace}:s*")
    } else {
        format!("{namespace}:*")
    }
}

/// The channel (or channels, sharded: one per shard) the scripts announce writes on:
/// `NS:cache`, sharded `{NS:s*:cache`.
pub fn cache_channel_glob(namespace: &str, sharded: bool) -> String {
    if sharded {
        format!("{{{namespace}:s*:cache")
    } else {
        format!("{namespace}:cache")
    }
}

impl From<Layout> for Cow<'_, Layout> {
    fn from(layout: Layout) -> Self {
        Cow::Owned(layout)
    }
}

impl<'a> From<&'a Layout> for Cow<'a, Layout> {
    fn from(layout: &'a Layout) -> Self {
        Cow::Borrowed(layout)
    }
}

/// The hash fields a session is read with: node's `HMGET` order, then `exp` (the absolute
/// deadline of a session created with max-age; node never writes or reads it).
pub const SESSION_FIELDS: [&str; 9] = ["id", "r", "w", "ttl", "d", "la", "ip", "no_resave", "exp"];

/// Builds the keys of one namespace.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// node v4 appends `:` to the namespace, so `""` gives keys starting with `:`.
    pub fn new(namespace: &str) -> Self {
        Self {
            prefix: format!("{namespace}:"),
        }
    }

    /// `NS:` (a shard's `{TAG}:`): what every key starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The session hash `NS:APP:TOKEN`.
    pub fn session(&self, app: &str, token: &str) -> String {
        format!("{}{app}:{token}", self.prefix)
    }

    /// `NS:APP:_sessions`.
    pub fn sessions(&self, app: &str) -> String {
        format!("{}{app}:_sessions", self.prefix)
    }

    /// `NS:APP:_users`.
    pub fn users(&self, app: &str) -> String {
        format!("{}{app}:_users", self.prefix)
    }

    /// `NS:APP:us:ID`.
    pub fn user_tokens(&self, app: &str, id: &str) -> String {
        format!("{}{app}:us:{id}", self.prefix)
    }

    /// `NS:SESSIONS`, shared by every app of the namespace (of the shard).
    pub fn expiries(&self) -> String {
        format!("{}SESSIONS", self.prefix)
    }
}

/// A `_sessions` member: `TOKEN:ID`.
pub fn session_member(token: &str, id: &str) -> String {
    format!("{token}:{id}")
}

/// A `SESSIONS` member: `APP:TOKEN:ID`.
pub fn expiry_member(app: &str, token: &str, id: &str) -> String {
    format!("{app}:{token}:{id}")
}

/// Splits a `SESSIONS` member. node splits on every `:` and so truncates ids holding one;
/// here the app has no `:` and the token is exactly 64 characters, so the id is the rest.
pub fn parse_expiry_member(member: &str) -> Option<(&str, &str, &str)> {
    let (app, rest) = member.split_once(':')?;
    let (token, id) = parse_session_member(rest)?;
    Some((app, token, id))
}

/// Splits a `_sessions` member `TOKEN:ID`, the id possibly holding `:`.
pub fn parse_session_member(member: &str) -> Option<(&str, &str)> {
    let token = member.get(..TOKEN_LEN)?;
    let id = member.get(TOKEN_LEN..)?.strip_prefix(':')?;
    Some((token, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOK: &str = "iAD345vReWQNqodmY6fxrkeMaB8FlpdB0LlCwi3MMKilSX2ilTDcFLhZmwy50ujz";

    #[test]
    fn node_key_names() {
        let k = Keys::new("rs");
        assert_eq!(k.session("myapp", TOK), format!("rs:myapp:{TOK}"));
        assert_eq!(k.sessions("myapp"), "rs:myapp:_sessions");
        assert_eq!(k.users("myapp"), "rs:myapp:_users");
        assert_eq!(k.user_tokens("myapp", "u:1"), "rs:myapp:us:u:1");
        assert_eq!(k.expiries(), "rs:SESSIONS");
        assert_eq!(Keys::new("").expiries(), ":SESSIONS");
        assert_eq!(session_member(TOK, "user1"), format!("{TOK}:user1"));
        assert_eq!(
            expiry_member("myapp", TOK, "user1"),
            format!("myapp:{TOK}:user1")
        );
    }

    #[test]
    fn slots_follow_redis_cluster() {
        // Redis' own answers (CLUSTER KEYSLOT).
        assert_eq!(slot(b"foo"), 12182);
        assert_eq!(slot(b"123456789"), 12739);
        assert_eq!(slot(b"{user1000}.following"), slot(b"{user1000}.followers"));
        assert_eq!(slot(b"foo{}{bar}"), slot(b"foo{}{bar}"));
        assert_ne!(slot(b"foo{}{bar}"), slot(b"bar"));
        assert_eq!(slot(b"foo{{bar}}zap"), slot(b"{bar"));
    }

    #[test]
    fn shards_take_equal_slot_ranges_and_one_slot_each() {
        for n in [1u16, 3, 16, 100] {
            let layout = Layout::sharded("rs", n);
            assert!(layout.is_sharded());
            assert_eq!(layout.shards().len(), usize::from(n));
            for (i, keys) in layout.shards().iter().enumerate() {
                let i = i as u32;
                let s = u32::from(slot(keys.session("app", TOK).as_bytes()));
                assert!(i * SLOTS / u32::from(n) <= s && s < (i + 1) * SLOTS / u32::from(n));
                for key in [
                    keys.sessions("app"),
                    keys.users("app"),
                    keys.user_tokens("app", "u:1"),
                    keys.expiries(),
                ] {
                    assert_eq!(u32::from(slot(key.as_bytes())), s, "{key}");
                }
            }
        }
        let node = Layout::sharded("rs", 0);
        assert!(!node.is_sharded());
        assert_eq!(node.shard(0).sessions("app"), "rs:app:_sessions");
        assert_eq!(
            Layout::sharded("rs", 16).shard(3).prefix(),
            Layout::sharded("rs", 16).shard(3).prefix()
        );
    }

    #[test]
    fn a_user_keeps_its_shard() {
        let layout = Layout::sharded("rs", 16);
        let mut seen = [0usize; 16];
        for u in 0..1000 {
            let id = format!("user{u}");
            assert_eq!(layout.user_shard(&id), layout.user_shard(&id));
            seen[layout.user_shard(&id)] += 1;
        }
        // 1000 users over 16 shards: 62.5 each, binomial spread (σ ≈ 7.7; CRC16 gave 43 to 95).
        assert!(seen.iter().all(|&n| (35..95).contains(&n)), "{seen:?}");
    }

    #[test]
    fn members_with_colons_in_the_id_parse_whole() {
        let m = expiry_member("app", TOK, "u:colon:x");
        assert_eq!(parse_expiry_member(&m), Some(("app", TOK, "u:colon:x")));
        assert_eq!(
            parse_session_member(&session_member(TOK, "é:1")),
            Some((TOK, "é:1"))
        );
        assert_eq!(parse_expiry_member("app:short:id"), None);
        assert_eq!(parse_session_member(TOK), None);
    }

    #[test]
    fn the_acl_globs_cover_the_namespace_s_keys_and_channels_only() {
        // A glob with one `*`, as these are.
        let matches = |glob: &str, name: &str| {
            let (head, tail) = glob.split_once('*').unwrap_or((glob, ""));
            name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
        };
        for sharded in [false, true] {
            let layout = Layout::sharded("acme", if sharded { 16 } else { 0 });
            for k in layout.shards() {
                for key in [k.session("app", TOK), k.users("app"), k.expiries()] {
                    assert!(matches(&key_glob("acme", sharded), &key), "{key}");
                    assert!(!matches(&key_glob("acm", sharded), &key), "{key}");
                    assert!(!matches(&key_glob("acme2", sharded), &key), "{key}");
                }
                let channel = format!("{}cache", k.prefix());
                assert!(matches(&cache_channel_glob("acme", sharded), &channel));
                assert!(!matches(&cache_channel_glob("acm", sharded), &channel));
            }
        }
    }
}
