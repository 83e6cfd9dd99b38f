//! Drives the stub of readme-petstore at run time: the OpenAPI 3.1 Petstore of ReadMe's oas-examples. Reading a pet
//! requires an API key in the `api_key` header and answers JSON or XML, with a `default` response beside its
//! documented statuses; updating a pet takes a form body behind the implicit-flow OAuth2 scheme, whose access token
//! arrives as a bearer credential; creating a user answers only a `default` response. The cases check the typed
//! path, the media type the request prefers, the decoded form, and each credential accepted and refused.
//!
//! Kinds: form body, default response, api key in header, oauth2

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use corpus_readme_petstore::{self as stub, types};
use serde_json::json;
use stub_runtime::{Context, Credential, Credentials, Rejection, RequestId, RouterConfig};
use support::{answers, answers_empty, answers_text, check, get, invalid, not_driven, post, rejected};

struct Trivial;

impl stub::Api for Trivial {
    /// Who the key or the token belongs to.
    type Caller = String;

    async fn authenticate(&self, credentials: Credentials, _request_id: &RequestId) -> Result<String, Rejection> {
        match (credentials.get("api_key"), credentials.get("petstore_auth")) {
            (Some(Credential::ApiKey { value, .. }), _) if value == "special-key" => Ok("key holder".to_owned()),
            (_, Some(Credential::Bearer { token, .. })) if token.starts_with("pets-") => {
                Ok(token["pets-".len()..].to_owned())
            }
            _ => Err(Rejection::unauthorized("unknown key or token")),
        }
    }

    /// Pet 1 exists; 0 is the spec's invalid id, 7 answers the `default` response, any other is not found.
    async fn get_pet_by_id(
        &self,
        ctx: Context<String>,
        path: stub::GetPetByIdPath,
    ) -> Result<stub::GetPetByIdResponse, Rejection> {
        Ok(match path.pet_id {
            0 => stub::GetPetByIdResponse::BadRequest,
            1 => stub::GetPetByIdResponse::Ok(match ctx.preferred(&["application/json", "application/xml"]) {
                Some("application/xml") => {
                    stub::GetPetByIdOkBody::ApplicationXml("<Pet><id>1</id><name>doggie</name></Pet>".into())
                }
                _ => stub::GetPetByIdOkBody::ApplicationJson(types::Pet {
                    id: Some(1),
                    name: format!("doggie, read by {}", ctx.caller),
                    photo_urls: vec!["https://example.com/doggie.png".to_owned()],
                    category: None,
                    status: None,
                    tags: Vec::new(),
                }),
            }),
            7 => stub::GetPetByIdResponse::Default { status: 203 },
            _ => stub::GetPetByIdResponse::NotFound,
        })
    }

    /// The documented 405 for a pet named "gone"; otherwise a rejection whose type shows the fields as decoded
    /// (the operation documents no answer that could carry them).
    async fn update_pet_with_form(
        &self,
        ctx: Context<String>,
        path: stub::UpdatePetWithFormPath,
        body: Option<types::UpdatePetWithFormBody>,
    ) -> Result<stub::UpdatePetWithFormResponse, Rejection> {
        let Some(body) = body else {
            return Err(Rejection::new(StatusCode::CONFLICT, "no_body", "no form"));
        };
        if body.name.as_deref() == Some("gone") {
            return Ok(stub::UpdatePetWithFormResponse::MethodNotAllowed);
        }
        let decoded = format!(
            "{} set pet {}: {:?} {:?}",
            ctx.caller, path.pet_id, body.name, body.status
        );
        Err(Rejection::new(StatusCode::CONFLICT, decoded, "echo"))
    }

    /// The `default` response, as 201 for a user with a name and 200 otherwise.
    async fn create_user(&self, _ctx: Context<()>, body: types::User) -> Result<stub::CreateUserResponse, Rejection> {
        let status = if body.username.is_some() { 201 } else { 200 };
        Ok(stub::CreateUserResponse::Default { status })
    }

    not_driven! {
        update_pet(Context<String>, stub::UpdatePetBody) -> stub::UpdatePetResponse;
        add_pet(Context<String>, stub::AddPetBody) -> stub::AddPetResponse;
        find_pets_by_status(Context<String>, stub::FindPetsByStatusQuery) -> stub::FindPetsByStatusResponse;
        find_pets_by_tags(Context<String>, stub::FindPetsByTagsQuery) -> stub::FindPetsByTagsResponse;
        delete_pet(Context<String>, stub::DeletePetPath, stub::DeletePetHeaders) -> stub::DeletePetResponse;
        upload_file(Context<String>, stub::UploadFilePath, Option<stub_runtime::Bytes>) -> stub::UploadFileResponse;
        get_inventory(Context<String>) -> stub::GetInventoryResponse;
        place_order(Context<()>, types::Order) -> stub::PlaceOrderResponse;
        get_order_by_id(Context<()>, stub::GetOrderByIdPath) -> stub::GetOrderByIdResponse;
        delete_order(Context<()>, stub::DeleteOrderPath) -> stub::DeleteOrderResponse;
        create_users_with_array_input(Context<()>, Vec<types::User>) -> stub::CreateUsersWithArrayInputResponse;
        create_users_with_list_input(Context<()>, Vec<types::User>) -> stub::CreateUsersWithListInputResponse;
        login_user(Context<()>, stub::LoginUserQuery) -> stub::LoginUserResponse;
        logout_user(Context<()>) -> stub::LogoutUserResponse;
        get_user_by_name(Context<()>, stub::GetUserByNamePath) -> stub::GetUserByNameResponse;
        update_user(Context<()>, stub::UpdateUserPath, types::User) -> stub::UpdateUserResponse;
        delete_user(Context<()>, stub::DeleteUserPath) -> stub::DeleteUserResponse;
    }
}

#[tokio::test]
async fn a_pet_behind_the_api_key_and_its_default_response() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let key = |request: support::Request| request.header("api_key", "special-key");
    let cases = vec![
        (
            "the pet, as JSON",
            key(get("/pet/1")),
            answers(
                200,
                json!({ "id": 1, "name": "doggie, read by key holder", "photoUrls": ["https://example.com/doggie.png"] }),
            ),
        ),
        (
            "the pet, as the XML the request prefers",
            key(get("/pet/1")).header("accept", "application/xml"),
            answers_text(200, "application/xml", "<Pet><id>1</id><name>doggie</name></Pet>"),
        ),
        ("the spec's 400", key(get("/pet/0")), answers_empty(400)),
        ("the spec's 404", key(get("/pet/2")), answers_empty(404)),
        ("the default response", key(get("/pet/7")), answers_empty(203)),
        (
            "an id that is not an integer",
            key(get("/pet/doggie")),
            invalid(&[r#"["path","petId"]"#]),
        ),
        (
            "another key",
            get("/pet/1").header("api_key", "guess"),
            rejected(401, "authentication_error"),
        ),
        ("no key", get("/pet/1"), rejected(401, "authentication_error")),
        (
            "the key as a query parameter, where the scheme does not look",
            get("/pet/1?api_key=special-key"),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn a_form_behind_the_oauth2_token() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "both fields",
            post("/pet/5").bearer("pets-ann").form("name=rex&status=sold"),
            rejected(409, r#"ann set pet 5: Some("rex") Some("sold")"#),
        ),
        (
            "one field, percent-encoded",
            post("/pet/5").bearer("pets-ann").form("status=on+hold%21"),
            rejected(409, r#"ann set pet 5: None Some("on hold!")"#),
        ),
        (
            "the documented 405",
            post("/pet/5").bearer("pets-ann").form("name=gone"),
            answers_empty(405),
        ),
        (
            "a token authenticate refuses",
            post("/pet/5").bearer("guess").form("name=rex"),
            rejected(401, "authentication_error"),
        ),
        (
            "no token",
            post("/pet/5").form("name=rex"),
            rejected(401, "authentication_error"),
        ),
    ];
    check(&app, cases).await;
}

#[tokio::test]
async fn a_user_answered_by_the_default_response() {
    let app = stub::router(Arc::new(Trivial), RouterConfig::default());
    let cases = vec![
        (
            "a user with a name",
            post("/user").json(json!({ "username": "ann", "userStatus": 1 })),
            answers_empty(201),
        ),
        (
            "a user without one",
            post("/user").json(json!({ "email": "a@b.c" })),
            answers_empty(200),
        ),
        (
            "a user status that is not an integer",
            post("/user").json(json!({ "username": "ann", "userStatus": "on" })),
            invalid(&[r#"["body","userStatus"]"#]),
        ),
    ];
    check(&app, cases).await;
}
