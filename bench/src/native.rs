//! The baseline: the same Redis commands as the component sends, from native Rust over the
//! same kind of connection (a shared `ConnectionManager`), with the same core logic.

use redis::aio::ConnectionManager;
use redis::{Script, Value};
use redis_sessions_core::keys::{self, Keys, SESSION_FIELDS};
use redis_sessions_core::session::{self, Fields};
use redis_sessions_core::{DataInput, Session, scripts, token};
use std::sync::LazyLock;
use std::time::{SystemTime, UNIX_EPOCH};

static GET: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::GET.source));
static SET: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::SET.source));
static KILL: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::KILL.source));

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Clone)]
pub struct Native {
    conn: ConnectionManager,
    keys: Keys,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn fields(values: impl IntoIterator<Item = Value>) -> Fields {
    let mut it = values.into_iter().map(|v| match v {
        Value::BulkString(b) => Some(b),
        _ => None,
    });
    std::array::from_fn(|_| it.next().flatten())
}

impl Native {
    pub fn new(conn: ConnectionManager, namespace: &str) -> Self {
        Self {
            conn,
            keys: Keys::new(namespace),
        }
    }

    fn session_keys<'a>(
        &self,
        script: &'a Script,
        app: &str,
        token: &str,
    ) -> redis::ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        inv.key(self.keys.session(app, token))
            .key(self.keys.sessions(app))
            .key(self.keys.users(app))
            .key(self.keys.expiries());
        inv
    }

    pub async fn create(&self, app: &str, id: &str, ip: &str, ttl: i64) -> Result<String> {
        let token = token::generate(getrandom::fill)?;
        let now = now();
        let hash = self.keys.session(app, &token);
        // Exactly the component's MULTI: node's commands, one HSET with every field.
        let mut pipe = redis::pipe();
        pipe.atomic()
            .zadd(
                self.keys.sessions(app),
                keys::session_member(&token, id),
                now,
            )
            .zadd(self.keys.users(app), id, now)
            .zadd(
                self.keys.expiries(),
                keys::expiry_member(app, &token, id),
                now + ttl,
            )
            .sadd(self.keys.user_tokens(app, id), &token)
            .cmd("HSET")
            .arg(&hash)
            .arg(&["id", id, "r", "1", "w", "1", "ip", ip, "la"])
            .arg(now)
            .arg("ttl")
            .arg(ttl);
        let _: Vec<Value> = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(token)
    }

    pub async fn get(&self, app: &str, token: &str) -> Result<Option<Session>> {
        let now = now();
        let reply: Vec<Value> = self
            .session_keys(&GET, app, token)
            .arg(now)
            .arg(app)
            .arg(token)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(session::prepare(&fields(reply), now)?.map(|p| p.session))
    }

    pub async fn set(&self, app: &str, token: &str, d: &DataInput) -> Result<Option<Session>> {
        let mut conn = self.conn.clone();
        let read: Vec<Value> = redis::cmd("HMGET")
            .arg(self.keys.session(app, token))
            .arg(&SESSION_FIELDS)
            .query_async(&mut conn)
            .await?;
        let mut current = fields(read);
        loop {
            let now = now();
            let Some(merge) = session::merge(&current, now, d)? else {
                return Ok(None);
            };
            let reply: Vec<Value> = self
                .session_keys(&SET, app, token)
                .arg(now)
                .arg(app)
                .arg(token)
                .arg(merge.had_d)
                .arg(&merge.old_d)
                .arg(&merge.new_d)
                .arg(self.keys.prefix())
                .invoke_async(&mut conn)
                .await?;
            let mut it = reply.into_iter();
            let status = it.next();
            let w = it.next();
            match (status, w) {
                // Written: the session as the merge read it, as the component answers.
                (Some(Value::Int(1)), Some(Value::Int(w))) => {
                    let mut s = merge.read.session;
                    s.w = w as u64;
                    s.d = merge.read.stored.visible();
                    return Ok(Some(s));
                }
                (Some(Value::Int(2)), _) => current = fields(it),
                _ => return Ok(None),
            }
        }
    }

    pub async fn kill(&self, app: &str, token: &str) -> Result<u64> {
        let n: u64 = KILL
            .key(self.keys.session(app, token))
            .arg(now())
            .arg(self.keys.prefix())
            .arg(app)
            .arg(token)
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok(n)
    }
}
