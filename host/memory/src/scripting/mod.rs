//! EVAL and EVALSHA over a lazily created, sandboxed Lua 5.1 state.
//!
//! Scripts reach the data through a [`DataCommand`] the caller passes in (the command
//! table's `redis.call` entry), so this module never imports the command table.

mod convert;
mod engine;
mod errors;
mod redis_lib;

use crate::keyspace::{DataCommand, Keyspace};
use crate::reply::{Reply, ServerError, err, int_arg};
use engine::Engine;
pub use engine::ScriptLimits;

/// The script cache and the Lua state (created by the first script).
#[derive(Debug, Default)]
pub(crate) struct Scripting {
    engine: Option<Engine>,
    limits: ScriptLimits,
}

fn noscript() -> ServerError {
    ServerError("NOSCRIPT No matching script. Please use EVAL.".into())
}

/// A script's KEYS and ARGV.
type KeysAndArgs<'a> = (&'a [Vec<u8>], &'a [Vec<u8>]);

/// EVAL/EVALSHA's `numkeys`, checked against the arguments that follow it.
fn split_keys(args: &[Vec<u8>]) -> Result<KeysAndArgs<'_>, ServerError> {
    let numkeys = int_arg(&args[2])?;
    let rest = &args[3..];
    if numkeys > rest.len() as i64 {
        return Err(err("Number of keys can't be greater than number of args"));
    }
    let numkeys = usize::try_from(numkeys).map_err(|_| err("Number of keys can't be negative"))?;
    Ok(rest.split_at(numkeys))
}

impl Scripting {
    /// No scripts yet, with these limits for every run.
    pub(crate) fn new(limits: ScriptLimits) -> Self {
        Scripting {
            engine: None,
            limits,
        }
    }

    fn engine(&mut self) -> Result<&mut Engine, ServerError> {
        if self.engine.is_none() {
            let engine = Engine::new(self.limits)
                .map_err(|e| ServerError(format!("ERR cannot create the Lua state: {e}")))?;
            self.engine = Some(engine);
        }
        self.engine
            .as_mut()
            .ok_or_else(|| err("cannot create the Lua state"))
    }

    /// EVAL script numkeys key... arg...: caches the script by its SHA1 and runs it, its
    /// `redis.call`s going through `call` on `db`.
    pub(crate) fn eval(&mut self, db: &mut Keyspace, args: &[Vec<u8>], call: DataCommand) -> Reply {
        let (keys, argv) = split_keys(args)?;
        let sha = sha1_smol::Sha1::from(&args[1]).digest().to_string();
        let engine = self.engine()?;
        engine.load(&sha, &args[1])?;
        engine.run(db, call, &sha, keys, argv)
    }

    /// EVALSHA sha numkeys key... arg...: a script EVAL cached.
    pub(crate) fn evalsha(
        &mut self,
        db: &mut Keyspace,
        args: &[Vec<u8>],
        call: DataCommand,
    ) -> Reply {
        if args[1].len() != 40 {
            return Err(noscript());
        }
        let (keys, argv) = split_keys(args)?;
        let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
        let engine = self.engine()?;
        if !engine.has(&sha) {
            return Err(noscript());
        }
        engine.run(db, call, &sha, keys, argv)
    }
}
