//! The Fidelis binary's library: configuration, assembly of store + engine + API, the serving layer
//! (connections, timeouts, shutdown), the scheduler, the demo and the admin commands. `main.rs` is only the command line.

pub mod admin;
pub mod app;
pub mod config;
pub mod demo;
pub mod serve;
pub mod telemetry;
