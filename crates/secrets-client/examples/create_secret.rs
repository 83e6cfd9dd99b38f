//! What a downstream crate writes: build a client, then create, list, update and delete a secret, matching on the
//! typed error envelope.
//!
//! Run against a local server: `SECRETS_TOKEN=st_... cargo run -p secrets-client --example create_secret`

use secrets_client::{Client, Error, types::Provider};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("SECRETS_TOKEN")?;
    let client = Client::with_bearer_token("http://127.0.0.1:8080", &token)?;

    // Create: the preset names the secret OPENAI_API_KEY. A second create answers 409 in the typed envelope.
    let request = client
        .create_secret_from_preset()
        .body_map(|body| body.provider(Provider::Openai).value("sk-proj-example-value-789"));
    let secret = match request.send().await {
        Ok(secret) => secret.into_inner(),
        Err(Error::ErrorResponse(err)) => {
            eprintln!("{} {}: {}", err.status(), err.type_, err.detail);
            return Ok(());
        }
        Err(other) => return Err(other.into()),
    };
    println!("stored {} ({})", secret.name, secret.masked_value);

    // List: every secret of the caller, sorted by name; values are never returned, only masked.
    let listed = client.list_secrets().send().await?;
    for stored in &listed.secrets {
        println!("{:<24} {}", stored.name, stored.masked_value);
    }

    // Update: rotate the value; the answer has the new masked value and a later `updated_at`.
    let rotated = client
        .update_secret()
        .secret_id(secret.id)
        .body_map(|body| body.value("sk-proj-rotated-value-123"))
        .send()
        .await?;
    println!(
        "rotated {} at {} ({})",
        rotated.name, rotated.updated_at, rotated.masked_value
    );

    // Delete: 204; the same id now answers 404.
    client.delete_secret().secret_id(secret.id).send().await?;
    match client.get_secret().secret_id(secret.id).send().await {
        Err(Error::ErrorResponse(err)) => println!("after delete: {} {}", err.status(), err.type_),
        other => println!("after delete: {:?}", other.map(|s| s.status())),
    }
    Ok(())
}
