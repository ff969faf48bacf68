//! Conversions between Redis replies and Lua values, as Redis documents them.

use crate::numbers::{format_g17, lua_number_to_i64};
use crate::reply::{ServerError, Value};
use mlua::{Lua, LuaString, MultiValue, Table, Value as LuaValue};

/// How deep a script's reply may nest before the rest becomes an error element (Redis stops
/// where its Lua stack ends, near 8000 levels; this stays well within a thread's stack).
const MAX_DEPTH: usize = 1000;

/// The field names of Redis' special tables, created once.
#[derive(Debug, Clone)]
pub(super) struct Fields {
    err: LuaString,
    ok: LuaString,
    double: LuaString,
}

impl Fields {
    pub(super) fn new(lua: &Lua) -> mlua::Result<Self> {
        Ok(Fields {
            err: lua.create_string("err")?,
            ok: lua.create_string("ok")?,
            double: lua.create_string("double")?,
        })
    }
}

/// `redis.call`'s arguments: strings as they are, numbers printed with `%.17g` (integers
/// without a decimal point), anything else refused.
pub(super) fn lua_args(args: MultiValue) -> Result<Vec<Vec<u8>>, ServerError> {
    if args.is_empty() {
        return Err(ServerError(
            "ERR Please specify at least one argument for this redis lib call".into(),
        ));
    }
    args.iter()
        .map(|a| match a {
            LuaValue::String(s) => Ok(s.as_bytes().to_vec()),
            LuaValue::Integer(i) => Ok(format_g17(*i as f64).into_bytes()),
            LuaValue::Number(n) => Ok(format_g17(*n).into_bytes()),
            _ => Err(ServerError(
                "ERR Lua redis lib command arguments must be strings or integers".into(),
            )),
        })
        .collect()
}

/// `{err = message}`.
pub(super) fn error_table(lua: &Lua, f: &Fields, message: &str) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 1)?;
    t.raw_set(&f.err, message)?;
    Ok(t)
}

/// A reply as `redis.call` returns it: integer → number, bulk → string, nil → false,
/// array → table, status → `{ok=...}`, error → `{err=...}`.
pub(super) fn to_lua(lua: &Lua, f: &Fields, v: &Value) -> mlua::Result<LuaValue> {
    Ok(match v {
        Value::Nil => LuaValue::Boolean(false),
        Value::Integer(i) => LuaValue::Number(*i as f64),
        Value::Bulk(b) => LuaValue::String(lua.create_string(b)?),
        Value::Status(s) => {
            let t = lua.create_table_with_capacity(0, 1)?;
            t.raw_set(&f.ok, s.as_str())?;
            LuaValue::Table(t)
        }
        Value::Error(e) => LuaValue::Table(error_table(lua, f, e)?),
        Value::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, f, item)?)?;
            }
            LuaValue::Table(t)
        }
    })
}

fn one_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace(['\r', '\n'], " ")
}

/// A script's return value as its reply. A top-level `{err=...}` is the command's error.
pub(super) fn from_lua_reply(f: &Fields, v: &LuaValue) -> Result<Value, ServerError> {
    match from_lua(f, v, 0) {
        Value::Error(e) => Err(ServerError(e)),
        other => Ok(other),
    }
}

/// number → integer (truncated), string → bulk, table → array up to the first nil (or
/// `{ok=}` status, `{err=}` error, `{double=}` bulk), false/nil → nil, true → 1.
fn from_lua(f: &Fields, v: &LuaValue, depth: usize) -> Value {
    match v {
        LuaValue::Boolean(true) => Value::Integer(1),
        LuaValue::Integer(i) => Value::Integer(*i),
        LuaValue::Number(n) => Value::Integer(lua_number_to_i64(*n)),
        LuaValue::String(s) => Value::Bulk(s.as_bytes().to_vec()),
        LuaValue::Table(t) => table_reply(f, t, depth),
        _ => Value::Nil,
    }
}

fn table_reply(f: &Fields, t: &Table, depth: usize) -> Value {
    if depth >= MAX_DEPTH {
        return Value::Error("ERR reached lua stack limit".into());
    }
    if let Ok(LuaValue::String(e)) = t.raw_get::<LuaValue>(&f.err) {
        return Value::Error(one_line(&e.as_bytes()));
    }
    if let Ok(LuaValue::String(s)) = t.raw_get::<LuaValue>(&f.ok) {
        return Value::Status(one_line(&s.as_bytes()));
    }
    match t.raw_get::<LuaValue>(&f.double) {
        Ok(LuaValue::Number(d)) => return Value::Bulk(format_g17(d).into_bytes()),
        Ok(LuaValue::Integer(d)) => return Value::Bulk(format_g17(d as f64).into_bytes()),
        _ => {}
    }
    let mut items = Vec::new();
    for i in 1usize.. {
        match t.raw_get::<LuaValue>(i) {
            Ok(LuaValue::Nil) | Err(_) => break,
            Ok(item) => items.push(from_lua(f, &item, depth + 1)),
        }
    }
    Value::Array(items)
}
