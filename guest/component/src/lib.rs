//! The redis-sessions WebAssembly component: the WIT `session-store` world wired to
//! [`redis_sessions_core`]. Only conversions live here; the logic is in the core crate.

use redis_sessions_core as core;
use redis_sessions_core::keys::Layout;
use redis_sessions_core::{Command, CommandError, Reply, SessionLogic};
use std::sync::OnceLock;

wit_bindgen::generate!({
    world: "session-store",
    path: "../../wit",
    // The imports are other packages' (the capability's, WASI's): generate them here.
    generate_all,
});

use exports::redis_sessions::sessions::sessions::{
    self, CreateOptions, DataInput, Error, Guest, Session, SessionPage,
};
use redis_sessions::redis::{config, redis};
use wasi::clocks::wall_clock;
use wasi::random::random;

/// The imports as a [`core::Environment`]: Redis, the wall clock and randomness.
struct Imports;

fn reply(r: redis::Reply) -> Reply {
    match r {
        redis::Reply::Nil => Reply::Nil,
        redis::Reply::Status(s) => Reply::Status(s),
        redis::Reply::Integer(n) => Reply::Integer(n),
        redis::Reply::Bulk(b) => Reply::Bulk(b),
        redis::Reply::Array(items) => Reply::Array(items.into_iter().map(element).collect()),
    }
}

fn element(e: redis::Element) -> Reply {
    match e {
        redis::Element::Nil => Reply::Nil,
        redis::Element::Status(s) => Reply::Status(s),
        redis::Element::Integer(n) => Reply::Integer(n),
        redis::Element::Bulk(b) => Reply::Bulk(b),
    }
}

fn command_error(e: redis::Error) -> CommandError {
    match e {
        redis::Error::Server(m) => CommandError::Server(m),
        redis::Error::Unavailable(m) => CommandError::Unavailable(m),
        redis::Error::Denied(m) => CommandError::Denied(m),
        redis::Error::UnsupportedReply(m) => CommandError::UnsupportedReply(m),
    }
}

impl core::Environment for Imports {
    fn execute(&mut self, command: Command) -> Result<Reply, CommandError> {
        redis::execute(&command).map(reply).map_err(command_error)
    }

    fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        let replies = redis::pipeline(&commands).map_err(command_error)?;
        Ok(replies.into_iter().map(reply).collect())
    }

    fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError> {
        let replies = redis::transaction(&commands).map_err(command_error)?;
        Ok(replies.into_iter().map(reply).collect())
    }

    fn now(&self) -> i64 {
        // The world's wasi:clocks/wall-clock, which the host controls.
        i64::try_from(wall_clock::now().seconds).unwrap_or(i64::MAX)
    }

    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError> {
        core::fill_from(buf, &random::get_random_bytes(buf.len() as u64))
    }
}

/// The namespace and layout are fixed for the life of an instance, so ask the host once
/// (a sharded layout's hash tags are found once too).
fn store() -> SessionLogic<'static, Imports> {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    let layout = LAYOUT.get_or_init(|| Layout::sharded(&config::namespace(), config::shards()));
    SessionLogic::with_layout(Imports, layout)
}

core::wit_conversions!(sessions);

fn data_in(d: DataInput) -> core::DataInput {
    d.into_iter().map(|(k, v)| (k, v.map(Into::into))).collect()
}

fn sessions(list: Vec<core::Session>) -> Vec<Session> {
    list.into_iter().map(Into::into).collect()
}

struct Component;

impl Guest for Component {
    fn create(
        app: String,
        id: String,
        ip: String,
        ttl: Option<i64>,
        d: Option<DataInput>,
        no_resave: bool,
    ) -> Result<String, Error> {
        let d = d.map(data_in);
        let options = redis_sessions_core::CreateOptions {
            ttl,
            d: d.as_ref(),
            no_resave,
            max_per_user: None,
            max_age: None,
        };
        store().create(&app, &id, &ip, &options).map_err(Into::into)
    }

    fn create_with(
        app: String,
        id: String,
        ip: String,
        options: CreateOptions,
    ) -> Result<String, Error> {
        let d = options.d.map(data_in);
        let core = redis_sessions_core::CreateOptions {
            ttl: options.ttl,
            d: d.as_ref(),
            no_resave: options.no_resave,
            max_per_user: options.max_per_user,
            max_age: options.max_age,
        };
        store().create(&app, &id, &ip, &core).map_err(Into::into)
    }

    fn get(app: String, token: String) -> Result<Option<Session>, Error> {
        store()
            .get(&app, &token)
            .map(|s| s.map(Into::into))
            .map_err(Into::into)
    }

    fn set(app: String, token: String, d: DataInput) -> Result<Option<Session>, Error> {
        store()
            .set(&app, &token, &data_in(d))
            .map(|s| s.map(Into::into))
            .map_err(Into::into)
    }

    fn kill(app: String, token: String) -> Result<u64, Error> {
        store().kill(&app, &token).map_err(Into::into)
    }

    fn rotate(app: String, token: String) -> Result<Option<String>, Error> {
        store().rotate(&app, &token).map_err(Into::into)
    }

    fn activity(app: String, delta_time: i64) -> Result<u64, Error> {
        store().activity(&app, delta_time).map_err(Into::into)
    }

    fn soid(app: String, id: String) -> Result<Vec<Session>, Error> {
        store().soid(&app, &id).map(sessions).map_err(Into::into)
    }

    fn killsoid(app: String, id: String) -> Result<u64, Error> {
        store().killsoid(&app, &id).map_err(Into::into)
    }

    fn soapp(app: String, delta_time: i64) -> Result<Vec<Session>, Error> {
        store()
            .soapp(&app, delta_time)
            .map(sessions)
            .map_err(Into::into)
    }

    fn soapp_page(
        app: String,
        delta_time: i64,
        cursor: Option<String>,
    ) -> Result<SessionPage, Error> {
        store()
            .soapp_page(&app, delta_time, cursor.as_deref())
            .map(Into::into)
            .map_err(Into::into)
    }

    fn soid_page(app: String, id: String, cursor: Option<String>) -> Result<SessionPage, Error> {
        store()
            .soid_page(&app, &id, cursor.as_deref())
            .map(Into::into)
            .map_err(Into::into)
    }

    fn killall(app: String) -> Result<u64, Error> {
        store().killall(&app).map_err(Into::into)
    }

    fn wipe() -> Result<u64, Error> {
        store().wipe().map_err(Into::into)
    }

    fn ping() -> Result<String, Error> {
        store().ping().map_err(Into::into)
    }
}

export!(Component);
