//! One module per subcommand.

pub mod demo;
pub mod jobs;
pub mod search;
pub mod sync;
pub mod validate;
