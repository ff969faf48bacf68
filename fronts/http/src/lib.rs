//! The composed `wasi:http` front: rest-sessions' HTTP API (`redis-sessions-wasi-http`) in
//! front of the session API it imports (`redis-sessions:sessions/sessions`), which
//! composition (`wac plug`, `scripts/build-wasm`) fills with the session component. With the
//! sockets plug it runs under `wasmtime serve -S cli -S inherit-network -S config
//! -S config-var=redis_url=...`.
//!
//! Unlike the host, the front has no log a client's failure could point to, so a 503 names
//! the cause the plug reported (an address, never a password); store failures still
//! answer a bare 500 and go to stderr.

use redis_sessions_rest::{self as rest, Call, Failure, Outcome};
use redis_sessions_wasi_http::{Guest, IncomingRequest, ResponseOutparam};

wit_bindgen::generate!({
    inline: r#"
        package redis-sessions:http-front@0.1.0;

        world front {
            import redis-sessions:sessions/sessions@0.1.0;
        }
    "#,
    path: "../../wit",
    // The interfaces are other packages': generate them here.
    generate_all,
});

use redis_sessions::sessions::sessions as store;

struct Front;

impl Guest for Front {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        redis_sessions_wasi_http::handle(request, out, execute);
    }
}

redis_sessions_wasi_http::export!(Front with_types_in redis_sessions_wasi_http);

// --- the session calls: the import's types to the session logic's and back ---

redis_sessions_core::wit_conversions!(store);

fn data(d: rest::DataInput) -> store::DataInput {
    d.into_iter().map(|(k, v)| (k, v.map(Into::into))).collect()
}

fn sessions(list: Vec<store::Session>) -> Vec<rest::Session> {
    list.into_iter().map(Into::into).collect()
}

fn failure(e: store::Error) -> Failure {
    rest::failure(rest::OpError::from(e))
}

fn execute(call: Call) -> Result<Outcome, Failure> {
    Ok(match call {
        Call::Ping => Outcome::Pong(store::ping().map_err(failure)?),
        Call::Create(c) => {
            let options = store::CreateOptions {
                ttl: c.ttl,
                d: c.d.map(data),
                no_resave: c.no_resave,
                max_per_user: c.max_per_user,
                max_age: c.max_age,
            };
            let token = store::create_with(&c.app, &c.id, &c.ip, &options);
            Outcome::Token(token.map_err(failure)?)
        }
        Call::Get { app, token } => {
            Outcome::Session(store::get(&app, &token).map_err(failure)?.map(Into::into))
        }
        Call::Set { app, token, d } => {
            let session = store::set(&app, &token, &data(d)).map_err(failure)?;
            Outcome::Session(session.map(Into::into))
        }
        Call::Kill { app, token } => Outcome::Killed(store::kill(&app, &token).map_err(failure)?),
        Call::Rotate { app, token } => {
            Outcome::Rotated(store::rotate(&app, &token).map_err(failure)?)
        }
        Call::Activity { app, dt } => {
            Outcome::Activity(store::activity(&app, dt).map_err(failure)?)
        }
        Call::Soapp { app, dt } => {
            Outcome::Sessions(sessions(store::soapp(&app, dt).map_err(failure)?))
        }
        Call::Soid { app, id } => {
            Outcome::Sessions(sessions(store::soid(&app, &id).map_err(failure)?))
        }
        Call::Killsoid { app, id } => Outcome::Killed(store::killsoid(&app, &id).map_err(failure)?),
        Call::Killall { app } => Outcome::Killed(store::killall(&app).map_err(failure)?),
    })
}
