//! The model: node's semantics with this project's fixes and additions, as plain state and
//! plain rules, and its answer to each call.

use super::{APPS, Op, USERS};
use proptest::sample::Index;
use redis_sessions::{DataInput, DataValue, Session};
use std::collections::BTreeMap;

/// One session as the model holds it: its hash's fields and its index scores.
#[derive(Debug, Clone)]
pub(super) struct Held {
    pub(super) app: usize,
    pub(super) user: usize,
    pub(super) token: String,
    pub(super) r: u64,
    pub(super) w: u64,
    pub(super) ttl: i64,
    pub(super) la: i64,
    pub(super) no_resave: bool,
    pub(super) d: Vec<(String, DataValue)>,
    /// The max_age deadline (`exp`), when created with one.
    pub(super) exp: Option<i64>,
    /// Its score in the app's `_sessions` (the last activity recorded).
    pub(super) active: i64,
    /// Its score in `SESSIONS`: when the wipe may delete it.
    pub(super) deadline: i64,
    pub(super) removed: bool,
}

/// node's semantics, with this project's fixes.
#[derive(Debug, Default)]
pub(super) struct Model {
    pub(super) now: i64,
    /// The store's layout is sharded (a cluster): soapp's ties have no order.
    pub(super) sharded: bool,
    pub(super) sessions: Vec<Held>,
    /// `_users` scores per (app, user).
    pub(super) users: BTreeMap<(usize, usize), i64>,
}

impl Held {
    fn alive(&self, now: i64) -> bool {
        !self.removed && self.ttl >= now - self.la && self.exp.is_none_or(|exp| now <= exp)
    }

    /// node's `_prepareSession`.
    fn session(&self, now: i64) -> Session {
        let idle = now - self.la;
        Session {
            id: USERS[self.user].to_owned(),
            r: self.r,
            w: self.w,
            ttl: if self.no_resave {
                self.ttl - idle
            } else {
                self.ttl
            },
            idle,
            ip: "::1".to_owned(),
            no_resave: self.no_resave,
            d: self.d.clone(),
            max_age: self.exp.map(|exp| exp - now),
        }
    }
}

impl Model {
    /// The activity of get and set: the counter, then (unless within the second of the
    /// last activity) `la`, the remaining ttl of a no_resave session, and the scores.
    fn touch(&mut self, i: usize, write: bool) {
        let now = self.now;
        let s = &mut self.sessions[i];
        if write {
            s.w += 1;
        } else {
            s.r += 1;
        }
        let idle = now - s.la;
        if idle == 0 {
            return;
        }
        if s.no_resave {
            s.deadline = s.la + s.ttl;
            s.ttl -= idle;
            s.la = now;
        } else {
            if idle > 1 {
                s.la = now;
            }
            s.deadline = now + s.ttl;
        }
        if let Some(exp) = s.exp {
            s.deadline = s.deadline.min(exp);
        }
        s.active = now;
        self.users.insert((s.app, s.user), now);
    }

    fn remove(&mut self, i: usize) {
        let (app, user) = (self.sessions[i].app, self.sessions[i].user);
        self.sessions[i].removed = true;
        if !self.held(app, user).any(|_| true) {
            self.users.remove(&(app, user));
        }
    }

    fn held(&self, app: usize, user: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.sessions.len()).filter(move |&i| {
            let s = &self.sessions[i];
            !s.removed && s.app == app && s.user == user
        })
    }

    fn live(&self, i: usize, app: usize) -> bool {
        self.sessions[i].app == app && self.sessions[i].alive(self.now)
    }
}

/// `old` with `new` merged as node merges: null keys removed, the others set in place or
/// appended.
pub(super) fn merge(old: &mut Vec<(String, DataValue)>, new: &DataInput) {
    old.retain(|(k, _)| !new.iter().any(|(n, v)| n == k && v.is_none()));
    for (key, value) in new {
        let Some(value) = value else { continue };
        match old.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value.clone(),
            None => old.push((key.clone(), value.clone())),
        }
    }
}

/// What a call answered, in a form both sides give.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Answer {
    Token,
    Session(Option<String>),
    Sessions(Vec<String>),
    Count(u64),
    Rotated(bool),
    Nothing,
}

pub(super) fn json(s: &Session) -> String {
    s.to_json().to_string()
}

/// The model's answer to `op`, its state moved on.
pub(super) fn expect(m: &mut Model, op: &Op) -> Answer {
    let pick =
        |session: &Option<Index>, len: usize| session.filter(|_| len > 0).map(|ix| ix.index(len));
    match op {
        Op::Create { .. } => Answer::Token,
        Op::Get { session, other_app } => {
            let Some(i) = pick(session, m.sessions.len()) else {
                return Answer::Session(None);
            };
            let app = (m.sessions[i].app + usize::from(*other_app)) % APPS.len();
            if !m.live(i, app) {
                return Answer::Session(None);
            }
            let read = m.sessions[i].session(m.now);
            m.touch(i, false);
            Answer::Session(Some(json(&read)))
        }
        Op::Set { session, d } => {
            let Some(i) = pick(session, m.sessions.len()) else {
                return Answer::Session(None);
            };
            if !m.live(i, m.sessions[i].app) {
                return Answer::Session(None);
            }
            let mut read = m.sessions[i].session(m.now);
            merge(&mut m.sessions[i].d, d);
            m.touch(i, true);
            read.w = m.sessions[i].w;
            read.d = m.sessions[i].d.clone();
            Answer::Session(Some(json(&read)))
        }
        Op::Kill { session } => match pick(session, m.sessions.len()) {
            Some(i) if m.live(i, m.sessions[i].app) => {
                m.remove(i);
                Answer::Count(1)
            }
            _ => Answer::Count(0),
        },
        // Rotating moves the hash and its scores whole: it is not activity.
        Op::Rotate { session } => Answer::Rotated(
            pick(session, m.sessions.len()).is_some_and(|i| m.live(i, m.sessions[i].app)),
        ),
        Op::Soid { app, user } => {
            let mut out: Vec<String> = m
                .held(*app, *user)
                .filter(|&i| m.sessions[i].alive(m.now))
                .map(|i| json(&m.sessions[i].session(m.now)))
                .collect();
            out.sort();
            Answer::Sessions(out)
        }
        Op::Killsoid { app, user } => {
            let held: Vec<usize> = m.held(*app, *user).collect();
            for &i in &held {
                m.remove(i);
            }
            Answer::Count(held.len() as u64)
        }
        Op::Killall { app } => {
            let held: Vec<usize> = (0..m.sessions.len())
                .filter(|&i| !m.sessions[i].removed && m.sessions[i].app == *app)
                .collect();
            for &i in &held {
                m.remove(i);
            }
            Answer::Count(held.len() as u64)
        }
        Op::Activity { app, dt } => Answer::Count(
            m.users
                .iter()
                .filter(|((a, _), score)| a == app && **score >= m.now - dt)
                .count() as u64,
        ),
        Op::Soapp { app, dt } => {
            // `_sessions` newest first; ties by member (token:id) bytes, descending.
            let mut rows: Vec<&Held> = m
                .sessions
                .iter()
                .filter(|s| !s.removed && s.app == *app && s.active >= m.now - dt)
                .collect();
            let member = |s: &Held| format!("{}:{}", s.token, USERS[s.user]);
            rows.sort_by_key(|s| std::cmp::Reverse((s.active, member(s))));
            let mut out: Vec<String> = rows
                .into_iter()
                .filter(|s| s.alive(m.now))
                .map(|s| json(&s.session(m.now)))
                .collect();
            if m.sharded {
                out.sort();
            }
            Answer::Sessions(out)
        }
        Op::Advance(_) => Answer::Nothing,
        Op::Wipe => {
            let due: Vec<usize> = (0..m.sessions.len())
                .filter(|&i| !m.sessions[i].removed && m.sessions[i].deadline <= m.now)
                .collect();
            for &i in &due {
                m.remove(i);
            }
            Answer::Count(due.len() as u64)
        }
    }
}
