//! Test support: a real `redis-server` on a free loopback port, the embedded store beside
//! it (see [`backends`]), and helpers around them.

#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

pub mod backends;
pub mod service;

#[allow(unused_imports, reason = "each test binary uses a different subset")]
pub use backends::{Raw, TestStore};

use redis_sessions::{ManualClock, Runtime, RuntimeOptions, Sessions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// A fixed "now" for tests that drive the clock: 2027-01-15.
pub const T0: u64 = 1_800_000_000;

/// A `redis-server` owned by one test: started on a free port with persistence off,
/// killed on drop; its log is printed when the test failed.
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    pub fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("rs-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = std::fs::File::create(dir.join("redis.log")).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start redis-server ({e}). The integration tests need Redis 6.2+: \
                     `apt-get install -y redis-server`"
                )
            });
        let server = Self { child, port, dir };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} did not answer PING", self.port);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server (to test an unreachable Redis).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A plain client to check the layout with.
    pub async fn raw(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }

    /// The component on this server, with a clock the test controls.
    pub async fn sessions(&self, clock: &Arc<ManualClock>) -> Sessions {
        self.sessions_in("rs", clock).await
    }

    pub async fn sessions_in(&self, namespace: &str, clock: &Arc<ManualClock>) -> Sessions {
        Sessions::builder()
            .runtime(runtime())
            .namespace(namespace)
            .clock(clock.clone())
            .connect(&self.url())
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking()
            && let Ok(log) = std::fs::read_to_string(self.dir.join("redis.log"))
        {
            eprintln!("--- redis-server log ---\n{log}");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The built-in component, compiled once per test binary.
pub fn runtime() -> Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| Arc::new(Runtime::new(&RuntimeOptions::default()).unwrap()))
        .clone()
}

/// A session's `d` from JSON, for tests.
pub fn d(json: serde_json::Value) -> redis_sessions::DataInput {
    redis_sessions::json::input_from_json(&json).unwrap()
}

/// All keys on the server, sorted.
pub async fn keys(raw: &mut impl redis::aio::ConnectionLike) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query_async(raw).await.unwrap();
    keys.sort();
    keys
}
