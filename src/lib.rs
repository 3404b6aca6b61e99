//! esmail: an e-mail and directory server whose configuration, directory and messages all live
//! in one database schema (Oracle in production, an embedded SQLite store by default).

pub mod admin;
pub mod backup;
pub mod cli;
pub mod collector;
pub mod config;
pub mod directory;
#[doc(hidden)]
pub mod fuzz;
pub mod gateway;
pub mod guardian;
pub mod ldap;
pub mod mail;
pub mod monitor;
pub mod postman;
pub mod process;
pub mod rules;
pub mod sps;
pub mod statistics;
pub mod store;
pub mod tls;
