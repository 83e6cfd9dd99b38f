//! Drives the stub of presalytics-converter at run time: its one operation streams a required multipart body to the
//! implementation, which answers with what each part held, or with the 400 and 415 the spec documents without a
//! body; the router's own rejections of the same statuses come in the envelope.
//!
//! Kinds: multipart body

mod support;

use std::sync::Arc;

use corpus_presalytics_converter::{self as stub, types};
use stub_runtime::{Context, Credentials, Multipart, Rejection, RequestId, RouterConfig};
use support::{answers, answers_empty, check, get, post, rejected};

struct Trivial;

const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

impl stub::Api for Trivial {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Err(Rejection::unauthorized("no operation of this spec is secured"))
    }

    /// Reads every part: 415 for a `file` that is not a presentation, 400 without a `file`; otherwise the file's
    /// name and, in `blob_url`, each part as `name=text` or `name=file name(size)`.
    async fn svgconvert(&self, _ctx: Context<()>, mut body: Multipart) -> Result<stub::SvgconvertResponse, Rejection> {
        let mut file = None;
        let mut read = Vec::new();
        while let Some(part) = body.next_part().await? {
            let name = part.name().unwrap_or_default().to_owned();
            match part.file_name().map(str::to_owned) {
                Some(file_name) => {
                    if name == "file" && part.content_type() != Some(PPTX) {
                        return Ok(stub::SvgconvertResponse::UnsupportedMediaType);
                    }
                    let size = part.bytes().await?.len();
                    read.push(format!("{name}={file_name}({size})"));
                    if name == "file" {
                        file = Some(file_name);
                    }
                }
                None => read.push(format!("{name}={}", part.text().await?)),
            }
        }
        let Some(file) = file else {
            return Ok(stub::SvgconvertResponse::BadRequest);
        };
        Ok(stub::SvgconvertResponse::Ok(types::SvgconvertResponse {
            blob_name: Some(file),
            blob_url: Some(format!("mem:{}", read.join(";"))),
        }))
    }
}

const PATH: &str = "/svgconvert";

#[tokio::test]
async fn multipart_parts_reach_the_implementation() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let deck: &[u8] = b"PK\x03\x04 a deck";
    let cases = vec![
        (
            "a presentation and a text field",
            post(PATH).multipart(&[
                ("note", None, None, b"first draft"),
                ("file", Some("deck.pptx"), Some(PPTX), deck),
            ]),
            answers(
                200,
                serde_json::json!({ "blob_name": "deck.pptx", "blob_url": "mem:note=first draft;file=deck.pptx(11)" }),
            ),
        ),
        (
            "a file that is not a presentation: the documented 415",
            post(PATH).multipart(&[("file", Some("a.png"), Some("image/png"), b"\x89PNG")]),
            answers_empty(415),
        ),
        (
            "no file part: the documented 400",
            post(PATH).multipart(&[("note", None, None, b"nothing to convert")]),
            answers_empty(400),
        ),
        ("no parts at all", post(PATH).multipart(&[]), answers_empty(400)),
        (
            "a multipart Content-Type without a boundary",
            post(PATH).body("multipart/form-data", "--x\r\n\r\n--x--\r\n"),
            rejected(400, "invalid_request_error"),
        ),
        (
            "a body cut off inside a part",
            post(PATH).body(
                "multipart/form-data; boundary=b",
                format!(
                    "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.pptx\"\r\n\
                     Content-Type: {PPTX}\r\n\r\nPK"
                ),
            ),
            rejected(400, "invalid_request_error"),
        ),
        (
            "JSON where multipart is required",
            post(PATH).json(serde_json::json!({ "file": "deck.pptx" })),
            rejected(415, "unsupported_media_type_error"),
        ),
        (
            "no body: it is required",
            post(PATH),
            rejected(400, "invalid_request_error"),
        ),
        ("another method", get(PATH), rejected(405, "method_not_allowed_error")),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn a_part_over_the_body_limit_is_a_413() {
    let small = RouterConfig {
        body_limit: 1024,
        ..RouterConfig::default()
    };
    let app = stub::router(Arc::new(Trivial), small);
    let big = vec![b'x'; 2048];
    let cases = vec![
        (
            "a file within the limit",
            post(PATH).multipart(&[("file", Some("d.pptx"), Some(PPTX), &big[..512])]),
            answers(
                200,
                serde_json::json!({ "blob_name": "d.pptx", "blob_url": "mem:file=d.pptx(512)" }),
            ),
        ),
        (
            "a file over it",
            post(PATH).multipart(&[("file", Some("d.pptx"), Some(PPTX), &big)]),
            rejected(413, "request_too_large_error"),
        ),
    ];
    check(&app, cases).await;
}
