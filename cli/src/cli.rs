//! The `redis-sessions` command line: one session call per run, JSON on stdout; `serve`;
//! `tenants`. Arguments and the environment become calls of the library here.

use crate::service::calls;
use crate::service::data_file::{self, DataFileError};
use crate::service::http::ConnectionLimits;
use crate::service::serve::{ServeError, ServeOptions, StoreChoice};
use crate::service::tenants::{self, TenantsError};
use clap::{Parser, Subcommand};
use redis_sessions::{Error, ReplicaAcks, SessionError, Sessions, SessionsBuilder, json};
use redis_sessions_core::validate;
use redis_sessions_rest::{self as rest, OpError, Outcome};
use serde_json::{Value, json};
use std::path::Path;

/// The Redis used when neither `--redis` nor `REDIS_URL` says otherwise.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

/// redis-sessions: sessions in Redis, in node redis-sessions' layout, run by a
/// WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "redis-sessions", version)]
pub struct Cli {
    /// Redis URL [env: REDIS_URL] [default: redis://127.0.0.1:6379]
    #[arg(long, global = true, value_name = "URL")]
    pub redis: Option<String>,
    /// Key namespace
    #[arg(
        long,
        global = true,
        env = "RS_NAMESPACE",
        default_value = "rs",
        value_name = "NS"
    )]
    pub namespace: String,
    /// The key layout: 0 is node's, 1 to 3844 shards for Redis Cluster (node cannot read
    /// it; fixed per namespace) [default: 16 on a redis+cluster:// URL, else 0]
    #[arg(
        long,
        global = true,
        env = "RS_SHARDS",
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(..=i64::from(redis_sessions::MAX_SHARDS))
    )]
    pub shards: Option<u16>,
    /// Acknowledge a call only once N replicas have its writes (Redis' WAIT after each
    /// write) [default: 0, no waiting]
    #[arg(long, global = true, env = "RS_WAIT_REPLICAS", value_name = "N")]
    pub wait_replicas: Option<u16>,
    /// How long a write waits for --wait-replicas, in ms
    #[arg(
        long,
        global = true,
        env = "RS_WAIT_TIMEOUT",
        value_name = "MS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub wait_timeout: u64,
    /// Use the embedded store, kept in FILE (loaded when it exists, saved after the call;
    /// for `serve`, snapshots on an interval and at shutdown) instead of Redis
    #[arg(long, global = true, value_name = "FILE")]
    pub data: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(flatten)]
    Call(Call),
    /// Serve the session API over HTTP (rest-sessions' routes) until SIGINT/SIGTERM
    Serve(ServeArgs),
    /// Manage the tenants of a multi-tenant `serve`
    #[command(subcommand)]
    Tenants(TenantsCommand),
}

#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// Create or update every tenant's Redis ACL user (ACL SETUSER)
    Provision {
        /// A Redis URL with a user allowed to run ACL SETUSER
        #[arg(long, value_name = "URL")]
        admin_redis: String,
        /// The tenants file
        #[arg(long, value_name = "FILE")]
        tenants: std::path::PathBuf,
    },
    /// Print the hash of an API key, for a tenants file's api_keys
    HashKey { key: String },
}

impl Cli {
    /// A [`Sessions`] builder with `--namespace`, `--shards` and `--wait-replicas`.
    pub fn sessions_builder(&self) -> SessionsBuilder {
        Sessions::builder()
            .namespace(&self.namespace)
            .shards(self.shards)
            .wait_for_replicas(self.replica_acks())
    }

    /// `--wait-replicas` (0: none) and `--wait-timeout`.
    pub fn replica_acks(&self) -> Option<ReplicaAcks> {
        self.wait_replicas
            .filter(|&n| n > 0)
            .map(|replicas| ReplicaAcks {
                replicas,
                timeout: std::time::Duration::from_millis(self.wait_timeout),
            })
    }
}

/// The one-shot session calls.
#[derive(Debug, Subcommand)]
pub enum Call {
    /// Create a session; prints {"token": ...}
    Create(CreateArgs),
    /// Read a session (counts as activity); prints it or null
    Get { app: String, token: String },
    /// Merge JSON into a session's data (null deletes a key); prints it or null
    Set {
        app: String,
        token: String,
        json: String,
    },
    /// Delete a session; prints {"kill": n}
    Kill { app: String, token: String },
    /// Give a session a new token, killing the old one; prints {"token": ...} or null
    Rotate { app: String, token: String },
    /// Count users active in the last dt seconds; prints {"activity": n}
    Activity {
        app: String,
        #[arg(long, default_value_t = 600, allow_negative_numbers = true)]
        dt: i64,
    },
    /// List a user's sessions; prints {"sessions": [...]}
    Soid { app: String, id: String },
    /// Delete a user's sessions; prints {"kill": n}
    Killsoid { app: String, id: String },
    /// List sessions active in the last dt seconds; prints {"sessions": [...]}
    Soapp {
        app: String,
        #[arg(long, default_value_t = 600, allow_negative_numbers = true)]
        dt: i64,
    },
    /// Delete every session of an app; prints {"kill": n}
    Killall { app: String },
    /// Delete expired sessions of every app; prints {"wiped": n}
    Wipe,
    /// Check Redis; prints PONG
    Ping,
}

/// `create`'s arguments.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    pub app: String,
    pub id: String,
    pub ip: String,
    /// Timeout in seconds (>= 10; default 7200)
    #[arg(long, allow_negative_numbers = true)]
    pub ttl: Option<i64>,
    /// Custom data: a flat JSON object
    #[arg(long, value_name = "JSON")]
    pub d: Option<String>,
    /// Expire ttl seconds after creation, however active
    #[arg(long)]
    pub no_resave: bool,
    /// Keep at most N live sessions of this user, this one included: the others with the
    /// oldest last activity are deleted (>= 1; not in node)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub max_per_user: Option<i64>,
    /// Die this many seconds after creation however active, and earlier when idle longer
    /// than ttl (>= 10; not in node)
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub max_age: Option<i64>,
}

/// `serve`'s options. Environment as rest-sessions: RS_PORT, RS_REDISHOST, RS_REDISPORT,
/// RS_NAMESPACE, plus REDIS_URL.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:$RS_PORT, else 127.0.0.1:3000]
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// Serve /metrics (per-tenant counters) on this address only [default: off]
    #[arg(long, value_name = "HOST:PORT")]
    pub metrics_listen: Option<String>,
    /// Seconds between wipes of expired sessions; 0 disables, minimum 10
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub wipe: u64,
    /// Serve several tenants, chosen by `Authorization: Bearer KEY` (see README)
    #[arg(long, value_name = "FILE")]
    pub tenants: Option<std::path::PathBuf>,
    /// With --data: seconds between compactions of the embedded store (its journal folded
    /// into the snapshot); 0 compacts only at shutdown. Every write is journaled either way
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub snapshot: u64,
    /// Seconds a client has to send a request's headers (and to start the next request
    /// on a kept-alive connection) before its connection is closed
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub header_timeout: u64,
    /// Connections served at once; more are closed at accept [default: 3/4 of the file
    /// limit]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Seconds in-flight requests get after SIGINT/SIGTERM before their connections are
    /// closed (the last snapshot is written after)
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub shutdown_timeout: u64,
    /// Log one line per request on stderr (method, route pattern, status, latency; never a
    /// token) [default: off]
    #[arg(long)]
    pub access_log: bool,
}

impl ServeArgs {
    /// `--listen`, else `127.0.0.1:$RS_PORT`, else `127.0.0.1:3000`.
    pub fn listen_addr(&self) -> String {
        self.listen.clone().unwrap_or_else(|| {
            let port = env_var("RS_PORT").unwrap_or_else(|| "3000".into());
            format!("127.0.0.1:{port}")
        })
    }

    /// `--header-timeout`, `--max-connections`, `--shutdown-timeout`.
    pub fn connection_limits(&self) -> ConnectionLimits {
        let defaults = ConnectionLimits::default();
        ConnectionLimits {
            header_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            max_connections: self.max_connections.unwrap_or(defaults.max_connections),
            shutdown_timeout: std::time::Duration::from_secs(self.shutdown_timeout),
        }
    }

    /// node's wipe option: 0 disables, anything below 10 becomes 10.
    pub fn wipe_every(&self) -> Option<std::time::Duration> {
        (self.wipe > 0).then(|| std::time::Duration::from_secs(self.wipe.max(10)))
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Whether `serve` was told of a Redis: `--redis`, `$REDIS_URL`, `$RS_REDISHOST` or
/// `$RS_REDISPORT`. Without one it runs on the embedded store.
pub fn serve_redis_configured(flag: Option<&str>) -> bool {
    flag.is_some()
        || ["REDIS_URL", "RS_REDISHOST", "RS_REDISPORT"]
            .iter()
            .any(|name| env_var(name).is_some())
}

/// The Redis `serve` uses: `--redis`, else `$REDIS_URL`, else rest-sessions'
/// `$RS_REDISHOST`/`$RS_REDISPORT`, else [`DEFAULT_REDIS_URL`].
pub fn serve_redis_url(flag: Option<&str>) -> String {
    if flag.is_some() || env_var("REDIS_URL").is_some() {
        return redis_url(flag);
    }
    match (env_var("RS_REDISHOST"), env_var("RS_REDISPORT")) {
        (None, None) => DEFAULT_REDIS_URL.to_owned(),
        (host, port) => format!(
            "redis://{}:{}",
            host.as_deref().unwrap_or("127.0.0.1"),
            port.as_deref().unwrap_or("6379")
        ),
    }
}

/// What a command prints.
#[derive(Debug, PartialEq)]
pub enum Output {
    Json(Value),
    Text(String),
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Json(v) => write!(f, "{v}"),
            Output::Text(t) => f.write_str(t),
        }
    }
}

/// `--redis`, else `$REDIS_URL`, else [`DEFAULT_REDIS_URL`].
pub fn redis_url(flag: Option<&str>) -> String {
    flag.map(str::to_owned)
        .or_else(|| env_var("REDIS_URL"))
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned())
}

/// Why a one-shot call failed: printed as `{"name": ..., "message": ...}`.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Session(#[from] Error),
    #[error(transparent)]
    DataFile(#[from] DataFileError),
    #[error(
        "--data uses the embedded store instead of Redis: give either --data or \
         --redis/REDIS_URL, not both"
    )]
    DataWithRedis,
}

impl CallError {
    /// The error as the CLI prints it: `{"name": ..., "message": ...}`.
    pub fn to_json(&self) -> Value {
        let name = match self {
            CallError::Session(e) => e.name(),
            CallError::DataFile(_) => "dataFileError",
            CallError::DataWithRedis => "usageError",
        };
        json!({ "name": name, "message": self.to_string() })
    }
}

/// `d` from its JSON text. Text that is not JSON fails first (as node's body-parser rejects
/// a body); a `d` node rejects fails in node's order, after `earlier`, the session logic's
/// checks of the parameters node checks before `d`.
fn parse_d<T>(
    text: &str,
    earlier: impl FnOnce() -> Result<T, OpError>,
) -> Result<rest::DataInput, SessionError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| SessionError::InvalidValue(format!("d is not valid JSON: {e}")))?;
    rest::input_from_json(&value).map_err(|e| json::invalid(rest::d_error_after(earlier(), e)))
}

/// How the CLI prints an outcome: node's objects, a missing session as `null`.
fn output(outcome: Outcome) -> Output {
    let json = match outcome {
        Outcome::Token(token) => json!({ "token": token }),
        Outcome::Session(s) => s.map_or(Value::Null, |s| s.to_json()),
        Outcome::Rotated(token) => token.map_or(Value::Null, |t| json!({ "token": t })),
        // The service's rendering, one session's JSON value at a time: a value per session
        // at once took the CLI to 585 MiB over a big app's 250 000 sessions.
        outcome @ Outcome::Sessions(_) => return Output::Text(rest::answer(Ok(outcome)).body),
        Outcome::Killed(n) => json!({ "kill": n }),
        Outcome::Activity(n) => json!({ "activity": n }),
        Outcome::Pong(pong) => return Output::Text(pong),
    };
    Output::Json(json)
}

/// `serve`'s options from the command line and the environment: on Redis when one is
/// configured, else on the embedded store (kept in `data` when given).
pub fn serve_options(cli: &Cli, args: &ServeArgs) -> Result<ServeOptions, ServeError> {
    let (redis, data) = (cli.redis.as_deref(), cli.data.as_deref());
    let store = if serve_redis_configured(redis) {
        if data.is_some() {
            return Err(ServeError::DataWithRedis);
        }
        StoreChoice::Redis(serve_redis_url(redis))
    } else {
        StoreChoice::Embedded {
            data: data.map(Path::to_path_buf),
        }
    };
    Ok(ServeOptions {
        listen: args.listen_addr(),
        metrics_listen: args.metrics_listen.clone(),
        store,
        namespace: cli.namespace.clone(),
        shards: cli.shards,
        replica_acks: cli.replica_acks(),
        tenants: args.tenants.clone(),
        wipe_every: args.wipe_every(),
        snapshot_every: (args.snapshot > 0).then(|| std::time::Duration::from_secs(args.snapshot)),
        connections: args.connection_limits(),
    })
}

/// Runs a `tenants` command; returns what to print.
pub async fn tenants(command: &TenantsCommand) -> Result<String, TenantsError> {
    match command {
        TenantsCommand::HashKey { key } => Ok(tenants::hash_key(key)),
        TenantsCommand::Provision {
            admin_redis,
            tenants: file,
        } => {
            let list = tenants::load(file)?;
            Ok(tenants::provision(admin_redis, &list).await?.join("\n"))
        }
    }
}

/// Runs one command on the embedded store kept in `file` (read when it exists, written
/// back after the call).
pub async fn run_embedded(
    file: &Path,
    sessions: SessionsBuilder,
    call: Call,
) -> Result<Output, CallError> {
    let (store, _held) = data_file::open(file)?;
    let sessions = sessions.build_with(store.clone())?;
    let result = run(&sessions, call).await;
    // Every write is journaled already; the checkpoint folds the journal into the snapshot
    // so the next command starts from one file.
    data_file::checkpoint(&store, file).await?;
    Ok(result?)
}
/// Runs one command against `sessions`.
pub async fn run(sessions: &Sessions, call: Call) -> Result<Output, Error> {
    let call = match call {
        Call::Wipe => return Ok(Output::Json(json!({ "wiped": sessions.wipe().await? }))),
        Call::Create(c) => rest::Call::Create(rest::Create {
            d: c.d
                .as_deref()
                .map(|d| parse_d(d, || validate::create_before_d(&c.app, &c.id, &c.ip, c.ttl)))
                .transpose()?,
            app: c.app,
            id: c.id,
            ip: c.ip,
            ttl: c.ttl,
            no_resave: c.no_resave,
            max_per_user: c.max_per_user,
            max_age: c.max_age,
        }),
        Call::Set { app, token, json } => rest::Call::Set {
            d: parse_d(&json, || validate::set_before_d(&app, &token))?,
            app,
            token,
        },
        Call::Get { app, token } => rest::Call::Get { app, token },
        Call::Kill { app, token } => rest::Call::Kill { app, token },
        Call::Rotate { app, token } => rest::Call::Rotate { app, token },
        Call::Activity { app, dt } => rest::Call::Activity { app, dt },
        Call::Soid { app, id } => rest::Call::Soid { app, id },
        Call::Killsoid { app, id } => rest::Call::Killsoid { app, id },
        Call::Soapp { app, dt } => rest::Call::Soapp { app, dt },
        Call::Killall { app } => rest::Call::Killall { app },
        Call::Ping => rest::Call::Ping,
    };
    Ok(output(calls::execute(sessions, call).await?))
}
