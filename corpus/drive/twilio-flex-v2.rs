//! Drives the stub of twilio-flex-v2 at run time: its one operation takes an optional form body behind HTTP basic
//! credentials, so the cases check the fields the implementation received and who `authenticate` said called.
//!
//! Kinds: form body, http basic

mod support;

use std::sync::Arc;

use corpus_twilio_flex_v2::{self as stub, types};
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, check, get, invalid, post, rejected};

struct Trivial;

impl stub::Api for Trivial {
    /// The account sid of the basic credentials.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        match credentials.get("accountSid_authToken") {
            Some(Credential::Basic { user, password, .. }) if password == "token" => Ok(user.clone()),
            _ => Err(Rejection::unauthorized("unknown account or token")),
        }
    }

    /// Echoes the caller and every field it received in `identity`, the one free-text field of the answer.
    async fn create_web_channel(
        &self,
        ctx: Context<String>,
        body: Option<types::CreateWebChannelBody>,
    ) -> Result<stub::CreateWebChannelResponse, Rejection> {
        let received = body.map_or_else(
            || "no body".to_owned(),
            |body| {
                format!(
                    "{} {:?} {:?} {:?}",
                    body.address_sid, body.chat_friendly_name, body.customer_friendly_name, body.pre_engagement_data
                )
            },
        );
        Ok(stub::CreateWebChannelResponse::Created(types::FlexV2WebChannel {
            conversation_sid: None,
            identity: Some(format!("{}: {received}", ctx.caller)),
        }))
    }
}

const PATH: &str = "/v2/WebChats";

fn identity(text: &str) -> serde_json::Value {
    serde_json::json!({ "identity": text })
}

#[tokio::test]
async fn form_body_decoded_field_by_field() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "every field, percent- and plus-encoded",
            post(PATH)
                .basic("AC1", "token")
                .form("AddressSid=IG%2F1&ChatFriendlyName=Ann+%26+Bo&PreEngagementData=%7B%7D"),
            answers(201, identity(r#"AC1: IG/1 Some("Ann & Bo") None Some("{}")"#)),
        ),
        (
            "the required field only",
            post(PATH).basic("AC2", "token").form("AddressSid=IG2"),
            answers(201, identity("AC2: IG2 None None None")),
        ),
        (
            "no body: it is optional",
            post(PATH).basic("AC1", "token"),
            answers(201, identity("AC1: no body")),
        ),
        (
            "the required field missing",
            post(PATH).basic("AC1", "token").form("ChatFriendlyName=x"),
            invalid(&[r#"["body","AddressSid"]"#]),
        ),
        (
            "a field given twice",
            post(PATH).basic("AC1", "token").form("AddressSid=a&AddressSid=b"),
            rejected(400, "invalid_request_error"),
        ),
        (
            "JSON instead of a form",
            post(PATH)
                .basic("AC1", "token")
                .json(serde_json::json!({ "AddressSid": "IG1" })),
            rejected(415, "unsupported_media_type_error"),
        ),
        (
            "another method",
            get(PATH).basic("AC1", "token"),
            rejected(405, "method_not_allowed_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn basic_credentials_accepted_or_refused_before_the_body() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "the right token",
            post(PATH).basic("AC9", "token").form("AddressSid=IG9"),
            answers(201, identity("AC9: IG9 None None None")),
        ),
        (
            "a wrong token",
            post(PATH).basic("AC9", "nope").form("AddressSid=IG9"),
            rejected(401, "authentication_error"),
        ),
        (
            "no credentials, and an invalid body that is never read",
            post(PATH).form("ChatFriendlyName=x"),
            rejected(401, "authentication_error"),
        ),
        (
            "basic credentials that are not base64",
            post(PATH).header("authorization", "Basic !!!").form("AddressSid=IG9"),
            rejected(401, "authentication_error"),
        ),
        (
            "a bearer token where basic is required",
            post(PATH).bearer("token").form("AddressSid=IG9"),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}
