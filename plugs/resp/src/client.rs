//! One connection to Redis, kept between calls and re-made after a failure.
//!
//! Every call is one round trip: a pipeline's commands, or `MULTI`, the commands and
//! `EXEC`, go out in one write, then all their replies are read.
//!
//! When to reconnect, and when not to resend:
//! - Before a request, a reused connection is checked without blocking
//!   ([`Transport::is_stale`]); one that Redis closed while it was idle (a restart, an
//!   idle timeout) is replaced before anything is written, so the call just works.
//! - If the write fails before a single byte was accepted, nothing reached Redis: the call
//!   is retried once on a fresh connection.
//! - Once bytes went out, a failure (write or read) drops the connection and reports
//!   `unavailable`, without resending: Redis may have run the commands, and `INCR`, a
//!   script or a transaction must not run twice. The next call connects afresh.

use crate::capability::Capability;
use crate::codec::{self, Command, MAX_REPLY_BYTES, Reply, Value};
use crate::error::Error;
use crate::settings::Settings;
use std::io::{self, ErrorKind, Read, Write};

/// A byte stream to Redis.
pub trait Transport: Read + Write {
    /// Whether a connection idle since its last reply can no longer carry a request (the
    /// peer closed it, or sent something unasked). Must not block.
    fn is_stale(&mut self) -> bool;
}

/// A new connection and the settings it was made with.
#[derive(Debug)]
pub struct Connected<S> {
    pub stream: S,
    pub settings: Settings,
}

/// Makes connections: reads the configuration and opens the stream. The client logs in.
pub trait Connector {
    type Stream: Transport;
    /// A fresh connection; failures are [`Error::Unavailable`].
    fn connect(&mut self) -> Result<Connected<Self::Stream>, Error>;
}

/// The first read, and the most one read asks for; reads grow with the buffered reply so a
/// large reply takes few of them.
const READ_MIN: usize = 16 << 10;
const READ_MAX: usize = 1 << 20;

struct Conn<S> {
    stream: S,
    settings: Settings,
    /// Bytes read and not yet parsed.
    buf: Vec<u8>,
}

impl<S: Transport> Conn<S> {
    /// Writes all of `payload`; on failure, how many bytes went out.
    fn send(&mut self, payload: &[u8]) -> Result<(), (usize, io::Error)> {
        let mut sent = 0;
        while sent < payload.len() {
            match self.stream.write(&payload[sent..]) {
                Ok(0) => return Err((sent, ErrorKind::WriteZero.into())),
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err((sent, e)),
            }
        }
        match self.stream.flush() {
            Ok(()) => Ok(()),
            Err(e) => Err((sent, e)),
        }
    }

    fn io_error(&self, e: &io::Error) -> Error {
        let address = self.settings.address();
        Error::Unavailable(match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                format!("Redis at {address} did not answer in time")
            }
            ErrorKind::UnexpectedEof => format!("Redis at {address} closed the connection"),
            _ => format!("lost the connection to Redis at {address}: {e}"),
        })
    }

    /// Reads until `buf` holds at least one more byte.
    fn fill(&mut self) -> Result<(), Error> {
        let len = self.buf.len();
        self.buf.resize(len + len.clamp(READ_MIN, READ_MAX), 0);
        loop {
            match self.stream.read(&mut self.buf[len..]) {
                Ok(n) => {
                    self.buf.truncate(len + n);
                    return match n {
                        0 => Err(self.io_error(&ErrorKind::UnexpectedEof.into())),
                        _ => Ok(()),
                    };
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(self.io_error(&e));
                }
            }
        }
    }

    /// Reads `count` replies. Left in `buf`: whatever came after them.
    fn read(&mut self, count: usize) -> Result<Vec<Value>, Error> {
        let mut values = Vec::with_capacity(count);
        let mut start = 0;
        while values.len() < count {
            match codec::parse(&self.buf[start..]) {
                Ok(Some((value, used))) => {
                    values.push(value);
                    start += used;
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(Error::Unavailable(format!(
                        "Redis at {} sent what is not a RESP2 reply: {e}",
                        self.settings.address()
                    )));
                }
            }
            if self.buf.len() - start > MAX_REPLY_BYTES {
                return Err(Error::UnsupportedReply(format!(
                    "a reply larger than {} MiB",
                    MAX_REPLY_BYTES >> 20
                )));
            }
            self.fill()?;
        }
        self.buf.drain(..start);
        Ok(values)
    }
}

/// The redis capability over one kept connection.
pub struct Client<C: Connector> {
    connector: C,
    conn: Option<Conn<C::Stream>>,
}

impl<C: Connector> std::fmt::Debug for Client<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field(
                "connected",
                &self.conn.as_ref().map(|c| c.settings.address()),
            )
            .finish_non_exhaustive()
    }
}

fn check(command: &[Vec<u8>]) -> Result<(), Error> {
    match command.first() {
        // Redis answers nothing to an empty array: the call would wait for its timeout.
        None => Err(Error::Denied("empty command".into())),
        Some(_) => Ok(()),
    }
}

/// Reads `MULTI`'s, the queued commands' and `EXEC`'s replies as the transaction's result.
fn transaction_replies(values: Vec<Value>, count: usize) -> Result<Vec<Reply>, Error> {
    let mut values = values.into_iter();
    // A refused MULTI (an ACL user without it) means the commands then ran one by one,
    // not atomically: report MULTI's error, not EXEC's "EXEC without MULTI".
    if let Some(Value::Error(e)) = values.next() {
        return Err(Error::Server(e));
    }
    let queued: Vec<Value> = values.by_ref().take(count).collect();
    match values.next() {
        Some(Value::Array(items)) if items.len() == count => {
            items.into_iter().map(codec::reply).collect()
        }
        Some(Value::Array(items)) => Err(Error::UnsupportedReply(format!(
            "a transaction of {count} commands got {} replies",
            items.len()
        ))),
        // EXECABORT: a command was refused while queuing; say which, after Redis' text.
        Some(Value::Error(e)) => Err(Error::Server(
            match queued.into_iter().find_map(|v| match v {
                Value::Error(q) => Some(q),
                _ => None,
            }) {
                Some(first) => format!("{e} First refused: {first}"),
                None => e,
            },
        )),
        Some(Value::Nil) => Err(Error::Server(
            "EXECABORT Transaction aborted: EXEC returned nil".into(),
        )),
        other => Err(Error::UnsupportedReply(format!("EXEC replied {other:?}"))),
    }
}

impl<C: Connector> Client<C> {
    /// A client that connects at its first call.
    pub fn new(connector: C) -> Self {
        Self {
            connector,
            conn: None,
        }
    }

    /// Whether a connection is being kept.
    pub fn is_connected(&self) -> bool {
        self.conn.is_some()
    }
}

impl<C: Connector> Capability for Client<C> {
    /// Runs one command.
    fn execute(&mut self, command: &[Vec<u8>]) -> Result<Reply, Error> {
        check(command)?;
        let mut payload = Vec::new();
        codec::encode(command, &mut payload);
        let value = self.round_trip(&payload, 1)?.pop();
        codec::reply(value.unwrap_or(Value::Nil))
    }

    /// Sends the commands in one write and returns their replies; any error reply fails
    /// the call (after every reply was read, so the connection stays in step).
    fn pipeline(&mut self, commands: &[Command]) -> Result<Vec<Reply>, Error> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let mut payload = Vec::new();
        for command in commands {
            check(command)?;
            codec::encode(command, &mut payload);
        }
        let values = self.round_trip(&payload, commands.len())?;
        values.into_iter().map(codec::reply).collect()
    }

    /// Sends `MULTI`, the commands and `EXEC` in one write and returns `EXEC`'s replies.
    fn transaction(&mut self, commands: &[Command]) -> Result<Vec<Reply>, Error> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let mut payload = Vec::new();
        codec::encode(&[b"MULTI".to_vec()], &mut payload);
        for command in commands {
            check(command)?;
            codec::encode(command, &mut payload);
        }
        codec::encode(&[b"EXEC".to_vec()], &mut payload);
        let values = self.round_trip(&payload, commands.len() + 2)?;
        transaction_replies(values, commands.len())
    }
}

impl<C: Connector> Client<C> {
    /// Connects and logs in (`AUTH`, `SELECT`) in one round trip.
    fn open(&mut self) -> Result<Conn<C::Stream>, Error> {
        let Connected { stream, settings } = self.connector.connect()?;
        let mut conn = Conn {
            stream,
            settings,
            buf: Vec::new(),
        };
        let handshake = conn.settings.handshake();
        if handshake.is_empty() {
            return Ok(conn);
        }
        let mut payload = Vec::new();
        for command in &handshake {
            codec::encode(command, &mut payload);
        }
        if let Err((_, e)) = conn.send(&payload) {
            return Err(conn.io_error(&e));
        }
        let values = conn.read(handshake.len())?;
        for (command, value) in handshake.iter().zip(values) {
            if let Value::Error(e) = value {
                let what = match command.first().map(Vec::as_slice) {
                    Some(b"AUTH") => "the credentials".to_string(),
                    _ => format!("database {}", conn.settings.db),
                };
                let message = format!("Redis at {} refused {what}: {e}", conn.settings.address());
                return Err(Error::Unavailable(conn.settings.redact(&message)));
            }
        }
        Ok(conn)
    }

    /// Writes `payload` and reads `count` replies; see the module docs for the policy.
    fn round_trip(&mut self, payload: &[u8], count: usize) -> Result<Vec<Value>, Error> {
        if self.conn.as_mut().is_some_and(|c| c.stream.is_stale()) {
            self.conn = None;
        }
        let mut fresh = false;
        loop {
            let conn = match self.conn.take() {
                Some(conn) => conn,
                None => {
                    fresh = true;
                    self.open()?
                }
            };
            let conn = self.conn.insert(conn);
            match conn.send(payload) {
                Ok(()) => break,
                // Nothing reached Redis: safe to try again, once, on a new connection.
                Err((0, _)) if !fresh => self.conn = None,
                Err((_, e)) => {
                    let error = conn.io_error(&e);
                    self.conn = None;
                    return Err(error);
                }
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::Unavailable("no connection".into()));
        };
        let result = conn.read(count);
        // After a failure the stream is out of step; bytes after the replies mean the same.
        if result.is_err() || !conn.buf.is_empty() {
            self.conn = None;
        }
        let values = result?;
        // Without credentials Redis refuses every command: a configuration problem, not
        // the command's, so report it as Redis being unavailable.
        if let Some(Value::Error(e)) = values
            .iter()
            .find(|v| matches!(v, Value::Error(e) if e.starts_with("NOAUTH")))
        {
            self.conn = None;
            return Err(Error::Unavailable(format!(
                "Redis needs credentials (set them in redis_url): {e}"
            )));
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Element;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// What a fake connection saw and will answer.
    #[derive(Default)]
    struct Wire {
        /// Each `write` call's bytes.
        writes: Vec<Vec<u8>>,
        /// Bytes the next reads return, one chunk per read.
        replies: VecDeque<Vec<u8>>,
        stale: bool,
        /// Fail writes after accepting this many bytes.
        fail_write_after: Option<usize>,
    }

    #[derive(Clone, Default)]
    struct Fake(Rc<RefCell<Wire>>);

    impl Fake {
        fn answering(chunks: &[&[u8]]) -> Self {
            let fake = Fake::default();
            fake.0.borrow_mut().replies = chunks.iter().map(|c| c.to_vec()).collect();
            fake
        }
        fn written(&self) -> Vec<u8> {
            self.0.borrow().writes.concat()
        }
        fn write_calls(&self) -> usize {
            self.0.borrow().writes.len()
        }
    }

    impl Read for Fake {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut wire = self.0.borrow_mut();
            let Some(mut chunk) = wire.replies.pop_front() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            if n < chunk.len() {
                wire.replies.push_front(chunk.split_off(n));
            }
            Ok(n)
        }
    }

    impl Write for Fake {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut wire = self.0.borrow_mut();
            let n = match wire.fail_write_after {
                Some(0) => return Err(ErrorKind::BrokenPipe.into()),
                Some(limit) => {
                    wire.fail_write_after = Some(0);
                    limit.min(buf.len())
                }
                None => buf.len(),
            };
            wire.writes.push(buf[..n].to_vec());
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Transport for Fake {
        fn is_stale(&mut self) -> bool {
            self.0.borrow().stale
        }
    }

    /// Hands out the queued connections (or errors) in order, counting the attempts.
    struct Connections {
        url: &'static str,
        queue: VecDeque<Result<Fake, Error>>,
        attempts: Rc<RefCell<usize>>,
    }

    impl Connector for Connections {
        type Stream = Fake;
        fn connect(&mut self) -> Result<Connected<Fake>, Error> {
            *self.attempts.borrow_mut() += 1;
            let stream = self
                .queue
                .pop_front()
                .unwrap_or_else(|| Err(Error::Unavailable("no more fakes".into())))?;
            Ok(Connected {
                stream,
                settings: Settings::parse(self.url).unwrap(),
            })
        }
    }

    fn client_with(
        url: &'static str,
        fakes: Vec<Result<Fake, Error>>,
    ) -> (Client<Connections>, Rc<RefCell<usize>>) {
        let attempts = Rc::new(RefCell::new(0));
        let connector = Connections {
            url,
            queue: fakes.into(),
            attempts: attempts.clone(),
        };
        (Client::new(connector), attempts)
    }

    fn client(fakes: Vec<Fake>) -> (Client<Connections>, Rc<RefCell<usize>>) {
        client_with(
            "redis://127.0.0.1:6379",
            fakes.into_iter().map(Ok).collect(),
        )
    }

    fn cmd(parts: &[&str]) -> Command {
        parts.iter().map(|p| p.as_bytes().to_vec()).collect()
    }

    fn wire(commands: &[Command]) -> Vec<u8> {
        let mut out = Vec::new();
        for c in commands {
            codec::encode(c, &mut out);
        }
        out
    }

    #[test]
    fn execute_sends_the_command_and_reads_its_reply() {
        let fake = Fake::answering(&[b"$3\r\nbar\r\n"]);
        let (mut c, _) = client(vec![fake.clone()]);
        let reply = c.execute(&cmd(&["GET", "foo"])).unwrap();
        assert_eq!(reply, Reply::Bulk(b"bar".to_vec()));
        assert_eq!(fake.written(), wire(&[cmd(&["GET", "foo"])]));
        assert!(c.is_connected());
    }

    #[test]
    fn a_pipeline_is_one_write_then_all_replies() {
        let fake = Fake::answering(&[b"+OK\r\n:2\r\n*2\r\n$1\r\na\r\n$-1\r\n"]);
        let (mut c, _) = client(vec![fake.clone()]);
        let commands = vec![
            cmd(&["SET", "k", "v"]),
            cmd(&["INCR", "n"]),
            cmd(&["HMGET", "h", "a", "b"]),
        ];
        let replies = c.pipeline(&commands).unwrap();
        assert_eq!(
            replies,
            vec![
                Reply::Status("OK".into()),
                Reply::Integer(2),
                Reply::Array(vec![Element::Bulk(b"a".to_vec()), Element::Nil]),
            ]
        );
        assert_eq!(fake.write_calls(), 1);
        assert_eq!(fake.written(), wire(&commands));
    }

    #[test]
    fn replies_split_into_single_bytes_are_reassembled() {
        let bytes = b":1\r\n$5\r\nhello\r\n";
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        let (mut c, _) = client(vec![Fake::answering(&chunks)]);
        let replies = c
            .pipeline(&[cmd(&["INCR", "n"]), cmd(&["GET", "g"])])
            .unwrap();
        assert_eq!(
            replies,
            vec![Reply::Integer(1), Reply::Bulk(b"hello".to_vec())]
        );
    }

    #[test]
    fn an_error_in_a_pipeline_fails_it_but_keeps_the_connection_in_step() {
        let fake = Fake::answering(&[
            b"+OK\r\n-WRONGTYPE Operation against a key\r\n:1\r\n",
            b"+PONG\r\n",
        ]);
        let (mut c, attempts) = client(vec![fake]);
        let e = c.pipeline(&[
            cmd(&["SET", "a", "1"]),
            cmd(&["HGET", "a", "f"]),
            cmd(&["INCR", "b"]),
        ]);
        assert_eq!(
            e,
            Err(Error::Server("WRONGTYPE Operation against a key".into()))
        );
        assert_eq!(
            c.execute(&cmd(&["PING"])).unwrap(),
            Reply::Status("PONG".into())
        );
        assert_eq!(*attempts.borrow(), 1);
    }

    #[test]
    fn a_transaction_wraps_the_commands_in_multi_exec_in_one_write() {
        let fake = Fake::answering(&[b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n*1\r\n:5\r\n"]);
        let (mut c, _) = client(vec![fake.clone()]);
        let commands = vec![cmd(&["SET", "k", "v"]), cmd(&["ZRANGE", "z", "0", "-1"])];
        let replies = c.transaction(&commands).unwrap();
        assert_eq!(
            replies,
            vec![
                Reply::Status("OK".into()),
                Reply::Array(vec![Element::Integer(5)])
            ]
        );
        let mut expected = vec![cmd(&["MULTI"])];
        expected.extend(commands);
        expected.push(cmd(&["EXEC"]));
        assert_eq!(fake.written(), wire(&expected));
        assert_eq!(fake.write_calls(), 1);
    }

    #[test]
    fn execabort_is_a_server_error_naming_the_refused_command() {
        let fake = Fake::answering(&[
            b"+OK\r\n+QUEUED\r\n-ERR unknown command 'NOPE'\r\n-EXECABORT Transaction discarded because of previous errors.\r\n",
        ]);
        let (mut c, _) = client(vec![fake]);
        let Err(Error::Server(e)) = c.transaction(&[cmd(&["SET", "k", "v"]), cmd(&["NOPE"])])
        else {
            panic!("expected a server error");
        };
        assert!(e.starts_with("EXECABORT"), "{e}");
        assert!(e.contains("unknown command 'NOPE'"), "{e}");
        assert!(c.is_connected());
    }

    #[test]
    fn a_nil_exec_is_an_aborted_transaction() {
        let (mut c, _) = client(vec![Fake::answering(&[b"+OK\r\n+QUEUED\r\n*-1\r\n"])]);
        let e = c.transaction(&[cmd(&["INCR", "n"])]);
        assert!(matches!(e, Err(Error::Server(m)) if m.starts_with("EXECABORT")));
    }

    #[test]
    fn a_runtime_error_inside_exec_fails_the_transaction() {
        let fake =
            Fake::answering(&[b"+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:1\r\n-WRONGTYPE bad\r\n"]);
        let (mut c, _) = client(vec![fake]);
        let e = c.transaction(&[cmd(&["INCR", "n"]), cmd(&["HGET", "n", "f"])]);
        assert_eq!(e, Err(Error::Server("WRONGTYPE bad".into())));
    }

    #[test]
    fn exec_with_the_wrong_number_of_replies_is_unsupported() {
        let (mut c, _) = client(vec![Fake::answering(&[b"+OK\r\n+QUEUED\r\n*0\r\n"])]);
        let e = c.transaction(&[cmd(&["INCR", "n"])]);
        assert!(matches!(e, Err(Error::UnsupportedReply(_))));
    }

    #[test]
    fn a_new_connection_logs_in_and_selects_before_the_first_command() {
        let fake = Fake::answering(&[b"+OK\r\n+OK\r\n", b"+PONG\r\n"]);
        let (mut c, _) = client_with("redis://app:pw@127.0.0.1/4", vec![Ok(fake.clone())]);
        c.execute(&cmd(&["PING"])).unwrap();
        let expected = wire(&[
            cmd(&["AUTH", "app", "pw"]),
            cmd(&["SELECT", "4"]),
            cmd(&["PING"]),
        ]);
        assert_eq!(fake.written(), expected);
        assert_eq!(
            fake.write_calls(),
            2,
            "login in one write, the command in another"
        );
    }

    #[test]
    fn wrong_credentials_are_unavailable_and_never_show_the_password() {
        let fake = Fake::answering(&[
            b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
        ]);
        let (mut c, _) = client_with("redis://app:hunter2@127.0.0.1:6390", vec![Ok(fake)]);
        let Err(Error::Unavailable(e)) = c.execute(&cmd(&["PING"])) else {
            panic!("expected unavailable");
        };
        assert!(
            e.contains("127.0.0.1:6390") && e.contains("WRONGPASS"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        assert!(!c.is_connected());
    }

    #[test]
    fn an_error_echoing_the_password_is_redacted() {
        let fake = Fake::answering(&[b"-ERR odd server said hunter2\r\n"]);
        let (mut c, _) = client_with("redis://:hunter2@127.0.0.1", vec![Ok(fake)]);
        let e = c.execute(&cmd(&["PING"])).unwrap_err().to_string();
        assert!(!e.contains("hunter2") && e.contains("***"), "{e}");
    }

    #[test]
    fn noauth_is_reported_as_unavailable() {
        let (mut c, _) = client(vec![Fake::answering(&[
            b"-NOAUTH Authentication required.\r\n",
        ])]);
        let e = c.execute(&cmd(&["PING"]));
        assert!(matches!(e, Err(Error::Unavailable(m)) if m.contains("NOAUTH")));
    }

    #[test]
    fn a_stale_connection_is_replaced_before_anything_is_written() {
        let first = Fake::answering(&[b"+PONG\r\n"]);
        let second = Fake::answering(&[b":7\r\n"]);
        let (mut c, attempts) = client(vec![first.clone(), second.clone()]);
        c.execute(&cmd(&["PING"])).unwrap();
        first.0.borrow_mut().stale = true;
        assert_eq!(c.execute(&cmd(&["INCR", "n"])).unwrap(), Reply::Integer(7));
        assert_eq!(
            first.written(),
            wire(&[cmd(&["PING"])]),
            "INCR never went to the stale one"
        );
        assert_eq!(second.written(), wire(&[cmd(&["INCR", "n"])]));
        assert_eq!(*attempts.borrow(), 2);
    }

    #[test]
    fn a_write_refused_outright_is_retried_once_on_a_new_connection() {
        let first = Fake::answering(&[b"+PONG\r\n"]);
        let second = Fake::answering(&[b":1\r\n"]);
        let (mut c, attempts) = client(vec![first.clone(), second.clone()]);
        c.execute(&cmd(&["PING"])).unwrap();
        first.0.borrow_mut().fail_write_after = Some(0);
        assert_eq!(c.execute(&cmd(&["INCR", "n"])).unwrap(), Reply::Integer(1));
        assert_eq!(second.written(), wire(&[cmd(&["INCR", "n"])]));
        assert_eq!(*attempts.borrow(), 2);
    }

    #[test]
    fn a_partly_sent_request_is_not_resent() {
        let first = Fake::answering(&[b"+PONG\r\n"]);
        let second = Fake::answering(&[b":1\r\n"]);
        let (mut c, attempts) = client(vec![first.clone(), second.clone()]);
        c.execute(&cmd(&["PING"])).unwrap();
        first.0.borrow_mut().fail_write_after = Some(3);
        let e = c.execute(&cmd(&["INCR", "n"]));
        assert!(matches!(e, Err(Error::Unavailable(m)) if m.contains("127.0.0.1:6379")));
        assert!(second.written().is_empty());
        assert_eq!(*attempts.borrow(), 1);
        assert!(!c.is_connected());
    }

    #[test]
    fn a_write_failing_on_a_fresh_connection_is_not_retried() {
        let first = Fake::default();
        first.0.borrow_mut().fail_write_after = Some(0);
        let (mut c, attempts) = client(vec![first, Fake::answering(&[b"+PONG\r\n"])]);
        assert!(matches!(
            c.execute(&cmd(&["PING"])),
            Err(Error::Unavailable(_))
        ));
        assert_eq!(*attempts.borrow(), 1);
    }

    #[test]
    fn a_connection_lost_mid_reply_is_dropped_and_the_next_call_reconnects() {
        let first = Fake::answering(&[b"$10\r\nabc"]);
        let second = Fake::answering(&[b"+PONG\r\n"]);
        let (mut c, attempts) = client(vec![first, second]);
        let e = c.execute(&cmd(&["GET", "k"]));
        assert!(matches!(e, Err(Error::Unavailable(m)) if m.contains("closed the connection")));
        assert!(!c.is_connected());
        assert_eq!(
            c.execute(&cmd(&["PING"])).unwrap(),
            Reply::Status("PONG".into())
        );
        assert_eq!(*attempts.borrow(), 2);
    }

    #[test]
    fn a_failed_connect_is_tried_again_at_the_next_call() {
        let (mut c, attempts) = client_with(
            "redis://127.0.0.1",
            vec![
                Err(Error::Unavailable(
                    "cannot connect to Redis at 127.0.0.1:6379".into(),
                )),
                Ok(Fake::answering(&[b"+PONG\r\n"])),
            ],
        );
        assert!(matches!(
            c.execute(&cmd(&["PING"])),
            Err(Error::Unavailable(_))
        ));
        assert_eq!(
            c.execute(&cmd(&["PING"])).unwrap(),
            Reply::Status("PONG".into())
        );
        assert_eq!(*attempts.borrow(), 2);
    }

    #[test]
    fn garbage_from_the_server_is_unavailable_and_drops_the_connection() {
        let (mut c, _) = client(vec![Fake::answering(&[
            b"HTTP/1.1 400 Bad Request\r\n\r\n",
        ])]);
        let e = c.execute(&cmd(&["PING"]));
        assert!(matches!(e, Err(Error::Unavailable(m)) if m.contains("RESP2")));
        assert!(!c.is_connected());
    }

    #[test]
    fn bytes_after_the_replies_drop_the_connection_but_not_the_result() {
        let (mut c, _) = client(vec![Fake::answering(&[b"+PONG\r\n+EXTRA\r\n"])]);
        assert_eq!(
            c.execute(&cmd(&["PING"])).unwrap(),
            Reply::Status("PONG".into())
        );
        assert!(!c.is_connected());
    }

    #[test]
    fn empty_commands_are_refused_and_empty_batches_touch_nothing() {
        let (mut c, attempts) = client(vec![]);
        assert!(matches!(c.execute(&[]), Err(Error::Denied(_))));
        assert_eq!(c.pipeline(&[]).unwrap(), vec![]);
        assert_eq!(c.transaction(&[]).unwrap(), vec![]);
        assert!(matches!(c.pipeline(&[vec![]]), Err(Error::Denied(_))));
        assert_eq!(*attempts.borrow(), 0);
    }
}
