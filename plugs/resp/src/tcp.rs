//! The client's transport: std's `TcpStream`, with timeouts, and the idle check.

use crate::client::Transport;
use crate::error::Error;
use crate::settings::Settings;
use std::io::{ErrorKind, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long to wait for a connection, and for a reply: the host's figures
/// (`host/src/redis.rs`). Finite, so a dead Redis is an error rather than a hang; generous
/// enough for a large script.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a connection to `settings`' address (each resolved address in turn).
pub fn connect(settings: &Settings) -> Result<TcpStream, Error> {
    let address = settings.address();
    let unavailable = |e: std::io::Error| {
        Error::Unavailable(format!("cannot connect to Redis at {address}: {e}"))
    };
    let addrs = (settings.host.as_str(), settings.port)
        .to_socket_addrs()
        .map_err(|e| {
            Error::Unavailable(format!(
                "cannot resolve the Redis host {}: {e}",
                settings.host
            ))
        })?;
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                stream
                    .set_read_timeout(Some(RESPONSE_TIMEOUT))
                    .map_err(unavailable)?;
                stream
                    .set_write_timeout(Some(RESPONSE_TIMEOUT))
                    .map_err(unavailable)?;
                // Requests go out in one write each; no reason to hold them back.
                stream.set_nodelay(true).map_err(unavailable)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(unavailable(last.unwrap_or_else(|| {
        std::io::Error::new(ErrorKind::NotFound, "the host has no address")
    })))
}

impl Transport for TcpStream {
    /// Reads without blocking: between requests Redis (RESP2, no pub/sub) never sends
    /// anything, so "would block" is the only answer of a healthy connection. End of file
    /// (Redis restarted or closed an idle client), an error, or unasked bytes all mean the
    /// connection must not carry another request.
    fn is_stale(&mut self) -> bool {
        if self.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let stale = !matches!(self.read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
        self.set_nonblocking(false).is_err() || stale
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    fn settle() {
        std::thread::sleep(Duration::from_millis(50));
    }

    #[test]
    fn an_idle_open_connection_is_not_stale_and_stays_blocking() {
        let (mut client, mut server) = pair();
        assert!(!client.is_stale());
        server.write_all(b"+OK\r\n").unwrap();
        let mut buf = [0u8; 5];
        client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+OK\r\n");
    }

    #[test]
    fn a_connection_the_peer_closed_is_stale() {
        let (mut client, server) = pair();
        drop(server);
        settle();
        assert!(client.is_stale());
    }

    #[test]
    fn unasked_bytes_make_a_connection_stale() {
        let (mut client, mut server) = pair();
        server
            .write_all(b"-ERR max number of clients reached\r\n")
            .unwrap();
        settle();
        assert!(client.is_stale());
    }

    #[test]
    fn a_closed_port_is_unavailable_naming_host_and_port() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = Settings::parse(&format!("redis://:pw@127.0.0.1:{port}")).unwrap();
        let Err(Error::Unavailable(e)) = connect(&settings) else {
            panic!("connected to a closed port");
        };
        assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    }
}
