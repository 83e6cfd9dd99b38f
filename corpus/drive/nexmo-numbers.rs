//! Drives the stub of nexmo-numbers at run time: buying and updating a number take a form body, and every operation
//! requires two API keys in the query together (`api_key` and `api_secret`, one requirement naming both schemes).
//! The cases check the decoded fields, both keys reaching `authenticate`, and the answer in the media type the
//! request accepts.
//!
//! Kinds: form body, api key in query

mod support;

use std::sync::Arc;

use corpus_nexmo_numbers::{self as stub, types};
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, answers_text, check, get, invalid, not_driven, post, rejected};

struct Trivial;

impl stub::Api for Trivial {
    /// The account's `api_key`, once its secret matched.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        let key = |scheme| match credentials.get(scheme) {
            Some(Credential::ApiKey { value, .. }) => Some(value.as_str()),
            _ => None,
        };
        match (key("apiKey"), key("apiSecret")) {
            (Some(key), Some(secret)) if secret == format!("{key}-secret") => Ok(key.to_owned()),
            _ => Err(Rejection::unauthorized("unknown key or secret")),
        }
    }

    /// Echoes the caller and the fields; a number starting 420 is one the spec's 420 refuses. The body is XML text
    /// when the request prefers it.
    async fn buy_a_number(
        &self,
        ctx: Context<String>,
        body: types::NumberDetails,
    ) -> Result<stub::BuyANumberResponse, Rejection> {
        let label = format!(
            "{} bought {} in {} for {:?}",
            ctx.caller, body.msisdn, *body.country, body.target_api_key
        );
        if body.msisdn.starts_with("420") {
            return Ok(stub::BuyANumberResponse::Status420(
                stub::BuyANumberStatus420Body::ApplicationJson(types::Response420 {
                    error_code: Some("420".to_owned()),
                    error_code_label: Some(label),
                }),
            ));
        }
        let body = match ctx.preferred(&["application/json", "text/xml"]) {
            Some("text/xml") => stub::BuyANumberOkBody::TextXml(format!("<response>{label}</response>")),
            _ => stub::BuyANumberOkBody::ApplicationJson(types::Response {
                error_code: Some("200".to_owned()),
                error_code_label: Some(label),
            }),
        };
        Ok(stub::BuyANumberResponse::Ok(body))
    }

    async fn update_a_number(
        &self,
        ctx: Context<String>,
        body: types::NumberDetailsUpdate,
    ) -> Result<stub::UpdateANumberResponse, Rejection> {
        let label = format!(
            "{} updated {} in {}: app {:?}, voice {:?} {:?}",
            ctx.caller,
            body.msisdn,
            *body.country,
            body.app_id,
            body.voice_callback_type.map(|kind| kind.to_string()),
            body.voice_callback_value,
        );
        Ok(stub::UpdateANumberResponse::Ok(
            stub::UpdateANumberOkBody::ApplicationJson(types::Response {
                error_code: Some("200".to_owned()),
                error_code_label: Some(label),
            }),
        ))
    }

    not_driven! {
        get_owned_numbers(Context<String>, stub::GetOwnedNumbersQuery) -> stub::GetOwnedNumbersResponse;
        cancel_a_number(Context<String>, types::NumberDetails) -> stub::CancelANumberResponse;
        get_available_numbers(Context<String>, stub::GetAvailableNumbersQuery) -> stub::GetAvailableNumbersResponse;
    }
}

const BUY: &str = "/number/buy?api_key=k1&api_secret=k1-secret";
const UPDATE: &str = "/number/update?api_key=k1&api_secret=k1-secret";

fn label(code: &str, label: &str) -> serde_json::Value {
    serde_json::json!({ "error-code": code, "error-code-label": label })
}

#[tokio::test]
async fn form_bodies_decoded_and_validated() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "the required fields",
            post(BUY).form("country=GB&msisdn=447700900000"),
            answers(200, label("200", "k1 bought 447700900000 in GB for None")),
        ),
        (
            "an optional field too, in another order",
            post(BUY).form("target_api_key=sub+1&msisdn=447700900001&country=DE"),
            answers(200, label("200", r#"k1 bought 447700900001 in DE for Some("sub 1")"#)),
        ),
        (
            "the spec's 420",
            post(BUY).form("country=GB&msisdn=4207700"),
            answers(420, label("420", "k1 bought 4207700 in GB for None")),
        ),
        (
            "XML preferred",
            post(BUY)
                .header("accept", "text/xml, application/json;q=0.5")
                .form("country=GB&msisdn=447700900000"),
            answers_text(
                200,
                "text/xml",
                "<response>k1 bought 447700900000 in GB for None</response>",
            ),
        ),
        (
            "a required field missing, another too long",
            post(BUY).form("country=GBR"),
            invalid(&[r#"["body","country"]"#, r#"["body","msisdn"]"#]),
        ),
        (
            "an update with an enum field",
            post(UPDATE).form("country=GB&msisdn=44770&voiceCallbackType=sip&voiceCallbackValue=sip%3Aa%40b&app_id=a1"),
            answers(
                200,
                label(
                    "200",
                    r#"k1 updated 44770 in GB: app Some("a1"), voice Some("sip") Some("sip:a@b")"#,
                ),
            ),
        ),
        (
            "an update with a value outside the enum",
            post(UPDATE).form("country=GB&msisdn=44770&voiceCallbackType=fax"),
            invalid(&[r#"["body","voiceCallbackType"]"#]),
        ),
        (
            "a JSON body",
            post(BUY).json(serde_json::json!({ "country": "GB", "msisdn": "447700900000" })),
            rejected(415, "unsupported_media_type_error"),
        ),
        (
            "no body: it is required",
            post(BUY),
            rejected(400, "invalid_request_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn two_query_keys_required_together() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let form = "country=GB&msisdn=447700900000";
    let cases = vec![
        (
            "another account's key and secret",
            post("/number/buy?api_secret=k2-secret&api_key=k2").form(form),
            answers(200, label("200", "k2 bought 447700900000 in GB for None")),
        ),
        (
            "the wrong secret",
            post("/number/buy?api_key=k1&api_secret=k2-secret").form(form),
            rejected(401, "authentication_error"),
        ),
        (
            "the key without its secret",
            post("/number/buy?api_key=k1").form(form),
            rejected(401, "authentication_error"),
        ),
        (
            "the secret without its key",
            post("/number/buy?api_secret=k1-secret").form(form),
            rejected(401, "authentication_error"),
        ),
        (
            "neither",
            post("/number/buy").form(form),
            rejected(401, "authentication_error"),
        ),
        (
            "both in the form rather than the query",
            post("/number/buy").form("api_key=k1&api_secret=k1-secret&country=GB&msisdn=447700900000"),
            rejected(401, "authentication_error"),
        ),
        (
            "an operation no case drives, authenticated first",
            get("/account/numbers?api_key=k1&api_secret=k1-secret"),
            rejected(501, "not_implemented_error"),
        ),
    ];
    check(&app, cases).await;
}
