//! One Lua 5.1 state, sandboxed like Redis' (see sandbox.lua), with a budget hook and a
//! memory limit, and the scripts it compiled.

use super::convert::{Fields, from_lua_reply};
use super::errors::{INTERNAL, handle_error, raised};
use super::redis_lib::{self, Ctx};
use crate::keyspace::{DataCommand, Keyspace};
use crate::reply::{Reply, ServerError};
use mlua::{
    Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Table, Value as LuaValue, VmState,
    chunk::ChunkMode,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What one script run may use before it is aborted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptLimits {
    /// Wall-clock time (default 5 s).
    pub time: Duration,
    /// Lua VM instructions (default 500 million), checked every 10 000.
    pub instructions: u64,
    /// Bytes the Lua state may hold, scripts and their data included (default 256 MiB).
    pub memory: usize,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            time: Duration::from_secs(5),
            instructions: 500_000_000,
            memory: 256 << 20,
        }
    }
}

/// How often (in VM instructions) the hook checks the budget.
const HOOK_STEP: u32 = 10_000;

/// A Lua state with the scripts it compiled.
pub(crate) struct Engine {
    lua: Lua,
    run: Function,
    globals: Table,
    env: Table,
    fields: Fields,
    scripts: HashMap<String, Function>,
    limits: ScriptLimits,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("scripts", &self.scripts.len())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

fn internal_error(e: mlua::Error) -> ServerError {
    ServerError(format!("ERR Lua engine error: {e}").replace(['\r', '\n'], " "))
}

/// The hook: every `HOOK_STEP` instructions, charge the budget; once it is spent, raise
/// (and keep raising: the sandbox's pcall wrappers re-raise too).
fn budget_hook(lua: &Lua) -> mlua::Result<VmState> {
    let Ok(Some(mut ctx)) = lua.try_app_data_mut::<Ctx>() else {
        return Ok(VmState::Continue);
    };
    if ctx.active && !ctx.killed {
        ctx.instructions_left = ctx.instructions_left.saturating_sub(HOOK_STEP.into());
        ctx.killed =
            ctx.instructions_left == 0 || ctx.deadline.is_some_and(|d| Instant::now() >= d);
    }
    if ctx.active && ctx.killed {
        return Err(mlua::Error::runtime(
            "Script killed: the execution budget is exhausted",
        ));
    }
    Ok(VmState::Continue)
}

/// Puts the data back where it came from when a run ends, even by unwinding.
struct Lend<'a> {
    lua: &'a Lua,
    db: &'a mut Keyspace,
}

impl<'a> Lend<'a> {
    fn new(
        lua: &'a Lua,
        db: &'a mut Keyspace,
        call: DataCommand,
        limits: &ScriptLimits,
    ) -> Result<Self, ServerError> {
        let mut ctx = match lua.try_app_data_mut::<Ctx>() {
            Ok(Some(ctx)) => ctx,
            _ => {
                return Err(ServerError(
                    "ERR Lua engine error: no script context".into(),
                ));
            }
        };
        std::mem::swap(&mut ctx.db, db);
        ctx.call = Some(call);
        ctx.active = true;
        ctx.killed = false;
        ctx.deadline = Instant::now().checked_add(limits.time);
        ctx.instructions_left = limits.instructions.max(1);
        drop(ctx);
        Ok(Lend { lua, db })
    }
}

impl Drop for Lend<'_> {
    fn drop(&mut self) {
        if let Ok(Some(mut ctx)) = self.lua.try_app_data_mut::<Ctx>() {
            std::mem::swap(&mut ctx.db, self.db);
            ctx.call = None;
            ctx.active = false;
        }
    }
}

impl Engine {
    pub(crate) fn new(limits: ScriptLimits) -> mlua::Result<Self> {
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH,
            LuaOptions::default(),
        )?;
        lua.set_memory_limit(limits.memory)?;
        lua.set_app_data(Ctx::default());
        let fields = Fields::new(&lua)?;
        let mut args = vec![lua.create_function(handle_error)?];
        args.extend(redis_lib::functions(&lua, &fields)?);
        let (run, globals, env): (Function, Table, Table) = lua
            .load(include_str!("sandbox.lua"))
            .set_name(INTERNAL)
            .call(MultiValue::from_iter(
                args.into_iter().map(LuaValue::Function),
            ))?;
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_STEP),
            |lua, _| budget_hook(lua),
        )?;
        Ok(Engine {
            lua,
            run,
            globals,
            env,
            fields,
            scripts: HashMap::new(),
            limits,
        })
    }

    pub(crate) fn has(&self, sha: &str) -> bool {
        self.scripts.contains_key(sha)
    }

    /// Compiles `body` as `sha` unless already known.
    pub(crate) fn load(&mut self, sha: &str, body: &[u8]) -> Result<(), ServerError> {
        if self.scripts.contains_key(sha) {
            return Ok(());
        }
        let f = self
            .lua
            .load(body)
            .set_name("@user_script")
            .set_mode(ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| {
                let message = match e {
                    mlua::Error::SyntaxError { message, .. } => message,
                    other => other.to_string(),
                };
                ServerError(
                    format!("ERR Error compiling script (new function): {message}")
                        .replace(['\r', '\n'], " "),
                )
            })?;
        self.scripts.insert(sha.to_owned(), f);
        Ok(())
    }

    fn strings(&self, items: &[Vec<u8>]) -> mlua::Result<Table> {
        let t = self.lua.create_table_with_capacity(items.len(), 0)?;
        for (i, item) in items.iter().enumerate() {
            t.raw_set(i + 1, self.lua.create_string(item)?)?;
        }
        Ok(t)
    }

    /// Runs a compiled script with KEYS and ARGV, its `redis.call`s going through `call`
    /// to `db`.
    pub(crate) fn run(
        &mut self,
        db: &mut Keyspace,
        call: DataCommand,
        sha: &str,
        keys: &[Vec<u8>],
        argv: &[Vec<u8>],
    ) -> Reply {
        let Some(f) = self.scripts.get(sha) else {
            return Err(ServerError(
                "NOSCRIPT No matching script. Please use EVAL.".into(),
            ));
        };
        let (keys, argv) = match (self.strings(keys), self.strings(argv)) {
            (Ok(k), Ok(a)) => (k, a),
            (Err(e), _) | (_, Err(e)) => return Err(self.lua_error(e)),
        };
        self.globals.raw_set("KEYS", keys).map_err(internal_error)?;
        self.globals.raw_set("ARGV", argv).map_err(internal_error)?;
        let lend = Lend::new(&self.lua, db, call, &self.limits)?;
        let outcome = self.run.call::<MultiValue>(f);
        drop(lend);
        let killed = matches!(self.lua.try_app_data_ref::<Ctx>(), Ok(Some(c)) if c.killed);
        self.globals.raw_set("KEYS", LuaValue::Nil).ok();
        self.globals.raw_set("ARGV", LuaValue::Nil).ok();
        if self.lua.used_memory() > self.limits.memory / 2 {
            self.lua.gc_collect().ok();
        }
        if killed {
            return Err(ServerError(format!(
                "ERR Script killed: it exceeded the embedded store's budget ({} ms or {} Lua instructions) script: {sha}",
                self.limits.time.as_millis(),
                self.limits.instructions
            )));
        }
        let mut values = outcome.map_err(|e| self.lua_error(e))?.into_iter();
        let ok = matches!(values.next(), Some(LuaValue::Boolean(true)));
        let value = values.next().unwrap_or(LuaValue::Nil);
        match value {
            v if ok => from_lua_reply(&self.fields, &v),
            LuaValue::Table(t) => Err(raised(&t, sha)),
            LuaValue::String(s) if s.as_bytes().as_ref() == b"not enough memory" => {
                Err(self.memory_error())
            }
            other => Err(ServerError(format!(
                "ERR Error running script: {}",
                other.to_string().unwrap_or_default()
            ))),
        }
    }

    fn lua_error(&self, e: mlua::Error) -> ServerError {
        match e {
            mlua::Error::MemoryError(_) => self.memory_error(),
            other => internal_error(other),
        }
    }

    fn memory_error(&self) -> ServerError {
        ServerError(format!(
            "ERR Script exceeded the embedded store's Lua memory limit ({} bytes)",
            self.limits.memory
        ))
    }
}
