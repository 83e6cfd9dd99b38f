//! The runtime of generated server stubs: what the router that `stub-gen` emits calls at run time, the way
//! progenitor's generated clients call `progenitor-client`. Generated code reaches everything here through one path
//! (`::stub_runtime` by default), so a stub compiles in any crate that depends on this one.
//!
//! # The envelope
//!
//! Every failure, from every layer, is answered in one JSON envelope, FastAPI/pydantic style:
//!
//! ```json
//! {"code": 422, "detail": "request body does not match the schema", "type": "validation_error",
//!  "errors": [{"loc": ["body", "provider"], "msg": "must be one of 'openai', 'anthropic'", "type": "enum"}]}
//! ```
//!
//! - `code` is always the HTTP status ([`Rejection`] holds one status for both);
//! - `type` is a stable machine-readable kind (`invalid_request_error`, `authentication_error`, `permission_error`,
//!   `not_found_error`, `method_not_allowed_error`, `already_exists_error`, `request_too_large_error`,
//!   `validation_error`, `upgrade_required`, `rate_limit_error`, `internal_error`, or an implementer's own);
//! - `detail` is for people, never quotes a submitted value, and on a 5xx names the request id (the cause is logged
//!   with that id, never sent);
//! - `errors` (422 only) lists every violation: `loc` from the request part (`body`, `path`, `query`, `header`) down
//!   through object keys and array indices, and pydantic's violation types (`missing`, `string_type`, `int_type`,
//!   `enum`, `string_too_short`, `string_pattern_mismatch`, `extra_forbidden`, `object_type`, …).
//!
//! # Modules
//! - [`rejection`]: the envelope and the one conversion to HTTP;
//! - [`extract`]: `api-version`, parameters (path, query, header, cookie; their styles);
//! - [`security`]: credentials for the security requirements, tried in order, as [`Credentials`];
//! - [`body`]: body limit, draining unused bodies, content type, strict JSON walked then decoded; choosing among
//!   several media types, forms, multipart streams, text and bytes;
//! - [`json`]: the values validators read ([`JsonValue`]): serde_json's, and the borrowed [`Tree`] of a JSON body;
//! - [`validate`]: the [`Validator`] generated validators drive;
//! - [`layers`]: the router's state ([`StubState`]), 404/405 fallbacks, the [`OperationId`] of each route, and the
//!   layer for request ids, spans, panic recovery and the request metrics ([`layers::metric`]).
//!
//! # What generated code names
//!
//! Generated code reaches every crate it uses but serde (whose derives need it as a dependency of their own)
//! through this one: [`axum`], [`serde_json`], [`chrono`], [`uuid`] and [`regress`] (the last three for the schema
//! types typify writes) are re-exported, and every trait method is called by its full path. So a stub crate's
//! manifest lists `stub-runtime` and `serde`, nothing else.

pub mod body;
mod context;
pub mod extract;
pub mod json;
pub mod layers;
pub mod rejection;
pub mod security;
pub mod validate;

pub use axum::body::Bytes;
pub use body::{
    FormField, Multipart, Part, Received, answer_unread, decode_json, drain, form_body, json_body, present, read_body,
    receive, refuse_unread, respond, text_body, typed,
};
pub use context::{
    API_VERSION_HEADER, ApiVersion, Context, DEFAULT_BODY_LIMIT, DEFAULT_DRAIN_TIMEOUT, REQUEST_ID_HEADER, RequestId,
    RouterConfig,
};
pub use extract::{
    Pairs, ParamKind, accept, check_api_version, coerce, coerce_fields, coerce_items, cookies, header_param,
    json_param, param, path_params, query, simple_object, split,
};
pub use json::{JsonObject, JsonValue, Tree};
pub use layers::{OperationId, StubState, layers, method_not_allowed, not_found, operation};
pub use rejection::{
    Loc, Rejection, Violation, bytes, checked_status, empty, header, json, json_as, text, undocumented_status,
};
pub use security::{Credential, Credentials, KeyLocation, Scheme, SchemeKind, credentials, optional_credentials};
pub use validate::{Literal, Pattern, Validator};
pub use {axum, chrono, regress, serde_json, uuid};

#[cfg(test)]
mod tests;
