//! One module per subcommand.

pub mod acl;
pub mod demo;
pub mod extract;
pub mod jobs;
pub mod rules;
pub mod search;
pub mod sync;
pub mod validate;
