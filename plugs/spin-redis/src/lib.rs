//! The `redis` capability of `redis-sessions:redis` over Spin's `fermyon:spin/redis@2.0.0`,
//! configured through Spin variables, as a library: the Spin plug exports it as a
//! component (`plugs/spin`), the Spin bundle runs the session logic on it in the same
//! component (`bundles/spin`). Variables:
//! - `redis_url`: `redis://[[user]:password@]host[:port][/db]` or `rediss://...` (required;
//!   the host must be in the component's `allowed_outbound_hosts`);
//! - `namespace`: the key prefix, `rs` when unset or empty.
//!
//! Spin's `execute` flattens nested array replies and, before Spin 3.5, drops nil and `OK`
//! elements; it has no pipeline or transaction. So the capability never reads Spin's reply
//! shapes: every command, script and transaction runs inside a Lua script that returns the
//! RESP2 encoding of the real reply as one bulk string ([`redis_sessions_resp::lua`]).
//!
//! The connection (`connection.open`) is made at the first call, kept in the instance, and
//! dropped after a failure so the next call opens a new one. Errors of a command or script
//! come back inside the encoding and are `server` errors; an error of the wrapping call
//! itself (Spin's `other`: the connection broke, Redis is loading or busy) is `unavailable`,
//! naming the address, never the password.

use redis_sessions_resp::lua::{Failure, Runner, Scripted};
use redis_sessions_resp::{Command, Error, Settings};

wit_bindgen::generate!({
    world: "redis-sessions:spin-redis/imports",
    path: "wit",
    // The interfaces are Spin's: generate them here.
    generate_all,
});

use fermyon::spin::redis as spin;
use fermyon::spin::variables;

/// The capability: Spin's Redis through the Lua wrappers.
pub type Capability = Scripted<Spin>;

/// A new capability; it connects at its first call.
pub fn capability() -> Capability {
    Scripted::new(Spin::default())
}

/// The configured namespace (the `namespace` variable), `None` when the component has no
/// such variable.
pub fn namespace() -> Result<Option<String>, String> {
    variable(NAMESPACE_VARIABLE)
}

/// The Spin variable holding the Redis URL, and the one holding the namespace.
const URL_VARIABLE: &str = "redis_url";
const NAMESPACE_VARIABLE: &str = "namespace";

/// A variable's value; `None` when the component has no such variable.
fn variable(name: &str) -> Result<Option<String>, String> {
    match variables::get(name) {
        Ok(value) => Ok(Some(value)),
        Err(variables::Error::Undefined(_)) => Ok(None),
        Err(
            variables::Error::InvalidName(m)
            | variables::Error::Provider(m)
            | variables::Error::Other(m),
        ) => Err(format!("cannot read Spin variable `{name}`: {m}")),
    }
}

/// An open connection and what messages may say of it.
struct Open {
    connection: spin::Connection,
    settings: Settings,
}

/// Spin's `execute` as the [`Runner`] of the Lua wrappers.
#[derive(Default)]
pub struct Spin {
    open: Option<Open>,
}

impl std::fmt::Debug for Spin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let address = self.open.as_ref().map(|open| open.settings.address());
        f.debug_struct("Spin")
            .field("connected_to", &address)
            .finish()
    }
}

impl Spin {
    /// The kept connection, or a new one from `redis_url` (read at every connect, so a
    /// corrected variable is picked up without a new instance).
    fn connection(&mut self) -> Result<&Open, Error> {
        if let Some(ref open) = self.open {
            return Ok(open);
        }
        let url = variable(URL_VARIABLE)
            .map_err(Error::Unavailable)?
            .ok_or_else(|| {
                Error::Unavailable(format!("Spin variable `{URL_VARIABLE}` is not set"))
            })?;
        let settings = Settings::parse_runtime_url(&url).map_err(Error::Unavailable)?;
        let address = settings.address();
        let connection = spin::Connection::open(&url).map_err(|e| {
            Error::Unavailable(match e {
                spin::Error::InvalidAddress => format!(
                    "Spin refused Redis at {address}: not in allowed_outbound_hosts, or not a valid address"
                ),
                spin::Error::TooManyConnections => {
                    format!("Spin refused Redis at {address}: too many connections")
                }
                spin::Error::TypeError => format!("cannot connect to Redis at {address}"),
                spin::Error::Other(m) => format!(
                    "cannot connect to Redis at {address}: {}",
                    settings.redact(&m)
                ),
            })
        })?;
        Ok(self.open.insert(Open {
            connection,
            settings,
        }))
    }
}

impl Runner for Spin {
    fn run(&mut self, command: Command) -> Result<Vec<u8>, Failure> {
        let open = self.connection().map_err(Failure::Error)?;
        let mut args = command.into_iter();
        let name = String::from_utf8_lossy(&args.next().unwrap_or_default()).into_owned();
        let params: Vec<spin::RedisParameter> = args.map(spin::RedisParameter::Binary).collect();
        match open.connection.execute(&name, &params) {
            // The wrappers return one bulk string: every Spin version passes it unchanged.
            Ok(results) => match <[_; 1]>::try_from(results) {
                Ok([spin::RedisResult::Binary(bytes)]) => Ok(bytes),
                Ok([other]) => Err(Failure::Error(Error::UnsupportedReply(format!(
                    "Spin's execute returned {other:?} for a script returning a bulk string"
                )))),
                Err(results) => Err(Failure::Error(Error::UnsupportedReply(format!(
                    "Spin's execute returned {} values for a script returning one",
                    results.len()
                )))),
            },
            // Spin passes Redis' error as text, in its Redis client's words: NOSCRIPT can
            // only be recognized by its name.
            Err(spin::Error::Other(m)) if m.contains("NOSCRIPT") || m.contains("NoScript") => {
                Err(Failure::NoScript)
            }
            Err(e) => {
                let message = format!(
                    "Redis at {} failed through Spin: {}",
                    open.settings.address(),
                    open.settings.redact(&spin_error(e))
                );
                self.open = None;
                Err(Failure::Error(Error::Unavailable(message)))
            }
        }
    }
}

fn spin_error(e: spin::Error) -> String {
    match e {
        spin::Error::InvalidAddress => "invalid address".into(),
        spin::Error::TooManyConnections => "too many connections".into(),
        spin::Error::TypeError => "type error".into(),
        spin::Error::Other(m) => m,
    }
}
