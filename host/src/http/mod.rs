//! HTTP plumbing shared by the API handlers and the web pages: the Kinesis
//! answer shape ([`response`]), extractors whose rejections speak it
//! ([`extract`]), the client's address ([`client`]), the request log
//! ([`request_log`]), `Cache-Control: no-store` ([`cache`]) and the state
//! every handler shares ([`state`]). The handlers live in `crate::api` and
//! `crate::web`; the server that assembles them in `crate::server`.

pub mod cache;
pub mod client;
pub mod extract;
pub mod request_log;
pub mod response;
pub mod state;

pub use state::AppState;
