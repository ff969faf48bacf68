//! The redis capability through Lua, for a runtime whose Redis call changes the shape of
//! replies: Spin's `execute` flattens nested arrays and, before Spin 3.5, drops nil and `OK`
//! elements, so a reply read through it cannot be trusted. Here every command runs inside a
//! script that returns the RESP2 encoding of the real reply as ONE bulk string, a shape every
//! such runtime passes through unchanged, and [`codec::parse`] reads it back.
//!
//! - A plain command: `EVALSHA <command.lua> 0 CMD ARG...` (`EVAL` with the source when Redis
//!   answers NOSCRIPT).
//! - A caller's script (`EVAL src numkeys ...`): Lua cannot call `EVAL`, so the source is
//!   wrapped in a function inside the encoding (`script.lua`) and run with the caller's own
//!   keys and arguments. The wrapped scripts are kept by the caller's SHA1, so the caller's
//!   `EVALSHA` works; one not seen yet is NOSCRIPT, which makes the caller send `EVAL`.
//! - A transaction: one script (`batch.lua`) running every command, atomic as MULTI/EXEC. A
//!   pipeline of plain commands is the same one round trip.
//!
//! What differs from talking RESP directly: integers pass through Lua numbers, exact up to
//! 2^53; a command Redis refuses in scripts (MULTI, WATCH, SUBSCRIBE, ...) is that error, and
//! an unknown command's error is worded as in scripts; in a transaction a wrong command fails
//! alone instead of aborting all (no EXECABORT); errors a caller's script raises lose Redis'
//! `script: ...` suffix.

use crate::capability::Capability;
use crate::codec::{self, Command, Reply, Value};
use crate::error::Error;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The encoder every script starts with.
const RESP_LUA: &str = include_str!("lua/resp.lua");

/// What Redis answers an `EVALSHA` of a script it does not know, and what a caller's
/// `EVALSHA` of a script this module never saw gets, so the caller falls back to `EVAL`.
pub const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// How many caller scripts are kept; past it the map starts afresh (callers re-send `EVAL`
/// after NOSCRIPT), so a caller sending ever new sources cannot grow it without bound.
const MAX_SCRIPTS: usize = 64;

/// A script as sent to Redis: its source and the SHA1 Redis knows it by.
#[derive(Debug, Clone)]
struct Wrapped {
    source: Vec<u8>,
    sha1: String,
}

impl Wrapped {
    fn new(source: Vec<u8>) -> Self {
        let sha1 = sha1_hex(&source);
        Self { source, sha1 }
    }
}

fn sha1_hex(bytes: &[u8]) -> String {
    sha1_smol::Sha1::from(bytes).digest().to_string()
}

static COMMAND: LazyLock<Wrapped> = LazyLock::new(|| {
    Wrapped::new(
        [RESP_LUA, include_str!("lua/command.lua")]
            .concat()
            .into_bytes(),
    )
});

static BATCH: LazyLock<Wrapped> = LazyLock::new(|| {
    Wrapped::new(
        [RESP_LUA, include_str!("lua/batch.lua")]
            .concat()
            .into_bytes(),
    )
});

/// The caller's script as the body of a function inside the encoding. A `#!lua` flags line
/// (Redis 7) must stay the script's first line.
fn wrap(source: &[u8]) -> Vec<u8> {
    let (shebang, body) = match source.strip_prefix(b"#!") {
        Some(_) => {
            let end = source
                .iter()
                .position(|&b| b == b'\n')
                .map_or(source.len(), |i| i + 1);
            source.split_at(end)
        }
        None => (&source[..0], source),
    };
    let mut out = Vec::with_capacity(source.len() + 1024);
    out.extend_from_slice(shebang);
    if !shebang.is_empty() && !shebang.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(RESP_LUA.as_bytes());
    out.extend_from_slice(b"local function __rs_script()\n");
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nend\n");
    out.extend_from_slice(include_str!("lua/script.lua").as_bytes());
    out
}

/// Why a [`Runner`] call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Redis does not have the script of an `EVALSHA`.
    NoScript,
    /// Anything else, already in the capability's terms.
    Error(Error),
}

/// Sends one `EVAL`/`EVALSHA` of a script of this module and returns the bulk string it
/// replied: the runtime's Redis call.
pub trait Runner {
    fn run(&mut self, command: Command) -> Result<Vec<u8>, Failure>;
}

/// The redis capability over a [`Runner`].
#[derive(Debug)]
pub struct Scripted<R> {
    runner: R,
    /// The caller's scripts by the SHA1 of their source (lowercase hex).
    scripts: HashMap<String, Wrapped>,
}

fn is_script(command: &[Vec<u8>]) -> bool {
    command.first().is_some_and(|name| {
        name.eq_ignore_ascii_case(b"EVAL") || name.eq_ignore_ascii_case(b"EVALSHA")
    })
}

fn empty() -> Error {
    Error::Denied("empty command".into())
}

/// `count` of the arguments, as the batch script reads it.
fn length(count: usize) -> Vec<u8> {
    count.to_string().into_bytes()
}

impl<R: Runner> Scripted<R> {
    pub fn new(runner: R) -> Self {
        Self {
            runner,
            scripts: HashMap::new(),
        }
    }

    pub fn runner(&mut self) -> &mut R {
        &mut self.runner
    }

    /// Runs `script` with `args` (numkeys, keys, arguments): by SHA1, by source after
    /// NOSCRIPT (Redis restarted or flushed its scripts); the reply read back to full depth.
    fn run(&mut self, script: &Wrapped, args: &[Vec<u8>]) -> Result<Value, Error> {
        let mut command = Vec::with_capacity(args.len() + 2);
        command.push(b"EVALSHA".to_vec());
        command.push(script.sha1.clone().into_bytes());
        command.extend_from_slice(args);
        let reply = match self.runner.run(command.clone()) {
            Err(Failure::NoScript) => {
                command[0] = b"EVAL".to_vec();
                command[1].clone_from(&script.source);
                self.runner.run(command)
            }
            other => other,
        };
        let bytes = reply.map_err(|f| match f {
            Failure::NoScript => Error::Server(NOSCRIPT.into()),
            Failure::Error(e) => e,
        })?;
        match codec::parse(&bytes) {
            Ok(Some((value, used))) if used == bytes.len() => Ok(value),
            _ => Err(Error::UnsupportedReply(format!(
                "the script's reply is not one RESP2 value ({} bytes)",
                bytes.len()
            ))),
        }
    }

    /// The reply to one command, nested to any depth (an error reply is a value here).
    pub fn value(&mut self, command: &[Vec<u8>]) -> Result<Value, Error> {
        let name = command.first().ok_or_else(empty)?;
        let (Some(script), Some(args)) = (command.get(1), command.get(2..)) else {
            return self.run(&COMMAND, &[&[b"0".to_vec()], command].concat());
        };
        if name.eq_ignore_ascii_case(b"EVAL") {
            let wrapped = self.remember(script);
            self.run(&wrapped, args)
        } else if name.eq_ignore_ascii_case(b"EVALSHA") {
            let known = String::from_utf8_lossy(script).to_ascii_lowercase();
            match self.scripts.get(&known).cloned() {
                Some(wrapped) => self.run(&wrapped, args),
                None => Err(Error::Server(NOSCRIPT.into())),
            }
        } else {
            self.run(&COMMAND, &[&[b"0".to_vec()], command].concat())
        }
    }

    /// Wraps the caller's `source` once and keeps it under its SHA1.
    fn remember(&mut self, source: &[u8]) -> Wrapped {
        let sha1 = sha1_hex(source);
        if let Some(wrapped) = self.scripts.get(&sha1) {
            return wrapped.clone();
        }
        if self.scripts.len() >= MAX_SCRIPTS {
            self.scripts.clear();
        }
        let wrapped = Wrapped::new(wrap(source));
        self.scripts.insert(sha1, wrapped.clone());
        wrapped
    }
}

impl<R: Runner> Capability for Scripted<R> {
    /// Runs one command.
    fn execute(&mut self, command: &[Vec<u8>]) -> Result<Reply, Error> {
        codec::reply(self.value(command)?)
    }

    /// Runs the commands in one script: atomically, in one round trip.
    fn transaction(&mut self, commands: &[Command]) -> Result<Vec<Reply>, Error> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        if commands.iter().any(|c| c.is_empty()) {
            return Err(empty());
        }
        if commands.iter().any(|c| is_script(c)) {
            // Lua cannot call EVAL: the only atomic way would be MULTI/EXEC, whose array
            // of replies the runtime would flatten.
            return Err(Error::Denied(
                "EVAL/EVALSHA inside a transaction is not supported by this plug".into(),
            ));
        }
        let mut args = Vec::with_capacity(1 + commands.iter().map(|c| c.len() + 1).sum::<usize>());
        args.push(b"0".to_vec());
        for command in commands {
            args.push(length(command.len()));
            args.extend_from_slice(command);
        }
        match self.run(&BATCH, &args)? {
            Value::Array(items) if items.len() == commands.len() => {
                items.into_iter().map(codec::reply).collect()
            }
            other => Err(Error::UnsupportedReply(format!(
                "a batch of {} commands replied {other:?}",
                commands.len()
            ))),
        }
    }

    /// Runs the commands in order: in one round trip when none is a script, else one by
    /// one. Any failure fails the call.
    fn pipeline(&mut self, commands: &[Command]) -> Result<Vec<Reply>, Error> {
        if commands.iter().any(|c| is_script(c)) {
            commands.iter().map(|c| self.execute(c)).collect()
        } else {
            self.transaction(commands)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_script_keeps_its_flags_line_first() {
        let wrapped = wrap(b"#!lua flags=no-writes\nreturn 1");
        assert!(wrapped.starts_with(b"#!lua flags=no-writes\n-- redis-sessions"));
        let plain = wrap(b"return 1");
        assert!(plain.starts_with(b"-- redis-sessions"));
        assert!(
            plain
                .windows(b"__rs_script()\nreturn 1\nend\n".len())
                .any(|w| w == b"__rs_script()\nreturn 1\nend\n")
        );
    }

    #[test]
    fn the_fixed_scripts_have_distinct_shas() {
        assert_ne!(COMMAND.sha1, BATCH.sha1);
        assert_eq!(COMMAND.sha1.len(), 40);
    }
}
