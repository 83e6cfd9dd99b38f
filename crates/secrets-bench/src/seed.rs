//! `secrets-bench seed`: stores one secret per preset for a token through the generated client, so the list figure
//! reads a caller with 4 secrets and the get figure one of them; prints the id of the first.

use anyhow::Context as _;
use secrets_client::types::Provider;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server's base URL, e.g. http://127.0.0.1:8081.
    #[arg(long)]
    url: String,
    /// A write token; its user gets the secrets.
    #[arg(long)]
    token: String,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let client = secrets_client::Client::with_bearer_token(&args.url, &args.token)?;
        let mut first = None;
        for provider in [
            Provider::Openai,
            Provider::Anthropic,
            Provider::Github,
            Provider::Tinker,
        ] {
            let created = client
                .create_secret_from_preset()
                .body_map(|b| b.provider(provider).value("sk-bench-read-0123456789abcdef"))
                .send()
                .await
                .with_context(|| format!("cannot store the {provider} secret"))?;
            first.get_or_insert(created.id);
        }
        println!("{}", first.context("no secret stored")?);
        anyhow::Ok(())
    })
}
