//! Whole-flow tests: a plain HTTP client that knows only Confluence's documented API crawls
//! simulated sites and must find exactly the ground truth.

mod admin;
mod auth;
mod cli;
mod client;
mod cql;
mod crawl;
mod faults;
mod hooks;
mod lifecycle;
mod paging;
mod quirks;
mod scale;
mod schema;
mod v2;
mod v2_behaviour;
mod v2_labels;
