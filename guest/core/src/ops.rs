//! The session methods, over any [`Environment`].

use crate::data::{self, DataInput, StoredData};
use crate::environment::command;
use crate::environment::{Command, CommandError, Environment, Reply};
use crate::error::OpError;
use crate::keys::{self, Keys, Layout};
use crate::page::{self, KILL_BATCH, Page};
use crate::scripts::{self, Script};
use crate::session::{self, Fields, Session};
use crate::token;
use crate::validate;
use std::borrow::Cow;

/// How many times `set` re-merges when a concurrent `set` changed `d` between its read and
/// its write. Every retry means another writer succeeded (no livelock), but one writer can
/// lose many rounds in a row while many others write the same session from busy threads
/// (seen: 100 rounds lost by one of 8 writers on a loaded 2-core machine). A retry costs one
/// round trip, so this bound is about a second of extreme contention, not a failure mode.
const MAX_SET_ATTEMPTS: usize = 2000;

pub(crate) fn store(e: CommandError) -> OpError {
    match e {
        CommandError::Unavailable(m) => OpError::Unavailable(m),
        e => OpError::Store(e.message()),
    }
}

pub(crate) fn unexpected(what: &str, reply: &impl std::fmt::Debug) -> OpError {
    OpError::Store(format!("unexpected reply to {what}: {reply:?}"))
}

pub(crate) fn count(what: &str, reply: Reply) -> Result<u64, OpError> {
    match reply.integer() {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(unexpected(what, &reply)),
    }
}

/// Takes the 9 session fields off the front of `replies`.
fn take_fields(replies: &mut impl Iterator<Item = Reply>) -> Fields {
    std::array::from_fn(|_| replies.next().and_then(Reply::into_bytes))
}

pub(crate) fn array(what: &str, reply: Reply) -> Result<Vec<Reply>, OpError> {
    match reply {
        Reply::Array(a) => Ok(a),
        Reply::Nil => Ok(Vec::new()),
        other => Err(unexpected(what, &other)),
    }
}

/// `create`'s options: node's (`ttl`, `d`, `no_resave`) and this project's.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreateOptions<'a> {
    /// Seconds; `None` or 0 is node's default, 7200.
    pub ttl: Option<i64>,
    pub d: Option<&'a DataInput>,
    pub no_resave: bool,
    /// Keep at most this many live sessions of the user (>= 1), this one included.
    pub max_per_user: Option<i64>,
    /// Seconds (>= 10) after which the session dies however active it is.
    pub max_age: Option<i64>,
}

/// `EVALSHA SHA NUMKEYS KEYS... ARGS...` (or `EVAL SOURCE ...`).
fn invocation(verb: &str, script: &str, keys: &[String], args: &[Vec<u8>]) -> Command {
    let mut cmd = command![verb, script, keys.len()];
    cmd.extend(keys.iter().map(|k| k.as_bytes().to_vec()));
    cmd.extend(args.iter().cloned());
    cmd
}

/// Whether Redis (one node of it, for a batch) did not know a script.
fn is_noscript(e: &CommandError) -> bool {
    matches!(e, CommandError::Server(m) if m.starts_with("NOSCRIPT"))
}

/// Runs a script by EVALSHA, loading it with EVAL when Redis does not know it yet.
pub(crate) fn run(
    backend: &mut impl Environment,
    script: &Script,
    keys: &[String],
    args: Command,
) -> Result<Reply, OpError> {
    // The common case sends the SHA; only a Redis that lost its script cache (restart,
    // SCRIPT FLUSH) costs a second command carrying the source.
    match backend.execute(invocation("EVALSHA", script.sha1(), keys, &args)) {
        Err(e) if is_noscript(&e) => {
            backend.execute(invocation("EVAL", script.source, keys, &args))
        }
        other => other,
    }
    .map_err(store)
}

/// One script call: its keys and arguments.
pub(crate) type ScriptCall = (Vec<String>, Command);

/// Runs `script` once per call, all in one pipeline: a cluster client sends each master its
/// part at once (one Redis: one round trip for all). `None` when a node did not know the
/// script: the calls on other nodes may have run all the same (a pipeline is not atomic),
/// uncounted, so only calls that change nothing may simply be made again by [`run`].
pub(crate) fn run_pipelined(
    backend: &mut impl Environment,
    script: &Script,
    calls: &[ScriptCall],
) -> Result<Option<Vec<Reply>>, OpError> {
    let commands = calls
        .iter()
        .map(|(keys, args)| invocation("EVALSHA", script.sha1(), keys, args))
        .collect();
    match backend.pipeline(commands) {
        Ok(replies) if replies.len() == calls.len() => Ok(Some(replies)),
        Ok(replies) => Err(unexpected(script.name, &replies)),
        Err(e) if is_noscript(&e) => Ok(None),
        Err(e) => Err(store(e)),
    }
}

/// The keys a one-session script declares: hash, _sessions, _users, SESSIONS.
fn session_keys(keys: &Keys, app: &str, token: &str) -> Vec<String> {
    vec![
        keys.session(app, token),
        keys.sessions(app),
        keys.users(app),
        keys.expiries(),
    ]
}

/// The session API over one namespace of one backend.
#[derive(Debug)]
pub struct SessionLogic<'a, B> {
    pub(crate) backend: B,
    pub(crate) layout: Cow<'a, Layout>,
}

impl<'a, B: Environment> SessionLogic<'a, B> {
    /// node's layout.
    pub fn new(backend: B, namespace: &str) -> Self {
        Self::with_layout(backend, Layout::node(namespace))
    }

    /// Any layout, e.g. a [`Layout::sharded`] one for Redis Cluster (made once and
    /// borrowed: finding its hash tags costs a few thousand CRCs).
    pub fn with_layout(backend: B, layout: impl Into<Cow<'a, Layout>>) -> Self {
        Self {
            backend,
            layout: layout.into(),
        }
    }

    /// The keys of the shard a token names; `None`: no session has this token.
    fn token_keys(&self, token: &str) -> Option<&Keys> {
        Some(self.layout.shard(self.layout.token_shard(token)?))
    }

    /// The keys of the shard of a user's sessions.
    fn user_keys(&self, id: &str) -> &Keys {
        self.layout.shard(self.layout.user_shard(id))
    }

    /// Reads sessions from a flat list of 9 fields each, skipping missing and expired ones.
    pub(crate) fn sessions(
        rows: impl Iterator<Item = Reply>,
        now: i64,
    ) -> Result<Vec<Session>, OpError> {
        let mut rows = rows.peekable();
        let mut out = Vec::new();
        while rows.peek().is_some() {
            if let Some(p) = session::prepare(&take_fields(&mut rows), now)? {
                out.push(p.session);
            }
        }
        Ok(out)
    }

    /// Creates a session; returns its token. One MULTI/EXEC, exactly node's commands; with
    /// `max_per_user`, one script that also deletes the user's oldest live sessions beyond
    /// the cap.
    pub fn create(
        &mut self,
        app: &str,
        id: &str,
        ip: &str,
        options: &CreateOptions<'_>,
    ) -> Result<String, OpError> {
        let ttl = validate::create_before_d(app, id, ip, options.ttl)?;
        let mut stored = StoredData::default();
        if let Some(d) = options.d {
            data::validate_input(d)?;
            stored.merge(d);
        }
        let max_age = validate::max_age(options.max_age)?;
        let cap = validate::max_per_user(options.max_per_user)?;
        let shard = self.layout.user_shard(id);
        let mut token = token::generate(|buf| self.backend.fill_random(buf)).map_err(store)?;
        if self.layout.is_sharded() {
            token = token::in_shard(token, shard);
        }
        let k = self.layout.shard(shard);
        let now = self.backend.now();
        let hash = k.session(app, &token);
        let mut fields = command![
            "id", id, "r", "1", "w", "1", "ip", ip, "la", now, "ttl", ttl
        ];
        if !stored.is_empty() {
            fields.extend(command!["d", stored.to_js_json()]);
        }
        if options.no_resave {
            fields.extend(command!["no_resave", "1"]);
        }
        let mut expiry = now.saturating_add(ttl);
        if let Some(max_age) = max_age {
            // node ignores `exp`; SESSIONS holds the earlier deadline, so the wipe removes
            // the session in time.
            let exp = now.saturating_add(max_age);
            fields.extend(command!["exp", exp]);
            expiry = expiry.min(exp);
        }
        if let Some(cap) = cap {
            let keys = vec![
                hash,
                k.sessions(app),
                k.users(app),
                k.expiries(),
                k.user_tokens(app, id),
            ];
            let mut args = command![k.prefix(), app, &token, id, now, expiry, cap];
            args.extend(fields);
            let reply = run(&mut self.backend, &scripts::CREATE_CAPPED, &keys, args)?;
            count("create", reply)?;
            return Ok(token);
        }
        let mut hset = command!["HSET", &hash];
        hset.extend(fields);
        let commands = vec![
            command![
                "ZADD",
                k.sessions(app),
                now,
                keys::session_member(&token, id)
            ],
            command!["ZADD", k.users(app), now, id],
            command![
                "ZADD",
                k.expiries(),
                expiry,
                keys::expiry_member(app, &token, id)
            ],
            command!["SADD", k.user_tokens(app, id), &token],
            hset,
        ];
        let replies = self.backend.transaction(commands).map_err(store)?;
        match replies.last().and_then(Reply::integer) {
            Some(n) if replies.len() == 5 && n >= 6 => Ok(token),
            _ => Err(unexpected("create", &replies)),
        }
    }

    /// Reads a session and records the activity, in one atomic script.
    pub fn get(&mut self, app: &str, token: &str) -> Result<Option<Session>, OpError> {
        validate::app(app)?;
        validate::token(token)?;
        let Some(k) = self.token_keys(token) else {
            return Ok(None);
        };
        let keys = session_keys(k, app, token);
        let now = self.backend.now();
        let reply = run(
            &mut self.backend,
            &scripts::GET,
            &keys,
            command![now, app, token],
        )?;
        let fields = take_fields(&mut array("get", reply)?.into_iter());
        Ok(session::prepare(&fields, now)?.map(|p| p.session))
    }

    /// Merges `d` into a session: read, merge here, then compare-and-set in a script, again
    /// from the fresh fields if another `set` got there first. No update is ever lost.
    pub fn set(
        &mut self,
        app: &str,
        token: &str,
        d: &DataInput,
    ) -> Result<Option<Session>, OpError> {
        validate::set_before_d(app, token)?;
        data::validate_input(d)?;
        let Some(k) = self.token_keys(token) else {
            return Ok(None);
        };
        let keys = session_keys(k, app, token);
        let prefix = k.prefix().to_owned();
        let mut hmget = command!["HMGET", &keys[0]];
        hmget.extend(keys::SESSION_FIELDS.iter().map(|f| f.as_bytes().to_vec()));
        let reply = self.backend.execute(hmget).map_err(store)?;
        let mut fields = take_fields(&mut array("set", reply)?.into_iter());
        for _ in 0..MAX_SET_ATTEMPTS {
            let now = self.backend.now();
            let Some(merge) = session::merge(&fields, now, d)? else {
                return Ok(None);
            };
            let args = command![
                now,
                app,
                token,
                merge.had_d,
                merge.old_d.as_slice(),
                &merge.new_d,
                &prefix
            ];
            let reply = run(&mut self.backend, &scripts::SET, &keys, args)?;
            let mut replies = array("set", reply)?.into_iter();
            let status = replies.next().and_then(|r| r.integer());
            let w = replies.next().and_then(|r| r.integer());
            match (status, w) {
                (Some(1), Some(w)) => {
                    // The session as the merge read it (live then, at the same `now`).
                    let mut written = merge.read;
                    written.session.w = w.max(0) as u64;
                    written.session.d = written.stored.visible();
                    return Ok(Some(written.session));
                }
                (Some(0), _) => return Ok(None),
                (Some(2), _) => fields = take_fields(&mut replies),
                _ => return Err(unexpected("set", &(status, w))),
            }
        }
        Err(OpError::Store(format!(
            "set gave up after {MAX_SET_ATTEMPTS} concurrent changes of d"
        )))
    }

    /// Deletes a live session and its index entries; returns 1 or 0. Never touches `r`.
    pub fn kill(&mut self, app: &str, token: &str) -> Result<u64, OpError> {
        validate::app(app)?;
        validate::token(token)?;
        let Some(k) = self.token_keys(token) else {
            return Ok(0);
        };
        let keys = vec![k.session(app, token)];
        let args = command![self.backend.now(), k.prefix(), app, token];
        count("kill", run(&mut self.backend, &scripts::KILL, &keys, args)?)
    }

    /// Gives a live session a new token and kills the old one, in one atomic script:
    /// everything else stays (`la` too: rotating is not activity). `None` when the session
    /// is missing or expired.
    pub fn rotate(&mut self, app: &str, token: &str) -> Result<Option<String>, OpError> {
        validate::app(app)?;
        validate::token(token)?;
        let Some(shard) = self.layout.token_shard(token) else {
            return Ok(None);
        };
        // A taken token (2^-370 odds per try) just draws another.
        for _ in 0..3 {
            let mut new = token::generate(|buf| self.backend.fill_random(buf)).map_err(store)?;
            if self.layout.is_sharded() {
                // The user's shard, as the old token's.
                new = token::in_shard(new, shard);
            }
            let k = self.layout.shard(shard);
            let keys = vec![
                k.session(app, token),
                k.session(app, &new),
                k.sessions(app),
                k.expiries(),
            ];
            let args = command![self.backend.now(), k.prefix(), app, token, &new];
            match run(&mut self.backend, &scripts::ROTATE, &keys, args)? {
                Reply::Integer(1) => return Ok(Some(new)),
                Reply::Integer(0) => return Ok(None),
                Reply::Integer(2) => continue,
                other => return Err(unexpected("rotate", &other)),
            }
        }
        Err(OpError::Store("rotate drew three taken tokens".into()))
    }

    /// The live sessions of one user, all pages of [`Self::soid_page`].
    pub fn soid(&mut self, app: &str, id: &str) -> Result<Vec<Session>, OpError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self.soid_page(app, id, cursor.as_deref())?;
            out.extend(page.sessions);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// One page of a user's live sessions: one SSCAN step over the user's tokens, read in
    /// the same script.
    pub fn soid_page(
        &mut self,
        app: &str,
        id: &str,
        cursor: Option<&str>,
    ) -> Result<Page, OpError> {
        validate::app(app)?;
        validate::id(id)?;
        let cursor = page::soid_cursor(cursor)?;
        let now = self.backend.now();
        let k = self.user_keys(id);
        let keys = [k.user_tokens(app, id)];
        let args = command![k.prefix(), app, id, cursor, page::SOID_PAGE];
        let reply = run(&mut self.backend, &scripts::SOID, &keys, args)?;
        let mut rows = array("soid", reply)?.into_iter();
        let next = rows
            .next()
            .and_then(Reply::into_bytes)
            .ok_or_else(|| OpError::Store("unexpected reply to soid".into()))?;
        let sessions = Self::sessions(rows, now)?;
        let next = (next != b"0").then(|| String::from_utf8_lossy(&next).into_owned());
        Ok(Page { sessions, next })
    }

    /// Deletes every session of one user, in atomic batches; returns how many. Sessions the
    /// user gets while it runs are deleted too, until the user's token set is empty.
    pub fn killsoid(&mut self, app: &str, id: &str) -> Result<u64, OpError> {
        validate::app(app)?;
        validate::id(id)?;
        let k = self.user_keys(id);
        let keys = [k.user_tokens(app, id)];
        let prefix = k.prefix().to_owned();
        let mut total = 0;
        loop {
            let args = command![&prefix, app, id, KILL_BATCH];
            let reply = run(&mut self.backend, &scripts::KILLSOID, &keys, args)?;
            let reply = array("killsoid", reply)?;
            let [killed, popped] = reply.as_slice() else {
                return Err(unexpected("killsoid", &reply));
            };
            let (Some(killed), Some(popped)) = (killed.integer(), popped.integer()) else {
                return Err(unexpected("killsoid", &reply));
            };
            total += killed.max(0) as u64;
            if popped < KILL_BATCH as i64 {
                return Ok(total);
            }
        }
    }

    /// `PONG` when Redis answers.
    pub fn ping(&mut self) -> Result<String, OpError> {
        match self.backend.execute(command!["PING"]).map_err(store)? {
            Reply::Status(s) => Ok(s),
            other => Err(unexpected("ping", &other)),
        }
    }
}
