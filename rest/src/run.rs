//! A [`Call`] run on the session logic in the same process: for a front built into one
//! component with it (the bundles), where no component boundary sits between the two.

use crate::answer::{Failure, Outcome};
use crate::route::Call;
use redis_sessions_core::{CreateOptions, Environment, OpError, SessionLogic};

/// Runs `call` on `logic`: one session operation, its result as an [`Outcome`].
pub fn run<E: Environment>(
    logic: &mut SessionLogic<'_, E>,
    call: Call,
) -> Result<Outcome, OpError> {
    Ok(match call {
        Call::Ping => Outcome::Pong(logic.ping()?),
        Call::Create(c) => {
            let options = CreateOptions {
                ttl: c.ttl,
                d: c.d.as_ref(),
                no_resave: c.no_resave,
                max_per_user: c.max_per_user,
                max_age: c.max_age,
            };
            Outcome::Token(logic.create(&c.app, &c.id, &c.ip, &options)?)
        }
        Call::Get { app, token } => Outcome::Session(logic.get(&app, &token)?),
        Call::Set { app, token, d } => Outcome::Session(logic.set(&app, &token, &d)?),
        Call::Kill { app, token } => Outcome::Killed(logic.kill(&app, &token)?),
        Call::Rotate { app, token } => Outcome::Rotated(logic.rotate(&app, &token)?),
        Call::Activity { app, dt } => Outcome::Activity(logic.activity(&app, dt)?),
        Call::Soapp { app, dt } => Outcome::Sessions(logic.soapp(&app, dt)?),
        Call::Soid { app, id } => Outcome::Sessions(logic.soid(&app, &id)?),
        Call::Killsoid { app, id } => Outcome::Killed(logic.killsoid(&app, &id)?),
        Call::Killall { app } => Outcome::Killed(logic.killall(&app)?),
    })
}

/// The [`Failure`] a front without a request log of its own answers for `e`, writing the
/// details to stderr (the runtime's log): Redis' unavailability keeps its cause (the plug's
/// text names the configuration key or the address, never a password); a store failure
/// answers a bare 500.
pub fn failure(e: OpError) -> Failure {
    match e {
        OpError::Unavailable(m) => {
            eprintln!("Redis unavailable: {m}");
            Failure::Unavailable { detail: Some(m) }
        }
        OpError::Store(m) => {
            eprintln!("session call failed: {m}");
            Failure::Failed { name: "storeError" }
        }
        invalid => Failure::Invalid {
            name: invalid.name(),
            message: invalid.to_string(),
        },
    }
}
