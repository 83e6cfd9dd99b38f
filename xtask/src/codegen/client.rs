//! progenitor settings for the client crate: builder interface, merged tags, and the secret kept out of `Debug`.

use anyhow::{Result, anyhow};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};

use super::Spec;

/// The schema whose values are secrets; both crates replace its generated type with a hand-written one that
/// redacts `Debug` (see `crates/*/src/secret.rs`).
pub(crate) const SECRET_SCHEMA: &str = "SecretValue";

pub(crate) fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_replacement(SECRET_SCHEMA, "crate::SecretValue", std::iter::empty());
    settings
}

/// Runs progenitor on the spec and returns the generator, whose type space the server stub shares.
pub(crate) fn generator(spec: &Spec) -> Result<(Generator, proc_macro2::TokenStream)> {
    let mut generator = Generator::new(&settings());
    let tokens = catch_panic(|| generator.generate_tokens(&spec.doc))
        .map_err(|msg| anyhow!("{}: progenitor failed: {msg}", spec.path.display()))?
        .map_err(|err| anyhow!("{}: progenitor rejected the spec: {err}", spec.path.display()))?;
    Ok((generator, tokens))
}

/// progenitor panics on some specs; turn a panic into an error without printing a backtrace.
fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    thread_local!(static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    static HOOK: std::sync::Once = std::sync::Once::new();
    // One process-wide hook that stays quiet only on threads inside `catch_panic`: generators run on several
    // threads at once, and swapping the global hook per call would race.
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|quiet| quiet.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|quiet| quiet.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "panic without a message".to_owned())
    })
}

#[cfg(test)]
mod tests;
