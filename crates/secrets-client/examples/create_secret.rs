//! What a downstream crate writes: build a client, store a secret, match on the typed error envelope.
//!
//! Run against a local server: `SECRETS_TOKEN=st_... cargo run -p secrets-client --example create_secret`

use secrets_client::{Client, Error, types::Provider};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("SECRETS_TOKEN")?;
    let client = Client::with_bearer_token("http://127.0.0.1:8080", &token)?;
    let request = client
        .create_secret_from_preset()
        .body_map(|body| body.provider(Provider::Openai).value("sk-proj-example-value-789"));
    match request.send().await {
        Ok(secret) => println!("stored {} ({})", secret.name, secret.masked_value),
        Err(Error::ErrorResponse(err)) => {
            eprintln!("{} {}: {}", err.status(), err.type_, err.detail)
        }
        Err(other) => return Err(other.into()),
    }
    Ok(())
}
