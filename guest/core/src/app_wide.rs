//! The methods over a whole app or namespace: activity, soapp, killall and wipe. In a
//! sharded layout they fan out over every shard, each round one pipeline, so that a
//! cluster's masters work on their shards at once, and merge the answers.

use crate::environment::{Environment, Reply, command};
use crate::error::OpError;
use crate::keys::Keys;
use crate::ops::{ScriptCall, SessionLogic, array, count, run, run_pipelined, store};
use crate::page::{self, KILL_BATCH, Page, SoappCursor};
use crate::scripts::{self, Script};
use crate::session::Session;
use crate::validate;

/// How many expired sessions one wipe script removes, so one script never blocks Redis long.
const WIPE_BATCH: usize = 500;

/// How many shards' soapp pages one round reads: a round's reply is in the instance's
/// memory beside the listing, so it stays a few pages (each up to
/// [`page::SOAPP_PAGE_BYTES`]), not one per shard.
const SOAPP_SHARDS_AT_ONCE: usize = 4;

impl<B: Environment> SessionLogic<'_, B> {
    /// Distinct users of `app` active in the last `delta_time` seconds.
    pub fn activity(&mut self, app: &str, delta_time: i64) -> Result<u64, OpError> {
        validate::app(app)?;
        let dt = validate::delta_time(delta_time)?;
        let min = self.backend.now().saturating_sub(dt);
        let zcount = |k: &Keys| command!["ZCOUNT", k.users(app), min, "+inf"];
        if !self.layout.is_sharded() {
            let cmd = zcount(self.layout.shard(0));
            return count("activity", self.backend.execute(cmd).map_err(store)?);
        }
        // A user's sessions are in one shard, so distinct users add up.
        let cmds = self.layout.shards().iter().map(zcount).collect();
        let replies = self.backend.pipeline(cmds).map_err(store)?;
        replies
            .into_iter()
            .try_fold(0, |sum, r| Ok(sum + count("activity", r)?))
    }

    /// The live sessions of `app` active in the last `delta_time` seconds, newest first:
    /// all pages of [`Self::soapp_page`]. A sharded layout's are read a page of several
    /// shards at a time, then merged.
    pub fn soapp(&mut self, app: &str, delta_time: i64) -> Result<Vec<Session>, OpError> {
        validate::app(app)?;
        let dt = validate::delta_time(delta_time)?;
        let min = self.backend.now().saturating_sub(dt).to_string();
        let mut out = Vec::new();
        let mut cursors: Vec<SoappCursor> = (0..self.layout.shards().len())
            .map(|shard| SoappCursor::start(shard, min.clone()))
            .collect();
        while !cursors.is_empty() {
            let now = self.backend.now();
            let round: Vec<SoappCursor> = cursors
                .drain(..cursors.len().min(SOAPP_SHARDS_AT_ONCE))
                .collect();
            let calls: Vec<ScriptCall> = round.iter().map(|c| self.soapp_call(app, c)).collect();
            let replies = self.fan_out(&scripts::SOAPP, calls)?;
            for (cursor, reply) in round.into_iter().zip(replies) {
                let (sessions, more) = Self::soapp_reply(reply, cursor, now)?;
                out.extend(sessions);
                cursors.extend(more);
            }
        }
        if self.layout.is_sharded() {
            // Each shard's pages are newest first; merge them (a stable sort keeps ties in
            // page order).
            out.sort_by_key(|s| s.idle);
        }
        Ok(out)
    }

    /// One page of soapp, read atomically. The window (`now - delta_time`) is fixed by the
    /// first page and carried in the cursor; expiry is judged at each page's time. A
    /// sharded layout's pages go shard by shard, each newest first.
    pub fn soapp_page(
        &mut self,
        app: &str,
        delta_time: i64,
        cursor: Option<&str>,
    ) -> Result<Page, OpError> {
        validate::app(app)?;
        let dt = validate::delta_time(delta_time)?;
        let now = self.backend.now();
        let sharded = self.layout.is_sharded();
        let from = match cursor {
            Some(c) => SoappCursor::parse(c, sharded)?,
            None => SoappCursor::start(0, now.saturating_sub(dt).to_string()),
        };
        let shards = self.layout.shards().len();
        if from.shard >= shards {
            return Err(OpError::format("cursor"));
        }
        let (keys, args) = self.soapp_call(app, &from);
        let reply = run(&mut self.backend, &scripts::SOAPP, &keys, args)?;
        let (shard, min) = (from.shard, from.min.clone());
        let (sessions, next) = Self::soapp_reply(reply, from, now)?;
        let next = match next {
            None if shard + 1 < shards => Some(SoappCursor::start(shard + 1, min)),
            next => next,
        };
        let next = next.map(|c| c.render(sharded));
        Ok(Page { sessions, next })
    }

    /// The SOAPP script call for the page at `from`.
    fn soapp_call(&self, app: &str, from: &SoappCursor) -> ScriptCall {
        let k = self.layout.shard(from.shard);
        let args = command![
            k.prefix(),
            app,
            &from.min,
            page::SOAPP_PAGE,
            page::SOAPP_PAGE_BYTES,
            &from.score,
            &from.member,
            &from.position
        ];
        (vec![k.sessions(app)], args)
    }

    /// A SOAPP page's sessions, and the cursor of the shard's next page (`None`: the
    /// shard's last).
    fn soapp_reply(
        reply: Reply,
        from: SoappCursor,
        now: i64,
    ) -> Result<(Vec<Session>, Option<SoappCursor>), OpError> {
        let mut rows = array("soapp", reply)?.into_iter();
        let (score, member, position) = (rows.next(), rows.next(), rows.next());
        let (Some(score), Some(member), Some(position)) = (
            score.and_then(Reply::into_bytes),
            member.and_then(Reply::into_bytes),
            position.as_ref().and_then(Reply::integer),
        ) else {
            return Err(OpError::Store("unexpected reply to soapp".into()));
        };
        let sessions = Self::sessions(rows, now)?;
        let next = (!score.is_empty()).then(|| SoappCursor {
            shard: from.shard,
            min: from.min,
            score: String::from_utf8_lossy(&score).into_owned(),
            position: position.to_string(),
            member: String::from_utf8_lossy(&member).into_owned(),
        });
        Ok((sessions, next))
    }

    /// Deletes every session of `app`, in atomic batches of the oldest (every shard's at
    /// once); returns how many. Sessions created while it runs are deleted too, until
    /// `_sessions` is empty.
    pub fn killall(&mut self, app: &str) -> Result<u64, OpError> {
        validate::app(app)?;
        self.in_rounds(&scripts::KILLALL, KILL_BATCH, |k, batch| {
            (vec![k.sessions(app)], command![k.prefix(), app, batch])
        })
    }

    /// Deletes every expired session of the namespace, in batches (every shard's at once);
    /// returns how many.
    pub fn wipe(&mut self) -> Result<u64, OpError> {
        let now = self.backend.now();
        self.in_rounds(&scripts::WIPE, WIPE_BATCH, |k, batch| {
            (vec![k.expiries()], command![k.prefix(), now, batch])
        })
    }

    /// Runs calls of a read-only script: one pipeline, or (a node did not know the script)
    /// one call after another, loading it; nothing ran twice that matters.
    fn fan_out(&mut self, script: &Script, calls: Vec<ScriptCall>) -> Result<Vec<Reply>, OpError> {
        if calls.len() > 1
            && let Some(replies) = run_pipelined(&mut self.backend, script, &calls)?
        {
            return Ok(replies);
        }
        calls
            .into_iter()
            .map(|(keys, args)| run(&mut self.backend, script, &keys, args))
            .collect()
    }

    /// Runs a script deleting up to `batch` sessions of a shard (killall, wipe) in rounds,
    /// each one pipeline over the shards not yet done, until every shard's batch comes back
    /// short; returns how many it deleted.
    ///
    /// A pipeline that meets a node without the script may have deleted on the others
    /// uncounted, so a round of batch 0, which deletes nothing, first makes sure every
    /// node has it. Should a node lose it later (a failover mid-way), the call fails rather
    /// than answer a short count; calling it again deletes and counts the rest.
    fn in_rounds(
        &mut self,
        script: &Script,
        batch: usize,
        call: impl Fn(&Keys, usize) -> ScriptCall,
    ) -> Result<u64, OpError> {
        let shards = self.layout.shards().len();
        if shards > 1 {
            let probe: Vec<ScriptCall> = self.layout.shards().iter().map(|k| call(k, 0)).collect();
            self.fan_out(script, probe)?;
        }
        let mut total = 0;
        let mut pending: Vec<usize> = (0..shards).collect();
        while !pending.is_empty() {
            let calls: Vec<ScriptCall> = pending
                .iter()
                .map(|&i| call(self.layout.shard(i), batch))
                .collect();
            let replies = match calls.as_slice() {
                [(keys, args)] => vec![run(&mut self.backend, script, keys, args.clone())?],
                _ => run_pipelined(&mut self.backend, script, &calls)?.ok_or_else(|| {
                    OpError::Store(format!(
                        "{}: Redis lost the session scripts while it ran (a restart or a \
                         failover); call it again to finish",
                        script.name
                    ))
                })?,
            };
            let mut still = Vec::new();
            for (&i, reply) in pending.iter().zip(replies) {
                let removed = count(script.name, reply)?;
                total += removed;
                if removed >= batch as u64 {
                    still.push(i);
                }
            }
            pending = still;
        }
        Ok(total)
    }
}
