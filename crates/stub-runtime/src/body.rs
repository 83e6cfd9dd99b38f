//! The request body: reading it within the limit, draining one that an answer does not use, the `Content-Type`,
//! strict JSON (no duplicate keys, no trailing bytes), walked for every violation, then decoded into the operation's
//! type. Bodies with other media types (or several) go through [`receive`], then the decoder of the media type it
//! selected.

use axum::body::{Body, Bytes, HttpBody as _};
use axum::http::header::{CONNECTION, CONTENT_TYPE, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use serde_json::Value;
use zeroize::Zeroize as _;

mod form;
mod media;
mod multipart;

pub use form::{FormField, form_body};
pub use media::{Received, receive, text_body};
pub use multipart::{Multipart, Part};

use crate::extract::single_header;
use crate::json::Tree;
use crate::{Loc, Rejection, RequestId, RouterConfig, Validator, Violation};

/// Reads the request body: 413 (with `Connection: close`) when `Content-Length` or the bytes themselves exceed
/// `limit`, 400 when the body cannot be read.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, Rejection> {
    check_declared_length(&body, limit)?;
    let collected = Limited::new(body, limit).collect().await.map_err(|err| {
        if err.downcast_ref::<LengthLimitError>().is_some() {
            Rejection::payload_too_large(limit)
        } else {
            // What is left of the body is unknown, so the connection cannot carry another request.
            Rejection::bad_request("request body could not be read").closing()
        }
    })?;
    Ok(collected.to_bytes())
}

/// 413 when `Content-Length` says the body is over `limit`, before any of it is read. hyper gives a body with a
/// `Content-Length` that exact size hint, so the header is not looked up and parsed again.
fn check_declared_length(body: &Body, limit: usize) -> Result<(), Rejection> {
    if body.size_hint().lower() > limit as u64 {
        return Err(Rejection::payload_too_large(limit));
    }
    Ok(())
}

/// Reads and discards a request body that the answer does not use, so that the connection can carry the next
/// request. Left unread when the answer is written, the body makes hyper close the connection (unless its rest
/// happens to be buffered already), without saying so in the answer: a client that reuses the connection meets
/// a reset. `true` when the body is gone; `false` when it was not drained (its declared length or its bytes exceed
/// `config.body_limit`, it did not arrive within `config.drain_timeout`, or it could not be read), and the answer
/// must say `Connection: close`.
pub async fn drain(body: Body, config: &RouterConfig) -> bool {
    if body.is_end_stream() {
        return true;
    }
    // A `Content-Length` over the limit: nothing is read, as `read_body` would not read it either.
    if body.size_hint().lower() > config.body_limit as u64 {
        return false;
    }
    let mut rest = Limited::new(body, config.body_limit);
    let discard = async {
        while let Some(frame) = rest.frame().await {
            if frame.is_err() {
                return false;
            }
        }
        true
    };
    tokio::time::timeout(config.drain_timeout, discard)
        .await
        .unwrap_or(false)
}

/// `response`, for a request whose body it does not use: the body is drained first (see [`drain`]), or, when it
/// cannot be, the response says `Connection: close`. Every answer sent before the body is read goes through here.
pub async fn answer_unread(mut response: Response, body: Body, config: &RouterConfig) -> Response {
    if !drain(body, config).await {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The envelope of `rejection`, for a request whose body it does not use (see [`answer_unread`]): how generated
/// handlers answer a request refused before its body is read.
pub async fn refuse_unread(
    rejection: Rejection,
    request_id: &RequestId,
    body: Body,
    config: &RouterConfig,
) -> Response {
    answer_unread(rejection.into_response_for(request_id), body, config).await
}

/// `Ok` with `answer` as a response: how generated handlers end.
pub fn respond(answer: impl IntoResponse) -> Result<Response, Rejection> {
    Ok(answer.into_response())
}

/// Decodes a JSON body into its type, validating it against its schema (`check`, generated).
///
/// - An empty body that is not `required` is `Ok(None)`.
/// - A missing or wrong `Content-Type`, invalid JSON, duplicate keys and trailing bytes are a 400 (no detail ever
///   quotes the body: only line, column and category).
/// - The body is parsed into a [`Tree`] (which borrows its strings from `bytes`) and walked by `check`, which records
///   every violation into `cx` under `loc: ["body", …]` (then the answer is `Ok(None)` and `cx` turns into the 422);
///   a body the walk passes is then decoded from `bytes` into `T`. The strings the tree had to copy (those with
///   escapes) are wiped before it is dropped.
pub fn decode_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    bytes: &[u8],
    required: bool,
    cx: &mut Validator,
    check: impl FnOnce(&Tree<'_>, &mut Validator),
) -> Result<Option<T>, Rejection> {
    if bytes.is_empty() && !required {
        return Ok(None);
    }
    check_content_type(headers)?;
    json_body(bytes, cx, check)
}

/// [`decode_json`] once the media type is known to be JSON (chosen by [`receive`]).
pub fn json_body<T: DeserializeOwned>(
    bytes: &[u8],
    cx: &mut Validator,
    check: impl FnOnce(&Tree<'_>, &mut Validator),
) -> Result<Option<T>, Rejection> {
    let mut tree = parse_strict(bytes)?;
    let typed = walk_then_decode(&tree, cx, check, || serde_json::from_slice(bytes));
    tree.scrub();
    Ok(typed)
}

/// Walks `value` (a form body's fields) with `check` under `loc: ["body"]`, then, when nothing was recorded, decodes
/// it into `T`; wipes its strings either way.
fn walk_then_type<T: DeserializeOwned>(
    mut value: Value,
    cx: &mut Validator,
    check: impl FnOnce(&Value, &mut Validator),
) -> Result<Option<T>, Rejection> {
    let typed = walk_then_decode(&value, cx, check, || T::deserialize(&value));
    scrub(&mut value);
    Ok(typed)
}

/// Walks a body's `value` with `check` under `loc: ["body"]`; when that recorded nothing, `decode`s it. A body that
/// passed the walk but does not decode (the type is stricter than the walk, or the walk has a gap) is still a 422
/// that does not echo the value, as serde's message might.
fn walk_then_decode<V, T>(
    value: &V,
    cx: &mut Validator,
    check: impl FnOnce(&V, &mut Validator),
    decode: impl FnOnce() -> Result<T, serde_json::Error>,
) -> Option<T> {
    let before = cx.error_count();
    cx.enter("body");
    check(value, cx);
    let typed = if cx.error_count() > before {
        None
    } else {
        match decode() {
            Ok(typed) => Some(typed),
            Err(err) => {
                tracing::warn!(category = ?err.classify(), "request body passed validation but does not deserialize");
                cx.fail("value_error", "does not match the schema");
                None
            }
        }
    };
    cx.leave();
    typed
}

/// The body of an operation whose body is required, once validation has passed (a missing one was a 422 already).
pub fn present<T>(body: Option<T>) -> Result<T, Rejection> {
    body.ok_or_else(|| Rejection::internal("a required body passed validation but was not decoded"))
}

/// Wipes every string of a request value (the body may hold secrets) before it is dropped.
fn scrub(value: &mut Value) {
    match value {
        Value::String(text) => text.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(scrub),
        Value::Object(map) => map.values_mut().for_each(scrub),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), Rejection> {
    let wrong = || Rejection::bad_request("Content-Type must be application/json");
    let value = single_header(headers, &CONTENT_TYPE)?.ok_or_else(wrong)?;
    // What nearly every client sends, accepted without taking it apart.
    if value.as_bytes() == b"application/json" {
        return Ok(());
    }
    let value = value.to_str().map_err(|_| wrong())?;
    let mut parts = value.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    // Lower-cased only when it is not already: every request of a JSON operation passes here.
    let json = if essence.bytes().any(|b| b.is_ascii_uppercase()) {
        is_json(&essence.to_ascii_lowercase())
    } else {
        is_json(essence)
    };
    if json && charset_is_utf8(parts) {
        Ok(())
    } else {
        Err(wrong())
    }
}

/// `application/json` or `application/*+json`; `essence` is lower case.
pub(crate) fn is_json(essence: &str) -> bool {
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json") && !sub.contains('/'))
}

/// Whether the `charset` among a media type's parameters, if any, is UTF-8 (both compared case-insensitively).
pub(crate) fn charset_is_utf8<'p>(mut params: impl Iterator<Item = &'p str>) -> bool {
    params.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

/// Parses a JSON body into a [`Tree`], rejecting duplicate object keys (serde_json's `Value` would keep the last
/// one silently, so what we validate could differ from what another parser reads) and bytes after the value.
fn parse_strict(bytes: &[u8]) -> Result<Tree<'_>, Rejection> {
    serde_json::from_slice::<Tree<'_>>(bytes).map_err(|err| {
        let (line, column) = (err.line(), err.column());
        // serde_json's own messages can quote the input, so only its category and position are used.
        let detail = match err.classify() {
            serde_json::error::Category::Data => {
                format!("request body has a duplicate object key at line {line} column {column}")
            }
            serde_json::error::Category::Eof => {
                format!("request body is not valid JSON: unexpected end at line {line} column {column}")
            }
            _ if err.to_string().starts_with("trailing characters") => {
                format!("request body has bytes after the JSON value at line {line} column {column}")
            }
            _ => format!("request body is not valid JSON: syntax error at line {line} column {column}"),
        };
        Rejection::bad_request(detail)
    })
}

/// Deserializes a validated part of the request into its generated type. Validation should have caught anything
/// this rejects; if not, the answer is still a 422 that does not echo the value (serde's message might).
pub fn typed<T: DeserializeOwned>(value: Value, part: &'static str) -> Result<T, Rejection> {
    serde_json::from_value(value).map_err(|err| {
        tracing::warn!(part, category = ?err.classify(), "request passed validation but does not deserialize");
        Rejection::validation(vec![Violation {
            loc: vec![Loc::from(part)],
            msg: "does not match the schema".into(),
            kind: "value_error",
        }])
    })
}
