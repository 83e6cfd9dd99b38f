//! Property tests: arbitrary JSON and arbitrary bytes as bodies of every operation that takes one (custom and preset
//! creates, update) never get a 5xx, a non-envelope, or an echo.

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
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
                prop_oneof![
                    Just("provider".to_owned()),
                    Just("value".to_owned()),
                    Just("name".to_owned()),
                    "[a-z]{1,8}"
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every string of 8 or more characters in a document, but the provider names and the secret names a 201 rightly
/// names: none may come back in a response.
fn long_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.chars().count() >= 8 && !["anthropic"].contains(&s.as_str()) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| long_strings(v, out)),
        Value::Object(map) => map
            .iter()
            .filter(|(key, _)| *key != "name")
            .for_each(|(_, v)| long_strings(v, out)),
        _ => {}
    }
}

/// The operations with a body: method and path (an update of an id nobody holds answers 404 when the body is
/// valid).
const TARGETS: [(&str, &str); 3] = [
    ("POST", "/api/v1/user/secrets/preset"),
    ("POST", "/api/v1/user/secrets"),
    ("PUT", "/api/v1/user/secrets/3f0c6d2e-8b1a-4c57-9e2d-6a4b8c1f7e90"),
];

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

    /// Sends `body` to every operation that takes one and checks each answer.
    fn check(&self, body: Vec<u8>, secrets: &[String]) -> Result<(), TestCaseError> {
        for (method, path) in TARGETS {
            self.check_one(method, path, body.clone(), secrets)?;
        }
        Ok(())
    }

    fn check_one(&self, method: &str, path: &str, body: Vec<u8>, secrets: &[String]) -> Result<(), TestCaseError> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let request = self
            .http
            .request(method, format!("{}{path}", self.server.url()))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body);
        let (status, text) = self.runtime.block_on(async {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        });
        prop_assert!(status < 500, "{path}: {status}: {text}");
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

/// 256 cases against one server, which is dropped (killed) when the test ends: a server kept in a thread-local
/// would outlive the test binary when its thread's destructors do not run.
fn run_cases<S: Strategy>(strategy: S, test: impl Fn(&Target, S::Value) -> Result<(), TestCaseError>) {
    let target = Target::new();
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    if let Err(err) = runner.run(&strategy, |value| test(&target, value)) {
        panic!("{err}");
    }
}

#[test]
fn arbitrary_json_bodies() {
    run_cases(json(), |target, doc| {
        let mut secrets = Vec::new();
        long_strings(&doc, &mut secrets);
        target.check(serde_json::to_vec(&doc).unwrap(), &secrets)
    });
}

#[test]
fn arbitrary_byte_bodies() {
    run_cases(prop::collection::vec(any::<u8>(), 0..512), |target, bytes| {
        let text = String::from_utf8_lossy(&bytes);
        let secrets: Vec<String> = if text.chars().count() >= 8 {
            vec![text.into_owned()]
        } else {
            vec![]
        };
        target.check(bytes, &secrets)
    });
}
