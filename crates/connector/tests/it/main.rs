//! Whole-flow tests of the engine against real services: the Confluence simulator and a real
//! search node started by `tests/search-node.sh` (its URL arrives in `SEARCH_URL`).

mod support;

mod dls;
mod es_retry;
mod extract;
mod extract_files;
mod fault_suite;
mod full_sync;
mod incremental;
mod lifecycle;
mod progress;
mod rules;
mod search_cluster;
mod search_node;
mod tls;
