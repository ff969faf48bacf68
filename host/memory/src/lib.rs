//! An in-process store with Redis' semantics for the commands redis-sessions sends.
//! (Being written: see the crate's tests.)
