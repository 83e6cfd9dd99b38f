//! Cross-crate tests live under `tests/tests/`.

/// Server stubs of the generator's fixture specs, written by `cargo xtask codegen`: building this crate proves that
/// each one compiles against the stub crate's runtime.
#[rustfmt::skip]
pub mod fixtures;

#[cfg(test)]
mod fixture_composed;
#[cfg(test)]
mod fixture_openapi31;
#[cfg(test)]
mod fixture_records;
#[cfg(test)]
mod fixture_responses;
#[cfg(test)]
mod fixture_routers;
