//! `confluence-connector`: the headless face of the engine.
fn main() {}
