//! Property tests: arbitrary JSON and arbitrary bytes as bodies never get a 5xx, a non-envelope, or an echo.

use proptest::prelude::*;
use serde_json::Value;

use crate::harness::Server;

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![Just("openai"), Just("anthropic"), Just("github"), Just("tinker")].prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![Just("provider".to_owned()), Just("value".to_owned()), "[a-z]{1,8}"],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every string of 8 or more characters in a document, but the provider names a 201 rightly names: none may come
/// back in a response.
fn long_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.chars().count() >= 8 && !["anthropic"].contains(&s.as_str()) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| long_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| long_strings(v, out)),
        _ => {}
    }
}

struct Target {
    server: Server,
    token: String,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl Target {
    fn new() -> Target {
        let server = Server::start();
        let token = server.token("prop", "write");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        Target {
            server,
            token,
            runtime,
            http: reqwest::Client::new(),
        }
    }

    /// POSTs `body` and checks the answer; returns the response text.
    fn check(&self, body: Vec<u8>, secrets: &[String]) -> Result<(), TestCaseError> {
        let request = self
            .http
            .post(format!("{}/api/v1/user/secrets/preset", self.server.url()))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body);
        let (status, text) = self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        });
        prop_assert!(status < 500, "{status}: {text}");
        let json: Value = serde_json::from_str(&text).map_err(|_| TestCaseError::fail(format!("not JSON: {text}")))?;
        if status >= 400 {
            prop_assert_eq!(&json["code"], &Value::from(status));
            prop_assert!(json["type"].is_string() && json["detail"].is_string(), "{}", text);
        }
        for secret in secrets {
            prop_assert!(!text.contains(secret.as_str()), "echoed {:?}", secret);
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_bodies(doc in json()) {
        thread_local!(static TARGET: Target = Target::new());
        let mut secrets = Vec::new();
        long_strings(&doc, &mut secrets);
        TARGET.with(|t| t.check(serde_json::to_vec(&doc).unwrap(), &secrets))?;
    }

    #[test]
    fn arbitrary_byte_bodies(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        thread_local!(static TARGET: Target = Target::new());
        let text = String::from_utf8_lossy(&bytes);
        let secrets: Vec<String> = if text.chars().count() >= 8 { vec![text.into_owned()] } else { vec![] };
        TARGET.with(|t| t.check(bytes, &secrets))?;
    }
}
