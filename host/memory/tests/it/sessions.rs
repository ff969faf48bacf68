//! The project's session logic (`redis_sessions_core::SessionLogic`, the code the component
//! runs) over the embedded store and over a real redis-server, side by side: same clock,
//! same "random" bytes, so the same tokens. Every result and the whole keyspace must match.

use crate::support;
use redis_sessions_core::keys::{self, Layout};
use redis_sessions_core::{
    Command, CommandError, CreateOptions, DataValue, Environment, Reply, Session, SessionLogic,
    token,
};
use redis_sessions_memory::{MemoryStore, ServerError, Value};
use std::cell::Cell;
use std::rc::Rc;
use support::{Both, Redis, RedisServer, c, redis, session_result};

/// A clock both sides share, and a deterministic byte stream per side.
struct Env {
    now: Rc<Cell<i64>>,
    seed: u64,
}

impl Env {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            *b = (self.seed >> 24) as u8;
        }
    }
}

/// What a side runs commands on: the embedded store or the real Redis.
trait Server {
    fn run(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError>;
    #[allow(clippy::type_complexity, reason = "the store's own transaction type")]
    fn multi(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError>;
}

impl Server for Rc<MemoryStore> {
    fn run(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        self.execute(command)
    }
    fn multi(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        self.transaction(commands)
    }
}

impl Server for Redis {
    fn run(&mut self, command: &[Vec<u8>]) -> Result<Value, ServerError> {
        self.call(command)
    }
    fn multi(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Result<Value, ServerError>>, ServerError> {
        self.transaction(commands)
    }
}

/// One side: its server, its clock and its bytes.
struct Side<S>(S, Env);

impl<S: Server> Environment for Side<S> {
    fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        session_result(self.0.run(&command))
    }
    fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        commands
            .iter()
            .map(|c| session_result(self.0.run(c)))
            .collect()
    }
    fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        let replies = self
            .0
            .multi(&commands)
            .map_err(|e| CommandError::Server(e.0))?;
        replies.into_iter().map(session_result).collect()
    }
    fn now(&self) -> i64 {
        self.1.now.get()
    }
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError> {
        self.1.fill(buf);
        Ok(())
    }
}

/// Runs one session method on both sides and compares the results.
macro_rules! same {
    ($mem:expr, $real:expr, $method:ident ( $($arg:expr),* )) => {{
        let ours = $mem.$method($($arg),*);
        let theirs = $real.$method($($arg),*);
        assert_eq!(ours, theirs, "{} differs", stringify!($method));
        ours
    }};
}

#[test]
fn session_methods_match_redis() {
    let server = RedisServer::start();
    let now = Rc::new(Cell::new(1_800_000_000));
    let store = Rc::new(MemoryStore::new());
    let env = |seed| Env {
        now: now.clone(),
        seed,
    };
    let mut mem = SessionLogic::new(Side(store.clone(), env(0x9e37_79b9_7f4a_7c15)), "rs");
    let mut real = SessionLogic::new(Side(redis(&server), env(0x9e37_79b9_7f4a_7c15)), "rs");

    let d = vec![
        ("plan".to_owned(), Some(DataValue::Text("pro".into()))),
        ("n".to_owned(), Some(DataValue::Integer(1))),
        ("ratio".to_owned(), Some(DataValue::Float(12.7))),
    ];
    let mut tokens = Vec::new();
    for (app, id, ttl, data, no_resave) in [
        ("app", "u1", Some(3600), Some(&d), false),
        ("app", "u1", Some(60), None, false),
        ("app", "u2", None, Some(&d), true),
        ("app", "u:3", Some(30), None, false),
        ("other", "u1", Some(10), None, false),
    ] {
        let token = same!(
            mem,
            real,
            create(
                app,
                id,
                "127.0.0.1",
                &CreateOptions {
                    ttl,
                    d: data,
                    no_resave,
                    max_per_user: None,
                    max_age: None,
                }
            )
        )
        .unwrap();
        tokens.push((app, token));
        now.set(now.get() + 1);
    }
    same!(
        mem,
        real,
        create("app", "", "127.0.0.1", &CreateOptions::default())
    )
    .unwrap_err();
    same!(mem, real, ping()).unwrap();

    let step = |secs: i64| now.set(now.get() + secs);
    for (app, token) in &tokens {
        same!(mem, real, get(app, token)).unwrap();
    }
    step(5);
    let update = vec![
        ("n".to_owned(), Some(DataValue::Integer(2))),
        ("plan".to_owned(), None),
        ("seen".to_owned(), Some(DataValue::Boolean(true))),
    ];
    for (app, token) in &tokens {
        same!(mem, real, set(app, token, &update)).unwrap();
        same!(mem, real, get(app, token)).unwrap();
    }
    step(20);
    same!(mem, real, activity("app", 600)).unwrap();
    same!(mem, real, activity("app", 12)).unwrap();
    same!(mem, real, soapp("app", 600)).unwrap();
    same!(mem, real, soapp("app", 12)).unwrap();
    let ours = mem.soid("app", "u1").unwrap();
    let theirs = real.soid("app", "u1").unwrap();
    assert_eq!(ours.len(), theirs.len());
    for s in &ours {
        assert!(theirs.contains(s), "soid: {s:?} missing on Redis");
    }
    step(15); // u:3 (ttl 30) has expired
    same!(mem, real, get("app", &tokens[3].1)).unwrap();
    same!(mem, real, kill("app", &tokens[3].1)).unwrap();
    same!(mem, real, kill("app", &tokens[1].1)).unwrap();
    same!(mem, real, kill("app", &tokens[1].1)).unwrap();
    step(100); // 'other' (ttl 10) and u1's 60 s session are due
    same!(mem, real, wipe()).unwrap();
    same!(mem, real, killsoid("app", "u2")).unwrap();
    same!(mem, real, killsoid("app", "nobody")).unwrap();
    for i in 0..20 {
        same!(
            mem,
            real,
            create(
                "bulk",
                &format!("id{}", i % 6),
                "10.0.0.1",
                &CreateOptions {
                    ttl: Some(50 + i),
                    d: None,
                    no_resave: i % 3 == 0,
                    // Some capped: id0..id5 each get 3 or 4 sessions, a cap of 2 deletes.
                    max_per_user: (i % 4 == 0).then_some(2),
                    max_age: (i % 5 == 0).then_some(30),
                }
            )
        )
        .unwrap();
    }
    step(60);
    same!(mem, real, wipe()).unwrap();
    same!(mem, real, soapp("bulk", 1000)).unwrap();
    same!(mem, real, killall("bulk")).unwrap();
    same!(mem, real, killall("app")).unwrap();
    same!(mem, real, wipe()).unwrap();

    // The keyspace itself, byte for byte.
    drop((mem, real));
    let mut both = Both {
        store: Rc::try_unwrap(store).ok().unwrap(),
        redis: redis(&server),
        _server: server,
        compared: 0,
    };
    both.check_dump();
}

/// The sharded layout (Redis Cluster's) answers every method as node's layout does, on
/// the same clock and bytes (tokens differ only in the two symbols naming the shard), and
/// keeps each user's keys in one hash tag.
#[test]
fn the_sharded_layout_answers_as_node_s_layout() {
    let now = Rc::new(Cell::new(1_800_000_000));
    let env = |seed| Env {
        now: now.clone(),
        seed,
    };
    let node_store = Rc::new(MemoryStore::new());
    let sharded_store = Rc::new(MemoryStore::new());
    let layout = Layout::sharded("rs", 16);
    let mut node = SessionLogic::new(Side(node_store.clone(), env(7)), "rs");
    let mut sharded = SessionLogic::with_layout(Side(sharded_store.clone(), env(7)), &layout);
    let step = |secs: i64| now.set(now.get() + secs);

    // (app, id, node's token, the sharded layout's token)
    let mut sessions = Vec::new();
    for i in 0..60i64 {
        let (app, id) = (
            ["app", "other"][(i % 2) as usize],
            format!("user{}", i % 23),
        );
        let options = CreateOptions {
            ttl: Some(100 + i),
            no_resave: i % 7 == 0,
            max_per_user: (i % 11 == 0).then_some(2),
            max_age: (i % 5 == 0).then_some(150),
            ..CreateOptions::default()
        };
        let a = node.create(app, &id, "10.0.0.1", &options).unwrap();
        let b = sharded.create(app, &id, "10.0.0.1", &options).unwrap();
        assert_eq!(a[2..], b[2..]);
        let shard = token::shard_of(&b).unwrap();
        assert_eq!(shard, layout.user_shard(&id));
        sessions.push((app, id, a, b));
        step(1);
    }
    let used: std::collections::HashSet<_> =
        sessions.iter().map(|s| layout.user_shard(&s.1)).collect();
    assert!(used.len() >= 10, "23 users in {} of 16 shards", used.len());

    let d = vec![("n".to_owned(), Some(DataValue::Integer(2)))];
    for (i, (app, _, a, b)) in sessions.iter().enumerate() {
        assert_eq!(node.get(app, a), sharded.get(app, b));
        if i % 3 == 0 {
            assert_eq!(node.set(app, a, &d), sharded.set(app, b, &d));
        }
    }
    // A token of no shard of this layout (node's, or a corrupted one) is no session.
    let foreign = format!("99{}", &sessions[0].3[2..]);
    assert_eq!(sharded.get("app", &foreign).unwrap(), None);
    assert_eq!(sharded.kill("app", &foreign).unwrap(), 0);
    assert_eq!(sharded.rotate("app", &foreign).unwrap(), None);

    step(30);
    for dt in [10, 45, 1000] {
        assert_eq!(node.activity("app", dt), sharded.activity("app", dt));
        let (mut x, mut y) = (
            node.soapp("app", dt).unwrap(),
            sharded.soapp("app", dt).unwrap(),
        );
        assert!(y.windows(2).all(|w| w[0].idle <= w[1].idle), "newest first");
        let key = |s: &Session| (s.idle, s.id.clone(), s.ttl, s.r, s.w);
        x.sort_by_key(key);
        y.sort_by_key(key);
        assert_eq!(x, y);
    }
    // Page by page, shard by shard, every session once.
    let mut paged = 0;
    let mut cursor = None;
    loop {
        let page = sharded.soapp_page("app", 1000, cursor.as_deref()).unwrap();
        paged += page.sessions.len();
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, sharded.soapp("app", 1000).unwrap().len());
    assert!(sharded.soapp_page("app", 1000, Some("16 1")).is_err());

    for user in ["user1", "user2", "nobody"] {
        let (mut x, mut y) = (
            node.soid("app", user).unwrap(),
            sharded.soid("app", user).unwrap(),
        );
        x.sort_by_key(|s| s.idle);
        y.sort_by_key(|s| s.idle);
        assert_eq!(x, y);
    }
    let (app, _, a, b) = &sessions[40];
    let (ra, rb) = (
        node.rotate(app, a).unwrap(),
        sharded.rotate(app, b).unwrap(),
    );
    let rb = rb.unwrap();
    assert_eq!(
        token::shard_of(&rb),
        token::shard_of(b),
        "a rotated token keeps its shard"
    );
    assert_eq!(node.get(app, &ra.unwrap()), sharded.get(app, &rb));
    assert_eq!(node.kill(app, a), sharded.kill(app, b));
    assert_eq!(
        node.killsoid("app", "user2"),
        sharded.killsoid("app", "user2")
    );

    // Every key of the sharded store is in a shard, and a user's keys in its shard's slot.
    let keys = sharded_store.inspect(&c("KEYS *")).unwrap();
    let Value::Array(keys) = keys else { panic!() };
    let slots: Vec<u16> = layout
        .shards()
        .iter()
        .map(|k| keys::slot(k.prefix().as_bytes()))
        .collect();
    for key in &keys {
        let Value::Bulk(key) = key else { panic!() };
        assert!(
            slots.contains(&keys::slot(key)),
            "{}",
            String::from_utf8_lossy(key)
        );
    }
    for (app, id, _, _) in &sessions {
        let set = layout.shard(layout.user_shard(id)).user_tokens(app, id);
        if let Ok(Value::Array(tokens)) = sharded_store.inspect(&c(&format!("SMEMBERS {set}"))) {
            for t in tokens {
                let Value::Bulk(t) = t else { panic!() };
                assert_eq!(
                    token::shard_of(&String::from_utf8(t).unwrap()),
                    Some(layout.user_shard(id))
                );
            }
        }
    }

    step(200); // every session is due
    assert_eq!(node.wipe(), sharded.wipe());
    for (app, id, _, _) in sessions.iter().take(4) {
        let options = CreateOptions::default();
        node.create(app, id, "10.0.0.1", &options).unwrap();
        sharded.create(app, id, "10.0.0.1", &options).unwrap();
    }
    assert_eq!(node.killall("app"), sharded.killall("app"));
    assert_eq!(node.killall("other"), sharded.killall("other"));
    let empty = sharded_store.inspect(&c("KEYS *")).unwrap();
    assert_eq!(empty, Value::Array(Vec::new()));
}
