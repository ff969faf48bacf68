//! Model-based tests: random sequences of session calls and clock moves, run through the
//! library on each backend and compared, call by call, with [`Model`]: node's semantics with
//! this project's documented fixes (no resurrection, no drift of no_resave, kill without
//! touching `r`), written plainly. proptest shrinks a failing sequence to a shortest one and
//! prints it, ready to paste as a regression test.

use crate::common::{T0, TestStore};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use redis_sessions::{DataInput, DataValue, ManualClock, Session, Sessions};
use std::collections::BTreeMap;

const APPS: [&str; 2] = ["app1", "app2"];
const USERS: [&str; 3] = ["u1", "u:2", "jöhn"];
const KEYS: [&str; 3] = ["a", "b", "c"];
/// A token no session has.
const UNKNOWN: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone)]
enum Op {
    Create {
        app: usize,
        user: usize,
        ttl: Option<i64>,
        d: Option<DataInput>,
        no_resave: bool,
    },
    /// The session created `session`-th (modulo how many there are), or [`UNKNOWN`];
    /// `other_app` asks under the other app's name.
    Get {
        session: Option<Index>,
        other_app: bool,
    },
    Set {
        session: Option<Index>,
        d: DataInput,
    },
    Kill {
        session: Option<Index>,
    },
    Soid {
        app: usize,
        user: usize,
    },
    Killsoid {
        app: usize,
        user: usize,
    },
    Killall {
        app: usize,
    },
    Activity {
        app: usize,
        dt: i64,
    },
    Soapp {
        app: usize,
        dt: i64,
    },
    Advance(u64),
    Wipe,
}

fn value() -> impl Strategy<Value = Option<DataValue>> {
    prop_oneof![
        Just(None),
        Just(Some(DataValue::Text("x".into()))),
        Just(Some(DataValue::Text("ü\"\n".into()))),
        Just(Some(DataValue::Integer(7))),
        Just(Some(DataValue::Float(1.5))),
        Just(Some(DataValue::Boolean(false))),
    ]
}

/// A non-empty `d` with distinct keys.
fn data() -> impl Strategy<Value = DataInput> {
    proptest::collection::btree_map(proptest::sample::select(KEYS.to_vec()), value(), 1..=3)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn op() -> impl Strategy<Value = Op> {
    let app = 0..APPS.len();
    let user = 0..USERS.len();
    let session = proptest::option::weighted(0.9, any::<Index>());
    prop_oneof![
        4 => (app.clone(), user.clone(), proptest::sample::select(vec![None, Some(10), Some(30), Some(100)]),
            proptest::option::of(data()), any::<bool>())
            .prop_map(|(app, user, ttl, d, no_resave)| Op::Create { app, user, ttl, d, no_resave }),
        4 => (session.clone(), proptest::bool::weighted(0.1))
            .prop_map(|(session, other_app)| Op::Get { session, other_app }),
        3 => (session.clone(), data()).prop_map(|(session, d)| Op::Set { session, d }),
        1 => session.prop_map(|session| Op::Kill { session }),
        1 => (app.clone(), user.clone()).prop_map(|(app, user)| Op::Soid { app, user }),
        1 => (app.clone(), user).prop_map(|(app, user)| Op::Killsoid { app, user }),
        1 => app.clone().prop_map(|app| Op::Killall { app }),
        1 => (app.clone(), proptest::sample::select(vec![10, 30, 100]))
            .prop_map(|(app, dt)| Op::Activity { app, dt }),
        1 => (app, proptest::sample::select(vec![10, 30, 100])).prop_map(|(app, dt)| Op::Soapp { app, dt }),
        4 => proptest::sample::select(vec![0, 1, 2, 3, 9, 10, 11, 31, 101]).prop_map(Op::Advance),
        1 => Just(Op::Wipe),
    ]
}

/// One session as the model holds it: its hash's fields and its index scores.
#[derive(Debug, Clone)]
struct Held {
    app: usize,
    user: usize,
    token: String,
    r: u64,
    w: u64,
    ttl: i64,
    la: i64,
    no_resave: bool,
    d: Vec<(String, DataValue)>,
    /// Its score in the app's `_sessions` (the last activity recorded).
    active: i64,
    /// Its score in `SESSIONS`: when the wipe may delete it.
    deadline: i64,
    removed: bool,
}

/// node's semantics, with this project's fixes.
#[derive(Debug, Default)]
struct Model {
    now: i64,
    /// The store's layout is sharded (a cluster): soapp's ties have no order.
    sharded: bool,
    sessions: Vec<Held>,
    /// `_users` scores per (app, user).
    users: BTreeMap<(usize, usize), i64>,
}

impl Held {
    fn alive(&self, now: i64) -> bool {
        !self.removed && self.ttl >= now - self.la
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
            max_age: None,
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
fn merge(old: &mut Vec<(String, DataValue)>, new: &DataInput) {
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
enum Answer {
    Token,
    Session(Option<String>),
    Sessions(Vec<String>),
    Count(u64),
    Nothing,
}

fn json(s: &Session) -> String {
    s.to_json().to_string()
}

/// The model's answer to `op`, its state moved on.
fn expect(m: &mut Model, op: &Op) -> Answer {
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

/// A call's value; a failure ends the test, naming the call.
fn ok<T>(op: &Op, result: Result<T, redis_sessions::Error>) -> T {
    result.unwrap_or_else(|e| panic!("{op:?} failed: {e}"))
}

/// Runs `op` on `s`; a created session is added to the model with its real token.
async fn perform(s: &Sessions, clock: &ManualClock, m: &mut Model, op: &Op) -> Answer {
    let token = |session: &Option<Index>, m: &Model| {
        let len = m.sessions.len();
        session
            .filter(|_| len > 0)
            .map_or((UNKNOWN.to_owned(), 0), |ix| {
                let held = &m.sessions[ix.index(len)];
                (held.token.clone(), held.app)
            })
    };
    match op {
        Op::Create {
            app,
            user,
            ttl,
            d,
            no_resave,
        } => {
            let token = ok(
                op,
                s.create(
                    APPS[*app],
                    USERS[*user],
                    "::1",
                    *ttl,
                    d.as_ref(),
                    *no_resave,
                )
                .await,
            );
            let mut stored = Vec::new();
            if let Some(d) = d {
                merge(&mut stored, d);
            }
            let ttl = ttl.unwrap_or(7200);
            m.sessions.push(Held {
                app: *app,
                user: *user,
                token,
                r: 1,
                w: 1,
                ttl,
                la: m.now,
                no_resave: *no_resave,
                d: stored,
                active: m.now,
                deadline: m.now + ttl,
                removed: false,
            });
            m.users.insert((*app, *user), m.now);
            Answer::Token
        }
        Op::Get { session, other_app } => {
            let (token, app) = token(session, m);
            let app = (app + usize::from(*other_app)) % APPS.len();
            let got = ok(op, s.get(APPS[app], &token).await);
            Answer::Session(got.as_ref().map(json))
        }
        Op::Set { session, d } => {
            let (token, app) = token(session, m);
            let got = ok(op, s.set(APPS[app], &token, d).await);
            Answer::Session(got.as_ref().map(json))
        }
        Op::Kill { session } => {
            let (token, app) = token(session, m);
            Answer::Count(ok(op, s.kill(APPS[app], &token).await))
        }
        Op::Soid { app, user } => {
            let got = ok(op, s.soid(APPS[*app], USERS[*user]).await);
            let mut out: Vec<String> = got.iter().map(json).collect();
            out.sort();
            Answer::Sessions(out)
        }
        Op::Killsoid { app, user } => {
            Answer::Count(ok(op, s.killsoid(APPS[*app], USERS[*user]).await))
        }
        Op::Killall { app } => Answer::Count(ok(op, s.killall(APPS[*app]).await)),
        Op::Activity { app, dt } => Answer::Count(ok(op, s.activity(APPS[*app], *dt).await)),
        Op::Soapp { app, dt } => {
            let got = ok(op, s.soapp(APPS[*app], *dt).await);
            if s.shards() > 0 {
                // Sharded, ties in last activity have no order across shards: newest first
                // (by idle), then compared as a set.
                assert!(
                    got.is_sorted_by_key(|s| s.idle),
                    "{op:?}: not newest first: {got:?}"
                );
                let mut out: Vec<String> = got.iter().map(json).collect();
                out.sort();
                return Answer::Sessions(out);
            }
            Answer::Sessions(got.iter().map(json).collect())
        }
        Op::Advance(secs) => {
            clock.advance(*secs);
            m.now += *secs as i64;
            Answer::Nothing
        }
        Op::Wipe => Answer::Count(ok(op, s.wipe().await)),
    }
}

/// Random sequences on `store`, each in a namespace of its own, each call's answer compared
/// with the model's.
fn sequences_answer_as_the_model(store: TestStore, cases: u32) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let case = std::sync::atomic::AtomicU32::new(0);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rt.block_on(async {
            let clock = ManualClock::new(T0);
            let s = store.sessions_in(&format!("model{case}"), &clock).await;
            let mut model = Model {
                now: T0 as i64,
                sharded: s.shards() > 0,
                ..Model::default()
            };
            for (step, op) in ops.iter().enumerate() {
                let expected = expect(&mut model, op);
                let answered = perform(&s, &clock, &mut model, op).await;
                if answered != expected {
                    return Err(TestCaseError::fail(format!(
                        "step {step}, {op:?}: answered {answered:?}, the model {expected:?}"
                    )));
                }
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn embedded() {
    sequences_answer_as_the_model(TestStore::memory(), 64);
}

#[test]
fn redis_server() {
    sequences_answer_as_the_model(TestStore::redis(), 64);
}

#[test]
fn redis_cluster() {
    sequences_answer_as_the_model(TestStore::cluster(), 16);
}

/// A case the model's check pointed at: the library's soapp on a sharded layout listed the
/// shards' pages one after the other, not newest first.
#[test]
fn soapp_on_a_cluster_is_newest_first_across_shards() {
    let store = TestStore::cluster();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let clock = ManualClock::new(T0);
        let s = store.sessions_in("newest", &clock).await;
        for (i, user) in ["a", "b", "c", "d", "e", "f", "g", "h"].iter().enumerate() {
            s.create("app1", user, "::1", None, None, false)
                .await
                .unwrap();
            clock.advance(2 + i as u64);
        }
        let idles: Vec<i64> = s
            .soapp("app1", 100)
            .await
            .unwrap()
            .iter()
            .map(|s| s.idle)
            .collect();
        assert_eq!(idles, [9, 17, 24, 30, 35, 39, 42, 44]);
    });
}
