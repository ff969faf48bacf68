//! One parsed rest-sessions call run on a [`Sessions`]: shared by the HTTP routes and the
//! CLI, which differ only in how they render the [`Outcome`].

use redis_sessions::{CreateOptions, Error, Sessions, json};
use redis_sessions_rest::{Call, Outcome};

/// Runs `call` on `s`.
pub(crate) async fn execute(s: &Sessions, call: Call) -> Result<Outcome, Error> {
    let sessions = |list: Vec<redis_sessions::Session>| list.into_iter().map(Into::into).collect();
    Ok(match call {
        Call::Ping => Outcome::Pong(s.ping().await?),
        Call::Create(c) => {
            let options = CreateOptions {
                ttl: c.ttl,
                d: c.d.map(json::input_from_rest),
                no_resave: c.no_resave,
                max_per_user: c.max_per_user,
                max_age: c.max_age,
            };
            let token = s.create_with(&c.app, &c.id, &c.ip, &options).await?;
            Outcome::Token(token)
        }
        Call::Get { app, token } => Outcome::Session(s.get(&app, &token).await?.map(Into::into)),
        Call::Set { app, token, d } => {
            let d = json::input_from_rest(d);
            Outcome::Session(s.set(&app, &token, &d).await?.map(Into::into))
        }
        Call::Kill { app, token } => Outcome::Killed(s.kill(&app, &token).await?),
        Call::Rotate { app, token } => Outcome::Rotated(s.rotate(&app, &token).await?),
        Call::Activity { app, dt } => Outcome::Activity(s.activity(&app, dt).await?),
        Call::Soapp { app, dt } => Outcome::Sessions(sessions(s.soapp(&app, dt).await?)),
        Call::Soid { app, id } => Outcome::Sessions(sessions(s.soid(&app, &id).await?)),
        Call::Killsoid { app, id } => Outcome::Killed(s.killsoid(&app, &id).await?),
        Call::Killall { app } => Outcome::Killed(s.killall(&app).await?),
    })
}
