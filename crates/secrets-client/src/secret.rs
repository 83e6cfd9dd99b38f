//! `SecretValue`: the type generated code uses for the spec's `SecretValue` schema, so secrets never reach `Debug`.

use std::fmt;

use zeroize::Zeroizing;

/// A secret to send. Serializes as the plain string (the server needs it); `Debug` shows `SecretValue(••••)`,
/// and the memory is wiped on drop.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// The secret itself. Name the call site for what it is: every use is a place the value can leak.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(••••)")
    }
}

impl From<String> for SecretValue {
    fn from(value: String) -> Self {
        Self(Zeroizing::new(value))
    }
}

impl From<&str> for SecretValue {
    fn from(value: &str) -> Self {
        Self(Zeroizing::new(value.to_owned()))
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
    fn debug_never_shows_the_value() {
        let secret = SecretValue::from("sk-proj-very-secret");
        assert_eq!(format!("{secret:?}"), "SecretValue(••••)");
        assert_eq!(serde_json::to_string(&secret).unwrap(), r#""sk-proj-very-secret""#);
    }
}
