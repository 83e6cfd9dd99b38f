//! `SecretValue`: the type generated code uses for the spec's `SecretValue` schema, so a received secret can reach
//! neither a log line, a `Debug` dump nor a response body.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// A secret received from a client. Deserializes from any JSON string: the router's walk has already checked it
/// against the spec's `SecretValue` schema (the generated `validate_secret_value`), once, before the body is
/// decoded. `Debug` shows `SecretValue(••••)`, and `Serialize` writes `"[redacted]"` (typify derives `Serialize` for
/// every type, but the server must never echo a secret back). The memory is wiped on drop.
#[derive(Clone)]
pub struct SecretValue(SecretString);

impl SecretValue {
    /// The secret itself. Name the call site for what it is: every use is a place the value can leak.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(••••)")
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self(SecretString::from(value))
    }
}

impl From<&str> for SecretValue {
    fn from(value: &str) -> Self {
        Self(SecretString::from(value))
    }
}

impl<'de> serde::Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        Ok(Self(SecretString::from(text.as_str())))
    }
}

impl serde::Serialize for SecretValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

/// The schema of the value, not the value: a string, as the spec's `SecretValue` describes it.
impl schemars::JsonSchema for SecretValue {
    fn schema_name() -> String {
        "SecretValue".to_owned()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::SecretValue;

    #[test]
    fn never_shown_but_readable() {
        let secret: SecretValue = serde_json::from_str(r#""sk-proj-very-secret""#).unwrap();
        assert_eq!(secret.expose_secret(), "sk-proj-very-secret");
        assert_eq!(format!("{secret:?}"), "SecretValue(••••)");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""[redacted]""#);
    }

    /// What the schema refuses, the router's walk refuses (it runs before the body is decoded, so the type need not
    /// check again), and never with the value in the message.
    #[test]
    fn the_walk_refuses_what_the_schema_refuses_without_quoting_it() {
        let too_long = "x".repeat(16385);
        for (text, refused) in [("", true), ("   ", true), (too_long.as_str(), true), (" a ", false)] {
            let mut cx = stub_runtime::Validator::new();
            crate::validators::validate_secret_value_str(text, &mut cx);
            match cx.finish() {
                Ok(()) => assert!(!refused, "{text:?} passed"),
                Err(rejection) => {
                    assert!(refused, "{text:?} refused");
                    let envelope = format!("{:?}", rejection.errors());
                    assert!(!envelope.contains("xxx"), "{envelope}");
                }
            }
        }
        assert!(serde_json::from_str::<SecretValue>("7").is_err());
    }
}
