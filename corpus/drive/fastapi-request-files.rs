//! Drives the stub of fastapi-request-files at run time: the OpenAPI 3.1 document FastAPI exports for the
//! multiple-file upload app of its documentation (`docs_src/request_files/tutorial003.py`). Its two multipart bodies
//! are arrays of files that OpenAPI 3.1 writes as strings with `contentMediaType: application/octet-stream` (3.0
//! wrote `format: binary`); the parts stream to the implementation, which answers what the app does: the size of
//! each file, or its name. The router's own rejections of a body that is not multipart come in the envelope.
//!
//! Kinds: multipart body

mod support;

use std::sync::Arc;

use corpus_fastapi_request_files as stub;
use serde_json::json;
use stub_runtime::{Context, Credentials, Multipart, Rejection, RequestId, RouterConfig};
use support::{answers, check, get, post, rejected};

struct Trivial;

/// Each `files` part of the body, as its file name and content.
async fn files(mut body: Multipart) -> Result<Vec<(String, Vec<u8>)>, Rejection> {
    let mut files = Vec::new();
    while let Some(part) = body.next_part().await? {
        if part.name() == Some("files") {
            let name = part.file_name().unwrap_or_default().to_owned();
            files.push((name, part.bytes().await?.to_vec()));
        }
    }
    Ok(files)
}

impl stub::Api for Trivial {
    type Caller = ();

    async fn authenticate(&self, _credentials: Credentials, _request_id: &RequestId) -> Result<(), Rejection> {
        Err(Rejection::unauthorized("no operation of this spec is secured"))
    }

    async fn main_get(&self, _ctx: Context<()>) -> Result<stub::MainGetResponse, Rejection> {
        Ok(stub::MainGetResponse::Ok(json!("a form to upload files")))
    }

    async fn create_files_files_post(
        &self,
        _ctx: Context<()>,
        body: Multipart,
    ) -> Result<stub::CreateFilesFilesPostResponse, Rejection> {
        let sizes: Vec<usize> = files(body).await?.iter().map(|(_, content)| content.len()).collect();
        Ok(stub::CreateFilesFilesPostResponse::Ok(json!({ "file_sizes": sizes })))
    }

    async fn create_upload_files_uploadfiles_post(
        &self,
        _ctx: Context<()>,
        body: Multipart,
    ) -> Result<stub::CreateUploadFilesUploadfilesPostResponse, Rejection> {
        let names: Vec<String> = files(body).await?.into_iter().map(|(name, _)| name).collect();
        Ok(stub::CreateUploadFilesUploadfilesPostResponse::Ok(
            json!({ "filenames": names }),
        ))
    }
}

#[tokio::test]
async fn arrays_of_files_reach_the_implementation() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let octets = Some("application/octet-stream");
    let cases = vec![
        ("the page", get("/"), answers(200, json!("a form to upload files"))),
        (
            "two files as bytes",
            post("/files/").multipart(&[
                ("files", Some("a.bin"), octets, b"\x00\x01\x02"),
                ("files", Some("b.txt"), Some("text/plain"), b"hello"),
            ]),
            answers(200, json!({ "file_sizes": [3, 5] })),
        ),
        (
            "two files as uploads, beside a part of another name",
            post("/uploadfiles/").multipart(&[
                ("files", Some("report.pdf"), Some("application/pdf"), b"%PDF-1.7"),
                ("note", None, None, b"not a file"),
                ("files", Some("photo.png"), Some("image/png"), b"\x89PNG"),
            ]),
            answers(200, json!({ "filenames": ["report.pdf", "photo.png"] })),
        ),
        (
            "an empty file",
            post("/files/").multipart(&[("files", Some("empty"), octets, b"")]),
            answers(200, json!({ "file_sizes": [0] })),
        ),
        (
            "JSON where multipart is required",
            post("/files/").json(json!({ "files": ["a"] })),
            rejected(415, "unsupported_media_type_error"),
        ),
        (
            "no body: it is required",
            post("/uploadfiles/"),
            rejected(400, "invalid_request_error"),
        ),
        (
            "a body cut off inside a part",
            post("/files/").body(
                "multipart/form-data; boundary=b",
                "--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a\"\r\n\r\nabc",
            ),
            rejected(400, "invalid_request_error"),
        ),
        (
            "another method",
            get("/files/"),
            rejected(405, "method_not_allowed_error"),
        ),
    ];
    check(&app, cases).await;
}
