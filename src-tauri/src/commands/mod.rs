//! The commands the UI calls. Each one is a thin adapter over the engine: take the managed
//! state, call the engine, return its answer or a [`crate::CommandError`].

pub mod acl;
pub mod config;
pub mod connections;
pub mod documents;
pub mod rules;
pub mod schedules;
pub mod settings;
pub mod sync;
