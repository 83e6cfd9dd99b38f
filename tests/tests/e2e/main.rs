//! End-to-end tests: the real `secrets-server` binary on loopback, driven through the generated client.

mod bad_input;
mod harness;
mod keep_alive;
mod load;
mod props;
mod service;
