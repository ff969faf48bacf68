//! The application around the library: the HTTP service ([`http`]),
//! tenants ([`tenants`]), the embedded store's data file ([`data_file`]) and `serve`'s
//! lifecycle ([`serve`]); [`calls`] runs a parsed rest-sessions call for both the HTTP routes
//! and the CLI.

pub(crate) mod calls;
pub mod data_file;
pub mod http;
pub mod serve;
pub mod tenants;
