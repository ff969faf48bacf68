//! A session-store component that attacks its host, for the multi-tenant tests:
//! - `get(ns, key)`: reads `NS:KEY` of another tenant with a plain command, a disallowed
//!   command, and EVAL with an undeclared key; `set` writes there the same ways. Each
//!   attempt's outcome is reported in the error text; any success would be a breach.
//! - `ping`: loops forever (the CPU limit must stop it).
//! - `kill`: allocates without bound (the memory limit must stop it).
//! - `killall`: traps.
//! - `soapp-page(_, n, _)`: grows its memory by `n` MiB, touched, and succeeds (the pool
//!   must drop a grown instance rather than keep it idle).
//! - `create(app, ATTACK, ..)` runs an attack on the shared Redis, reporting each command's
//!   outcome as `get` does: `eval-loop` (a Lua busy loop), `eval-bomb` (Lua allocating
//!   200 MiB), `evalsha` (EVALSHA of the script `app`, with no keys), `ping-loop` (host calls
//!   forever, ignoring errors), `pipeline-loop` (pipelines of 100 PINGs forever).
//! - `wipe`: never returns (host calls forever, as `ping-loop`).

wit_bindgen::generate!({
    world: "session-store",
    path: "../../wit",
    generate_all,
});

use exports::redis_sessions::sessions::sessions::{
    CreateOptions, DataInput, Error, Guest, Session, SessionPage,
};
use redis_sessions::redis::redis::{self, Reply};

fn cmd(parts: &[&str]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.as_bytes().to_vec()).collect()
}

/// Runs each attempt and reports `ok: REPLY` or `refused: ERROR` for each.
fn attempts(list: &[Vec<Vec<u8>>]) -> Error {
    let report: Vec<String> = list
        .iter()
        .map(|c| match redis::execute(c) {
            Ok(Reply::Array(a)) if a.is_empty() => "ok: (empty)".to_owned(),
            Ok(r) => format!("ok: {r:?}"),
            Err(e) => format!("refused: {e:?}"),
        })
        .collect();
    Error::Store(report.join(" | "))
}

/// Host calls without end: only a command budget or a deadline stops this.
fn ping_forever() -> ! {
    loop {
        let _ = std::hint::black_box(redis::execute(&cmd(&["PING"])));
    }
}

struct Hostile;

impl Guest for Hostile {
    fn create(
        app: String,
        attack: String,
        _: String,
        _: Option<i64>,
        _: Option<DataInput>,
        _: bool,
    ) -> Result<String, Error> {
        match attack.as_str() {
            "eval-loop" => Err(attempts(&[cmd(&[
                "EVAL",
                "local i = 0 while true do i = i + 1 end",
                "0",
            ])])),
            "eval-bomb" => Err(attempts(&[cmd(&[
                "EVAL",
                "local t = {} for i = 1, 200 * 1024 do t[i] = string.rep('x', 1024) .. i end return #t",
                "0",
            ])])),
            "evalsha" => Err(attempts(&[cmd(&["EVALSHA", &app, "0"])])),
            "ping-loop" => ping_forever(),
            "pipeline-loop" => loop {
                let pings = vec![cmd(&["PING"]); 100];
                let _ = std::hint::black_box(redis::pipeline(&pings));
            },
            _ => Err(Error::Store("not implemented".into())),
        }
    }

    fn create_with(
        app: String,
        attack: String,
        ip: String,
        options: CreateOptions,
    ) -> Result<String, Error> {
        Self::create(app, attack, ip, options.ttl, options.d, options.no_resave)
    }

    fn get(ns: String, key: String) -> Result<Option<Session>, Error> {
        let target = format!("{ns}:{key}");
        Err(attempts(&[
            cmd(&["HMGET", &target, "id", "r"]),
            cmd(&["HGETALL", &target]),
            cmd(&[
                "EVAL",
                &format!("return redis.call('HMGET', '{target}', 'id')"),
                "0",
            ]),
            cmd(&[
                "EVAL",
                "return redis.call('HMGET', KEYS[1], 'id')",
                "1",
                &target,
            ]),
            cmd(&["EVAL", "return redis.call('KEYS', '*')", "0"]),
        ]))
    }

    fn set(ns: String, key: String, _: DataInput) -> Result<Option<Session>, Error> {
        let target = format!("{ns}:{key}");
        Err(attempts(&[
            cmd(&["HSET", &target, "r", "999"]),
            cmd(&["DEL", &target]),
            cmd(&[
                "EVAL",
                &format!("return redis.call('HSET', '{target}', 'r', '999')"),
                "0",
            ]),
            cmd(&["EVAL", "return redis.call('DEL', KEYS[1])", "1", &target]),
            cmd(&["FLUSHALL"]),
        ]))
    }

    fn kill(_: String, _: String) -> Result<u64, Error> {
        // Reserved, not written: memory grows at once, so the memory limit is hit long
        // before the CPU limit, however loaded the machine.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(Vec::with_capacity(1 << 22));
            std::hint::black_box(&hoard);
        }
    }

    fn rotate(_: String, _: String) -> Result<Option<String>, Error> {
        Ok(None)
    }

    fn activity(_: String, _: i64) -> Result<u64, Error> {
        Ok(0)
    }

    fn soid(_: String, _: String) -> Result<Vec<Session>, Error> {
        Ok(Vec::new())
    }

    fn killsoid(_: String, _: String) -> Result<u64, Error> {
        Ok(0)
    }

    fn soapp(_: String, _: i64) -> Result<Vec<Session>, Error> {
        Ok(Vec::new())
    }

    fn soapp_page(_: String, mib: i64, _: Option<String>) -> Result<SessionPage, Error> {
        let grown = vec![1u8; usize::try_from(mib).unwrap_or(0) << 20];
        std::hint::black_box(&grown);
        Ok(SessionPage {
            sessions: Vec::new(),
            next: None,
        })
    }

    fn soid_page(_: String, _: String, _: Option<String>) -> Result<SessionPage, Error> {
        Ok(SessionPage {
            sessions: Vec::new(),
            next: None,
        })
    }

    fn killall(_: String) -> Result<u64, Error> {
        std::process::abort()
    }

    fn wipe() -> Result<u64, Error> {
        ping_forever()
    }

    fn ping() -> Result<String, Error> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

export!(Hostile);
