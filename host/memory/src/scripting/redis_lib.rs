//! The Rust half of the `redis` library scripts see: call, pcall, sha1hex, log, setresp,
//! and the budget checks the sandbox's pcall wrappers use.

use super::convert::{Fields, error_table, lua_args, to_lua};
use super::errors::{raise, script_error};
use crate::keyspace::{DataCommand, Keyspace};
use mlua::{Function, Lua, MultiValue, Value as LuaValue};
use std::time::Instant;

/// What the running script works on, kept in the state's app data: the data its
/// `redis.call`s reach (swapped in for the run), the command runner they go through, and
/// its budget.
#[derive(Debug, Default)]
pub(super) struct Ctx {
    pub db: Keyspace,
    pub call: Option<DataCommand>,
    pub active: bool,
    pub deadline: Option<Instant>,
    pub instructions_left: u64,
    pub killed: bool,
}

/// Runs a command for `redis.call` (`raise_errors`) or `redis.pcall`.
fn dispatch(
    lua: &Lua,
    fields: &Fields,
    args: MultiValue,
    raise_errors: bool,
) -> mlua::Result<LuaValue> {
    let argv = match lua_args(args) {
        Ok(argv) => argv,
        Err(e) if raise_errors => return Err(raise(&e.0)),
        Err(e) => return Ok(LuaValue::Table(error_table(lua, fields, &e.0)?)),
    };
    let reply = {
        let mut ctx = match lua.try_app_data_mut::<Ctx>() {
            Ok(Some(ctx)) if ctx.active => ctx,
            _ => {
                return Err(raise(
                    "ERR redis.call/pcall can only be called inside a script invocation",
                ));
            }
        };
        let Some(call) = ctx.call else {
            return Err(raise("ERR Lua engine error: no command runner"));
        };
        call(&mut ctx.db, &argv)
    };
    match reply {
        Ok(v) => to_lua(lua, fields, &v),
        Err(e) if raise_errors => Err(raise(&e.0)),
        Err(e) => Ok(LuaValue::Table(error_table(lua, fields, &e.0)?)),
    }
}

/// The functions the sandbox receives, in the order sandbox.lua takes them (after the
/// message handler): call, pcall, killed, convert, sha1hex, log, setresp.
pub(super) fn functions(lua: &Lua, fields: &Fields) -> mlua::Result<Vec<Function>> {
    let f = fields.clone();
    let call = lua.create_function(move |lua, args| dispatch(lua, &f, args, true))?;
    let f = fields.clone();
    let pcall = lua.create_function(move |lua, args| dispatch(lua, &f, args, false))?;
    let killed = lua.create_function(|lua, ()| {
        Ok(matches!(lua.try_app_data_ref::<Ctx>(), Ok(Some(c)) if c.killed))
    })?;
    // An error raised by a redis.* function as a Lua handler sees it: `{err = message}`
    // (`as_table`, xpcall) or the message (pcall).
    let f = fields.clone();
    let convert = lua.create_function(move |lua, (v, as_table): (LuaValue, bool)| {
        let LuaValue::Error(e) = &v else { return Ok(v) };
        match script_error(e) {
            Some(m) if as_table => Ok(LuaValue::Table(error_table(lua, &f, m)?)),
            Some(m) => Ok(LuaValue::String(lua.create_string(m)?)),
            None => Ok(v),
        }
    })?;
    let sha1hex = lua.create_function(|lua, args: MultiValue| {
        if args.len() != 1 {
            return Err(raise("ERR wrong number of arguments"));
        }
        let bytes = match &args[0] {
            LuaValue::String(s) => s.as_bytes().to_vec(),
            v @ (LuaValue::Integer(_) | LuaValue::Number(_)) => lua
                .coerce_string(v.clone())?
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(sha1_smol::Sha1::from(bytes).digest().to_string())
    })?;
    let log = lua.create_function(|lua, args: MultiValue| {
        if args.len() < 2 {
            return Err(raise("ERR redis.log() requires two arguments or more."));
        }
        match lua.coerce_number(args[0].clone())? {
            None => Err(raise("ERR First argument must be a number (log level).")),
            Some(level) if !(0.0..=3.0).contains(&level) => Err(raise("ERR Invalid debug level.")),
            Some(_) => Ok(()),
        }
    })?;
    let setresp = lua.create_function(|lua, args: MultiValue| {
        if args.len() != 1 {
            return Err(raise("ERR redis.setresp() requires one argument."));
        }
        match lua.coerce_number(args[0].clone())? {
            Some(2.0) => Ok(()),
            Some(3.0) => Err(raise("ERR RESP3 is not supported by the embedded store")),
            _ => Err(raise("ERR RESP version must be 2 or 3.")),
        }
    })?;
    Ok(vec![call, pcall, killed, convert, sha1hex, log, setresp])
}
