//! Mounting the session service's routes inside another axum app, under `/sessions`.
//!
//! ```sh
//! cargo run -p redis-sessions-cli --example mount_router   # then: curl localhost:3001/sessions/ping
//! ```

use axum::Router;
use axum::routing::get;
use redis_sessions::{MemoryStore, Sessions};
use redis_sessions_cli::service::{http, serve};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Any backend works here: `Sessions::connect("redis://127.0.0.1:6379", "rs")` for Redis.
    let sessions = Sessions::builder().build_with(MemoryStore::new())?;
    let app = Router::new()
        .route("/", get(|| async { "my app\n" }))
        .nest("/sessions", http::router(sessions));
    let addr = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{addr}; try /sessions/ping");
    axum::serve(listener, app)
        .with_graceful_shutdown(serve::shutdown_signal())
        .await?;
    Ok(())
}
