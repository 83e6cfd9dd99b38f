//! `SecretValue`: the type generated code uses for the spec's `SecretValue` schema, so a received secret can reach
//! neither a log line, a `Debug` dump nor a response body.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret received from a client. Deserializes from a JSON string; `Debug` shows `SecretValue(••••)`, and
/// `Serialize` writes `"[redacted]"` (typify derives `Serialize` for every type, but the server must never echo a
/// secret back). The memory is wiped on drop.
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
        String::deserialize(deserializer).map(Self::from)
    }
}

impl serde::Serialize for SecretValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
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
}
