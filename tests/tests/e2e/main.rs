//! End-to-end tests: the real `secrets-server` binary on loopback, driven through the generated client.

mod audit;
mod bad_input;
mod cli;
mod docs;
mod harness;
mod instances;
mod keep_alive;
mod leftovers;
mod load;
mod metrics;
mod props;
mod resource;
mod sdk;
mod service;
mod token_lifetime;
