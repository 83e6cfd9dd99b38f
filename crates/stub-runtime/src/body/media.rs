//! Choosing among a body's documented media types by the request's `Content-Type`, and the text decoder.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::header::{CONTENT_TYPE, HeaderMap};
use serde_json::Value;

use super::multipart::Multipart;
use super::{charset_is_utf8, is_json, read_body};
use crate::extract::single_header;
use crate::{Rejection, Validator};

/// A body whose media type was chosen: the index of the documented media range and what was received.
#[derive(Debug)]
pub struct Received {
    index: usize,
    payload: Payload,
}

#[derive(Debug)]
enum Payload {
    Bytes(Bytes),
    Multipart(Multipart),
}

impl Received {
    /// The index of the chosen media range in the list given to [`receive`].
    pub fn index(&self) -> usize {
        self.index
    }

    /// The bytes of a body read whole (every media type but `multipart/*`).
    pub fn bytes(self) -> Result<Bytes, Rejection> {
        match self.payload {
            Payload::Bytes(bytes) => Ok(bytes),
            Payload::Multipart(_) => Err(Rejection::internal("a multipart body was decoded as bytes")),
        }
    }

    /// The parts of a `multipart/*` body, still unread.
    pub fn multipart(self) -> Result<Multipart, Rejection> {
        match self.payload {
            Payload::Multipart(multipart) => Ok(multipart),
            Payload::Bytes(_) => Err(Rejection::internal("a body read whole was decoded as multipart")),
        }
    }
}

/// Chooses the documented media range (`ranges`: lower case, without parameters) that the request's
/// `Content-Type` selects, then receives the body: `multipart/*` as a stream of parts (the limit applies as they are
/// read), anything else read whole within `limit`.
///
/// - An exact match wins, then a JSON range for any JSON type (`application/*+json`), then `type/*`, then `*/*`;
///   ties go to the first listed.
/// - No `Content-Type`: an empty body that is not `required` is `Ok(None)`; anything else is a 400.
/// - A `Content-Type` that selects nothing, or selects a JSON or `text/*` range with a charset other than UTF-8, is
///   a 415.
/// - An empty body that is not `required` is `Ok(None)` whatever its media type (multipart included, when the
///   request says so by its length).
pub async fn receive(
    headers: &HeaderMap,
    body: Body,
    ranges: &[&'static str],
    required: bool,
    limit: usize,
) -> Result<Option<Received>, Rejection> {
    let expected = || ranges.join(", ");
    let Some(value) = single_header(headers, &CONTENT_TYPE)? else {
        let bytes = read_body(body, limit).await?;
        return if bytes.is_empty() && !required {
            Ok(None)
        } else {
            Err(Rejection::bad_request(format!(
                "Content-Type is missing; expected one of: {}",
                expected()
            )))
        };
    };
    let unsupported = || Rejection::unsupported_media_type(format!("Content-Type must be one of: {}", expected()));
    let value = value.to_str().map_err(|_| unsupported())?.to_ascii_lowercase();
    let mut params = value.split(';').map(str::trim);
    let essence = params.next().unwrap_or("");
    let index = select(essence, ranges).ok_or_else(unsupported)?;
    let range = ranges[index];
    if (is_json(range) || range.starts_with("text/")) && !charset_is_utf8(params) {
        return Err(Rejection::unsupported_media_type("the body's charset must be utf-8"));
    }
    if range.starts_with("multipart/") {
        if !required && HttpBody::size_hint(&body).exact() == Some(0) {
            return Ok(None);
        }
        let multipart = Multipart::new(headers, body, limit).await?;
        return Ok(Some(Received {
            index,
            payload: Payload::Multipart(multipart),
        }));
    }
    let bytes = read_body(body, limit).await?;
    if bytes.is_empty() && !required {
        return Ok(None);
    }
    Ok(Some(Received {
        index,
        payload: Payload::Bytes(bytes),
    }))
}

/// The index of the most specific range that `essence` (a lower-case media type) matches.
fn select(essence: &str, ranges: &[&str]) -> Option<usize> {
    let (kind, _) = essence.split_once('/')?;
    let score = |range: &str| -> Option<u8> {
        if range == essence {
            Some(3)
        } else if is_json(range) && is_json(essence) {
            Some(2)
        } else if range.strip_suffix("/*") == Some(kind) {
            Some(1)
        } else if range == "*/*" {
            Some(0)
        } else {
            None
        }
    };
    let mut best: Option<(usize, u8)> = None;
    for (index, range) in ranges.iter().enumerate() {
        if let Some(score) = score(range)
            && best.is_none_or(|(_, top)| score > top)
        {
            best = Some((index, score));
        }
    }
    best.map(|(index, _)| index)
}

/// A `text/*` body as a `String` (400 when it is not UTF-8), checked against its schema (`check`, generated) under
/// `loc: ["body"]`; `Ok(None)` when that recorded a violation.
pub fn text_body(
    bytes: Bytes,
    cx: &mut Validator,
    check: impl FnOnce(&Value, &mut Validator),
) -> Result<Option<String>, Rejection> {
    let text = String::from_utf8(Vec::from(bytes))
        .map_err(|_| Rejection::bad_request("request body is not valid UTF-8 text"))?;
    let before = cx.error_count();
    let value = Value::String(text);
    cx.enter("body");
    check(&value, cx);
    cx.leave();
    let Value::String(text) = value else {
        unreachable!("built as a string above")
    };
    Ok((cx.error_count() == before).then_some(text))
}

#[cfg(test)]
mod tests {
    use super::select;

    /// (Content-Type essence, documented ranges, the chosen index)
    #[test]
    fn the_most_specific_range_wins() {
        let cases: &[(&str, &[&str], Option<usize>)] = &[
            ("application/json", &["application/json", "text/plain"], Some(0)),
            ("text/plain", &["application/json", "text/plain"], Some(1)),
            ("text/csv", &["application/json", "text/plain"], None),
            ("application/merge-patch+json", &["application/json"], Some(0)),
            (
                "application/merge-patch+json",
                &["application/json", "application/merge-patch+json"],
                Some(1),
            ),
            ("image/png", &["*/*", "image/*", "image/png"], Some(2)),
            ("image/gif", &["*/*", "image/*", "image/png"], Some(1)),
            ("font/woff", &["*/*", "image/*"], Some(0)),
            ("nonsense", &["*/*"], None),
        ];
        for (essence, ranges, expect) in cases {
            assert_eq!(select(essence, ranges), *expect, "{essence} among {ranges:?}");
        }
    }
}
