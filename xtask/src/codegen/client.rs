//! progenitor settings for the client crate (builder interface, merged tags, the secret kept out of `Debug`), and
//! the refusals progenitor needs made up front: it would panic on them or name things wrongly.

use anyhow::{Result, anyhow, bail};
use openapiv3::{OpenAPI, ReferenceOr, StatusCode};
use progenitor::{GenerationSettings, Generator, InterfaceStyle, TagStyle};
use serde_json::Value;
use stub_gen::spec::pointer;

use super::Spec;

/// The schema whose values are secrets; both crates replace its generated type with a hand-written one that
/// redacts `Debug` (see `crates/*/src/secret.rs`).
pub(crate) const SECRET_SCHEMA: &str = "SecretValue";

/// The settings of a standalone stub's type space: the client's without its replacements, and with typify's
/// `types::builder` module only when asked for (the builder interface needs it; a server stub does not).
pub(crate) fn standalone_type_settings(builders: bool) -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings.with_tag(TagStyle::Merged);
    if builders {
        settings.with_interface(InterfaceStyle::Builder);
    }
    settings
}

pub(crate) fn settings() -> GenerationSettings {
    let mut settings = GenerationSettings::default();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_replacement(SECRET_SCHEMA, "crate::SecretValue", std::iter::empty())
        // Types describe their own JSON Schema: progenitor's CLI generator needs it, and so may their users.
        .with_derive("schemars::JsonSchema");
    settings
}

/// Runs progenitor on the spec and returns the generator, whose type space the server stub shares.
pub(crate) fn generator(spec: &Spec) -> Result<(Generator, proc_macro2::TokenStream)> {
    // Operations without an operationId get the names the stub gives them.
    let doc = stub_gen::with_operation_ids(spec.doc.clone());
    check_operations(&doc, &spec.raw, spec)?;
    let mut generator = Generator::new(&settings());
    let tokens = catch_panic(|| generator.generate_tokens(&doc))
        .map_err(|msg| anyhow!("{}: progenitor failed: {msg}", spec.path))?
        .map_err(|err| anyhow!("{}: progenitor rejected the spec: {err}", spec.path))?;
    Ok((generator, tokens))
}

/// The client's typed mocks (progenitor's httpmock generator, with the client's generator and so its types): a
/// `MockServerExt` method per operation, for `crates/secrets-client-mock`.
pub(crate) fn mocks(spec: &Spec, generator: &mut Generator) -> Result<proc_macro2::TokenStream> {
    let doc = stub_gen::with_operation_ids(spec.doc.clone());
    catch_panic(|| generator.httpmock(&doc, "secrets_client"))
        .map_err(|msg| anyhow!("{}: progenitor's mock generator failed: {msg}", spec.path))?
        .map_err(|err| anyhow!("{}: progenitor's mock generator rejected the spec: {err}", spec.path))
}

/// The `secrets` CLI's commands (progenitor's clap generator, over the client): a subcommand per operation.
pub(crate) fn cli(spec: &Spec, generator: &mut Generator) -> Result<proc_macro2::TokenStream> {
    let doc = stub_gen::with_operation_ids(spec.doc.clone());
    catch_panic(|| generator.cli(&doc, "secrets_client"))
        .map_err(|msg| anyhow!("{}: progenitor's CLI generator failed: {msg}", spec.path))?
        .map_err(|err| anyhow!("{}: progenitor's CLI generator rejected the spec: {err}", spec.path))
}

/// What progenitor would panic on or name wrongly: caught here, naming the operation.
fn check_operations(doc: &OpenAPI, raw: &Value, located: &Spec) -> Result<()> {
    for (path, item) in &doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            bail!(
                "{}: path `{path}` is a $ref; path items must be written inline",
                located.at(&pointer(&["paths", path]))
            );
        };
        for (method, op) in item.iter() {
            let at = pointer(&["paths", path, method]);
            let id = op.operation_id.as_deref().unwrap_or_default();
            let has_2xx = op.responses.responses.keys().any(|code| match code {
                StatusCode::Code(c) => (200..300).contains(c),
                StatusCode::Range(r) => *r == 2,
            });
            if op.responses.default.is_some() && has_2xx {
                bail!(
                    "{}: operation `{id}` has a `default` response beside 2xx responses; list each error status explicitly",
                    located.at(&format!("{at}/responses/default"))
                );
            }
            // progenitor gives each operation one success type and one error type, and asserts on anything else.
            for (class, in_class, rule) in [
                (
                    "success",
                    2u16..3,
                    "every 2xx response of an operation must share one body schema",
                ),
                (
                    "error",
                    4u16..6,
                    "every error response of an operation must share one schema (ErrorResponse)",
                ),
            ] {
                let mut first: Option<(String, Value)> = None;
                for code in op.responses.responses.keys() {
                    let hundreds = match code {
                        StatusCode::Code(c) => c / 100,
                        StatusCode::Range(r) => *r,
                    };
                    if !in_class.contains(&hundreds) {
                        continue;
                    }
                    let schema = response_schema(raw, &at, &code.to_string())?;
                    match &first {
                        None => first = Some((code.to_string(), schema)),
                        Some((first_code, first_schema)) if *first_schema != schema => bail!(
                            "{}: operation `{id}`: {class} responses {first_code} and {code} use different schemas; {rule}",
                            located.at(&format!("{at}/responses/{code}"))
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    Ok(())
}

/// The body schema(s) of one response, following a response `$ref`: the value compared across status codes.
fn response_schema(raw: &Value, op_pointer: &str, code: &str) -> Result<Value> {
    let mut response = raw
        .pointer(&format!("{op_pointer}/responses/{code}"))
        .ok_or_else(|| anyhow!("response {code} missing at {op_pointer}"))?;
    for _ in 0..16 {
        match response.get("$ref").and_then(Value::as_str) {
            Some(target) => {
                response = raw.pointer(&target[1..]).expect("refs were checked");
            }
            None => break,
        }
    }
    Ok(response.get("content").cloned().map_or(Value::Null, |content| {
        let schemas: serde_json::Map<String, Value> = content
            .as_object()
            .into_iter()
            .flatten()
            .map(|(media, m)| (media.clone(), m.get("schema").cloned().unwrap_or(Value::Null)))
            .collect();
        Value::Object(schemas)
    }))
}

/// progenitor panics on some specs; turn a panic into an error without printing a backtrace.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
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
