//! What the session logic needs from its environment: Redis, a clock and randomness.
//!
//! In the component these are the WIT `redis` import and WASI clocks and random; the types
//! mirror the WIT ones so the glue is a plain conversion.

/// One Redis command: name and arguments, binary safe.
pub type Command = Vec<Vec<u8>>;

/// A Redis reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Nil,
    Status(String),
    Integer(i64),
    Bulk(Vec<u8>),
    Array(Vec<Reply>),
}

/// Why a Redis call failed (the WIT `redis.error`).
#[derive(Debug, Clone, PartialEq)]
pub enum CommandError {
    /// Redis replied with an error, code first: `NOSCRIPT No matching script...`.
    Server(String),
    /// Redis could not be reached or did not answer in time.
    Unavailable(String),
    /// The host refused the command.
    Denied(String),
    /// A reply the interface cannot carry.
    UnsupportedReply(String),
}

impl CommandError {
    /// What Redis or the host said, for the session API's `store` error.
    pub fn message(&self) -> String {
        match self {
            Self::Server(m) => m.clone(),
            Self::Unavailable(m) => format!("Redis unavailable: {m}"),
            Self::Denied(m) => format!("command denied: {m}"),
            Self::UnsupportedReply(m) => format!("unsupported reply: {m}"),
        }
    }
}

/// Redis, a clock and randomness.
pub trait Environment {
    fn execute(&mut self, command: Command) -> Result<Reply, CommandError>;
    fn pipeline(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError>;
    fn transaction(&mut self, commands: Vec<Command>) -> Result<Vec<Reply>, CommandError>;
    /// Unix time in whole seconds (node's `parseInt(Date.now() / 1000)`).
    fn now(&self) -> i64;
    /// Fills `buf` from a cryptographically secure source.
    fn fill_random(&mut self, buf: &mut [u8]) -> Result<(), CommandError>;
}

/// Copies `bytes`, what a runtime's random source gave for `buf`, into `buf`; fewer or more
/// bytes than asked for is an error (the WASI `get-random-bytes` contract broken).
pub fn fill_from(buf: &mut [u8], bytes: &[u8]) -> Result<(), CommandError> {
    if bytes.len() != buf.len() {
        return Err(CommandError::Server(format!(
            "wasi:random gave {} bytes for {}",
            bytes.len(),
            buf.len()
        )));
    }
    buf.copy_from_slice(bytes);
    Ok(())
}

/// Something that can be a command argument.
pub trait Arg {
    fn into_arg(self) -> Vec<u8>;
}

impl Arg for &str {
    fn into_arg(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl Arg for &String {
    fn into_arg(self) -> Vec<u8> {
        self.as_bytes().to_vec()
    }
}

impl Arg for String {
    fn into_arg(self) -> Vec<u8> {
        self.into_bytes()
    }
}

impl Arg for &[u8] {
    fn into_arg(self) -> Vec<u8> {
        self.to_vec()
    }
}

impl Arg for Vec<u8> {
    fn into_arg(self) -> Vec<u8> {
        self
    }
}

impl Arg for i64 {
    fn into_arg(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl Arg for usize {
    fn into_arg(self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

/// Builds a [`Command`]: `command!["ZADD", key, now, member]`.
macro_rules! command {
    ($($arg:expr),+ $(,)?) => {
        vec![$($crate::environment::Arg::into_arg($arg)),+]
    };
}
pub(crate) use command;

impl Reply {
    /// The bytes of a bulk or status reply; `None` for nil (and anything else).
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Reply::Bulk(b) => Some(b),
            Reply::Status(s) => Some(s.into_bytes()),
            _ => None,
        }
    }

    /// An integer reply.
    pub fn integer(&self) -> Option<i64> {
        match self {
            Reply::Integer(n) => Some(*n),
            _ => None,
        }
    }

    /// The elements of an array reply; nil is an empty array.
    pub fn into_array(self) -> Option<Vec<Reply>> {
        match self {
            Reply::Array(a) => Some(a),
            Reply::Nil => Some(Vec::new()),
            _ => None,
        }
    }
}
