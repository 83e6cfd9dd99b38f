//! Provider presets: the secret's name is the environment variable the provider's SDK reads.

use secrets_server_stub::types::{Provider, UserSecretProvider};

/// Every preset, in the order of the spec's `Provider` enum (the order `get_provider_presets` answers in).
pub const ALL: [Provider; 4] = [
    Provider::Openai,
    Provider::Anthropic,
    Provider::Github,
    Provider::Tinker,
];

/// The name a secret stored for `provider` gets (the table in the spec's `Provider` description).
pub fn secret_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Openai => "OPENAI_API_KEY",
        Provider::Anthropic => "ANTHROPIC_API_KEY",
        Provider::Github => "GITHUB_TOKEN",
        Provider::Tinker => "TINKER_API_KEY",
    }
}

/// The provider's name on the wire and in the database, e.g. `openai`.
pub fn wire_name(provider: Provider) -> &'static str {
    match provider {
        Provider::Openai => "openai",
        Provider::Anthropic => "anthropic",
        Provider::Github => "github",
        Provider::Tinker => "tinker",
    }
}

/// The provider as a stored secret's metadata names it (the spec's `UserSecret.provider`, which may also be null).
pub fn answered(provider: Provider) -> UserSecretProvider {
    match provider {
        Provider::Openai => UserSecretProvider::Openai,
        Provider::Anthropic => UserSecretProvider::Anthropic,
        Provider::Github => UserSecretProvider::Github,
        Provider::Tinker => UserSecretProvider::Tinker,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(provider, wire name, secret name)`, as in openapi.yaml.
    const CASES: &[(Provider, &str, &str)] = &[
        (Provider::Openai, "openai", "OPENAI_API_KEY"),
        (Provider::Anthropic, "anthropic", "ANTHROPIC_API_KEY"),
        (Provider::Github, "github", "GITHUB_TOKEN"),
        (Provider::Tinker, "tinker", "TINKER_API_KEY"),
    ];

    #[test]
    fn names_follow_the_spec() {
        assert_eq!(ALL.len(), CASES.len());
        for (&(provider, wire, name), listed) in CASES.iter().zip(ALL) {
            assert_eq!(provider, listed, "ALL is in the spec's order");
            assert_eq!(secret_name(provider), name);
            assert_eq!(wire_name(provider), wire);
            // the wire name agrees with the generated types' serde forms
            assert_eq!(serde_json::to_value(provider).unwrap(), serde_json::Value::from(wire));
            assert_eq!(
                serde_json::to_value(answered(provider)).unwrap(),
                serde_json::Value::from(wire)
            );
        }
    }
}
