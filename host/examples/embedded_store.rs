//! Embedding the session component where no Redis exists: the library on the embedded
//! store, in process.
//!
//! ```sh
//! cargo run --example embedded_store
//! ```

use redis_sessions::{MemoryStore, Sessions, json};
use serde_json::json;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sessions = Sessions::builder()
        .namespace("rs")
        .build_with(MemoryStore::new())?;

    let d = json::input_from_json(&json!({"plan": "pro", "n": 1}))?;
    let token = sessions
        .create("myapp", "user1", "127.0.0.1", Some(3600), Some(&d), false)
        .await?;
    let update = json::input_from_json(&json!({"n": null, "seen": true}))?;
    let session = sessions.set("myapp", &token, &update).await?;
    println!("{}", session.map(|s| s.to_json()).unwrap_or_default());
    println!("active users: {}", sessions.activity("myapp", 600).await?);
    assert_eq!(sessions.kill("myapp", &token).await?, 1);
    Ok(())
}
