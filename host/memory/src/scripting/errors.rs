//! Script errors as Redis 7.0 reports them: `{err = ...}` tables, the message handler that
//! adds where the error was raised, and the final `... script: <sha>, on @user_script:N.`.

use crate::reply::ServerError;
use mlua::{Lua, Table, Value as LuaValue};

/// The chunk name of the sandbox's own Lua code; error locations skip its frames.
pub(super) const INTERNAL: &str = "=redis";

/// An error a `redis.*` function raises. Redis raises a `{err = message}` table; mlua
/// carries it as an external error, which the message handler and the pcall wrappers turn
/// back into what Redis' scripts see.
#[derive(Debug)]
pub(super) struct ScriptError(pub String);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// Raises `{err = message}` from Rust.
pub(super) fn raise(message: &str) -> mlua::Error {
    mlua::Error::external(ScriptError(message.to_owned()))
}

/// The `ScriptError` an mlua error carries, if any.
pub(super) fn script_error(e: &mlua::Error) -> Option<&str> {
    e.downcast_ref::<ScriptError>().map(|e| e.0.as_str())
}

/// The message of an error raised from Rust: a `redis.*` error's own text, or the root
/// cause's.
fn rust_error_message(e: &mlua::Error) -> String {
    if let Some(m) = script_error(e) {
        return m.to_owned();
    }
    let mut root = e;
    while let mlua::Error::CallbackError { cause, .. } = root {
        root = cause;
    }
    match root {
        mlua::Error::RuntimeError(m) => format!("ERR {m}"),
        other => format!("ERR {other}"),
    }
}

/// Where the error being handled was raised, like Redis' `__redis__err__handler`: the frame
/// that raised it, or its caller when that is a C function; the sandbox's frames are skipped.
fn error_location(lua: &Lua) -> Option<(String, usize)> {
    let info = |level: usize| {
        lua.inspect_stack(level, |d| {
            let source = d.source();
            (
                source.what,
                source.source.map(|s| s.into_owned()).unwrap_or_default(),
                d.current_line(),
            )
        })
    };
    let mut level = 1;
    let (mut what, mut source, mut line) = info(level)?;
    while source == INTERNAL || what == "C" {
        level += 1;
        if level > 64 {
            return None;
        }
        (what, source, line) = info(level)?;
    }
    Some((source, line.unwrap_or(0)))
}

fn with_prefix(lua: &Lua, v: LuaValue) -> mlua::Result<Vec<u8>> {
    let text = lua
        .coerce_string(v)?
        .map(|s| s.as_bytes().to_vec())
        .unwrap_or_default();
    Ok([b"ERR ".as_slice(), &text].concat())
}

/// The message handler: turns any error into `{err = ..., source = ..., line = ...}`.
pub(super) fn handle_error(lua: &Lua, err: LuaValue) -> mlua::Result<Table> {
    let message: Vec<u8> = match err {
        LuaValue::Table(t) => match t.raw_get::<LuaValue>("err")? {
            LuaValue::String(s) => s.as_bytes().to_vec(),
            v @ (LuaValue::Integer(_) | LuaValue::Number(_)) => lua
                .coerce_string(v)?
                .map(|s| s.as_bytes().to_vec())
                .unwrap_or_default(),
            _ => b"ERR Error running script: the error object has no 'err' field".to_vec(),
        },
        v @ (LuaValue::String(_) | LuaValue::Integer(_) | LuaValue::Number(_)) => {
            with_prefix(lua, v)?
        }
        LuaValue::Nil => b"ERR nil".to_vec(),
        LuaValue::Boolean(b) => format!("ERR {b}").into_bytes(),
        LuaValue::Error(e) => rust_error_message(&e).into_bytes(),
        other => format!("ERR {}", other.to_string().unwrap_or_default()).into_bytes(),
    };
    let out = lua.create_table()?;
    out.raw_set("err", lua.create_string(&message)?)?;
    if let Some((source, line)) = error_location(lua) {
        out.raw_set("source", source)?;
        out.raw_set("line", line)?;
    }
    Ok(out)
}

/// The error a script raised, as Redis 7.0 prints it.
pub(super) fn raised(t: &Table, sha: &str) -> ServerError {
    let message = match t.raw_get::<LuaValue>("err") {
        Ok(LuaValue::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
        _ => "ERR unknown error".to_owned(),
    };
    let source = t.raw_get::<Option<String>>("source").ok().flatten();
    let line = t.raw_get::<Option<i64>>("line").ok().flatten();
    let text = match (source, line) {
        (Some(source), Some(line)) => format!("{message} script: {sha}, on {source}:{line}."),
        _ => message,
    };
    ServerError(text.replace(['\r', '\n'], " "))
}
