//! Conversions between this crate's types and a `wit-bindgen` or `wasmtime::bindgen!`
//! rendering of the WIT's `data-value`, `session`, `session-page` and `error`.
//!
//! Every bindgen makes its own Rust types for the same WIT types (the component's exports,
//! the HTTP front's imports, the host's bindings), and this crate's logic has its own. The
//! conversions are written once here and stamped out beside each bindgen, where the
//! generated types are local (so the orphan rule allows both directions). They are
//! exercised wherever a value crosses: every session call of the host's and the fronts'
//! tests.

/// Implements `From` both ways between this crate's [`DataValue`](crate::DataValue),
/// [`Session`](crate::Session) and [`OpError`](crate::OpError) and the
/// same-named `DataValue`, `Session` and `Error` of the module `$wit`, which must be in
/// scope at the call:
///
/// ```ignore
/// use exports::redis_sessions::sessions::sessions as wit;
/// redis_sessions_core::wit_conversions!(wit);
/// ```
#[macro_export]
macro_rules! wit_conversions {
    ($wit:ident) => {
        $crate::convert_variants!(
            $crate::DataValue,
            $wit::DataValue,
            Text,
            Integer,
            Float,
            Boolean
        );
        $crate::convert_variants!(
            $wit::DataValue,
            $crate::DataValue,
            Text,
            Integer,
            Float,
            Boolean
        );
        $crate::convert_variants!(
            $crate::OpError,
            $wit::Error,
            MissingParameter,
            InvalidFormat,
            InvalidValue,
            Store,
            Unavailable
        );
        $crate::convert_variants!(
            $wit::Error,
            $crate::OpError,
            MissingParameter,
            InvalidFormat,
            InvalidValue,
            Store,
            Unavailable
        );
        $crate::__convert_session!($crate::Session, $wit::Session);
        $crate::__convert_session!($wit::Session, $crate::Session);
        $crate::__convert_page!($crate::Page, $wit::SessionPage);
        $crate::__convert_page!($wit::SessionPage, $crate::Page);
    };
}

/// `From<$from> for $to` for two enums whose listed variants have the same names, each with
/// one field convertible with `Into` (e.g. the host's `OpError` into this crate's).
#[macro_export]
macro_rules! convert_variants {
    ($from:ty, $to:ty, $($variant:ident),+) => {
        impl ::std::convert::From<$from> for $to {
            fn from(value: $from) -> Self {
                type Source = $from;
                match value {
                    $(Source::$variant(x) => Self::$variant(x.into()),)+
                }
            }
        }
    };
}

/// `From<$from> for $to` for two renderings of the WIT's `session` record.
#[doc(hidden)]
#[macro_export]
macro_rules! __convert_session {
    ($from:ty, $to:ty) => {
        impl ::std::convert::From<$from> for $to {
            fn from(s: $from) -> Self {
                Self {
                    id: s.id,
                    r: s.r,
                    w: s.w,
                    ttl: s.ttl,
                    idle: s.idle,
                    ip: s.ip,
                    no_resave: s.no_resave,
                    d: s.d.into_iter().map(|(k, v)| (k, v.into())).collect(),
                    max_age: s.max_age,
                }
            }
        }
    };
}

/// `From<$from> for $to` for two renderings of the WIT's `session-page` record.
#[doc(hidden)]
#[macro_export]
macro_rules! __convert_page {
    ($from:ty, $to:ty) => {
        impl ::std::convert::From<$from> for $to {
            fn from(p: $from) -> Self {
                Self {
                    sessions: p.sessions.into_iter().map(Into::into).collect(),
                    next: p.next,
                }
            }
        }
    };
}
