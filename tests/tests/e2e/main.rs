//! End-to-end tests: the real `secrets-server` binary on loopback, driven through the generated client.

mod harness;
mod service;
