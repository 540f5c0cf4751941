//! One module per subcommand.

pub mod acl;
pub mod connections;
pub mod demo;
pub mod extract;
pub mod jobs;
pub mod rules;
pub mod schedule;
pub mod search;
pub mod sync;
pub mod validate;
