//! The dispatch layer: the data and the scripts behind one lock, commands resolved in the
//! table and run, EVAL/EVALSHA handed to scripting with the table's `redis.call` entry.

use crate::commands::{self, Handler, Spec};
use crate::keyspace::Keyspace;
use crate::reply::{Reply, ServerError};
use crate::scripting::{ScriptLimits, Scripting};

/// The data and the scripts: everything one command may touch.
#[derive(Debug, Default)]
pub(crate) struct Server {
    pub(crate) db: Keyspace,
    scripting: Scripting,
}

impl Server {
    /// A server on `db` whose scripts run within `limits`.
    pub(crate) fn new(db: Keyspace, limits: ScriptLimits) -> Self {
        Server {
            db,
            scripting: Scripting::new(limits),
        }
    }

    /// Drops the Lua state and its scripts for new limits (clients reload on NOSCRIPT).
    pub(crate) fn set_script_limits(&mut self, limits: ScriptLimits) {
        self.scripting = Scripting::new(limits);
    }

    fn run(&mut self, spec: &Spec, args: &[Vec<u8>]) -> Reply {
        match spec.handler {
            Handler::Read(f) => f(&self.db, args),
            Handler::Write(f) => commands::write_and_note(&mut self.db, f, args),
            Handler::Eval => self
                .scripting
                .eval(&mut self.db, args, commands::call_from_script),
            Handler::EvalSha => {
                self.scripting
                    .evalsha(&mut self.db, args, commands::call_from_script)
            }
        }
    }

    pub(crate) fn execute(&mut self, args: &[Vec<u8>]) -> Reply {
        match commands::resolve(args) {
            Ok(spec) => self.run(spec, args),
            Err(rejected) => Err(rejected.client_error(args)),
        }
    }

    /// MULTI/EXEC: all checked first, then all run.
    pub(crate) fn transaction(
        &mut self,
        commands: &[Vec<Vec<u8>>],
    ) -> Result<Vec<Reply>, ServerError> {
        let specs = commands
            .iter()
            .map(|c| commands::resolve(c))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| {
                ServerError("EXECABORT Transaction discarded because of previous errors.".into())
            })?;
        Ok(specs
            .iter()
            .zip(commands)
            .map(|(spec, command)| self.run(spec, command))
            .collect())
    }

    pub(crate) fn inspect(&self, args: &[Vec<u8>]) -> Reply {
        commands::inspect(&self.db, args)
    }
}
