//! EVAL, EVALSHA and SCRIPT over a lazily created, sandboxed Lua 5.1 state.

mod convert;
mod engine;
mod errors;
mod redis_lib;

use crate::commands::{Reply, bulk, err, int_arg, ok};
use crate::{ScriptLimits, Server, ServerError, Value};
use engine::Engine;

/// The script cache and the Lua state (created by the first script).
#[derive(Debug, Default)]
pub(crate) struct Scripting {
    engine: Option<Engine>,
    pub(crate) limits: ScriptLimits,
}

impl Scripting {
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

    /// Drops every script and the Lua state with them.
    pub(crate) fn reset(&mut self) {
        self.engine = None;
    }
}

fn sha1_hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
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

pub(crate) fn eval(server: &mut Server, args: &[Vec<u8>]) -> Reply {
    let (keys, argv) = split_keys(args)?;
    let sha = sha1_hex(&args[1]);
    let engine = server.scripting.engine()?;
    engine.load(&sha, &args[1])?;
    engine.run(&mut server.db, &sha, keys, argv)
}

pub(crate) fn evalsha(server: &mut Server, args: &[Vec<u8>]) -> Reply {
    if args[1].len() != 40 {
        return Err(noscript());
    }
    let (keys, argv) = split_keys(args)?;
    let sha = String::from_utf8_lossy(&args[1]).to_ascii_lowercase();
    let engine = server.scripting.engine()?;
    if !engine.has(&sha) {
        return Err(noscript());
    }
    engine.run(&mut server.db, &sha, keys, argv)
}

pub(crate) fn script_load(server: &mut Server, args: &[Vec<u8>]) -> Reply {
    let sha = sha1_hex(&args[2]);
    server.scripting.engine()?.load(&sha, &args[2])?;
    Ok(bulk(sha.as_bytes()))
}

pub(crate) fn script_exists(server: &mut Server, args: &[Vec<u8>]) -> Reply {
    let engine = server.scripting.engine.as_ref();
    Ok(Value::Array(
        args[2..]
            .iter()
            .map(|sha| {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                Value::Int(i64::from(engine.is_some_and(|e| e.has(&sha))))
            })
            .collect(),
    ))
}

pub(crate) fn script_flush(server: &mut Server, args: &[Vec<u8>]) -> Reply {
    match args {
        [_, _] => {}
        [_, _, mode]
            if mode.eq_ignore_ascii_case(b"sync") || mode.eq_ignore_ascii_case(b"async") => {}
        _ => return Err(err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
    server.scripting.reset();
    Ok(ok())
}

pub(crate) fn script_kill(_: &mut Server, _: &[Vec<u8>]) -> Reply {
    Err(ServerError(
        "NOTBUSY No scripts in execution right now.".into(),
    ))
}
