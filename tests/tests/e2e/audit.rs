//! The audit log through the real binary (`serve --audit-log`): a scripted session yields exactly the expected
//! lines; no value or token of a thousand creates appears in it; a log that cannot be written, with
//! `--audit-required`, answers 503 and stores nothing (and serves again once it can be written); SIGHUP moves the
//! lines to a new file at the path; `-` writes to standard output.
//!
//! On SQLite or, under `E2E_DATABASE=postgres`, on PostgreSQL.

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Server, create_custom, find_any};

/// A server writing its audit log to `path`, with `args` more.
fn server(path: &Path, args: &[&str]) -> Server {
    let path = path.to_str().unwrap();
    Server::start_with(&[&["--rate-limit", "0", "--audit-log", path][..], args].concat())
}

/// The log's lines, parsed, each `time` checked (RFC 3339, never before the previous line's) and removed.
fn lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    parse(&text)
}

fn parse(text: &str) -> Vec<Value> {
    let mut previous = None;
    text.lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            let time = value
                .as_object_mut()
                .unwrap()
                .remove("time")
                .expect("a line without time");
            let time = chrono::DateTime::parse_from_rfc3339(time.as_str().unwrap()).unwrap();
            assert!(previous <= Some(time), "{line:?} is older than the line before it");
            previous = Some(time);
            value
        })
        .collect()
}

fn opened(cause: &str) -> Value {
    json!({"event": "opened", "cause": cause, "lost": 0})
}

/// The token id `token list` shows for `user`.
fn token_id(server: &Server, user: &str) -> String {
    let out = server.admin(&["token", "list"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|line| line.split_whitespace().last() == Some(user))
        .unwrap_or_else(|| panic!("no token of {user} in {text}"));
    line.split_whitespace().next().unwrap().to_owned()
}

/// Who sends a request, and how.
#[derive(Clone, Copy)]
enum Auth<'a> {
    Bearer(&'a str),
    ApiKey(&'a str),
    Nothing,
}

/// Sends one request with `x-request-id: request_id`; the status and the JSON answer (`Null` for none).
async fn send(
    server: &Server,
    request_id: &str,
    auth: Auth<'_>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}/api/v1/user/secrets{path}", server.url()))
        .header("x-request-id", request_id);
    request = match auth {
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::ApiKey(token) => request.header("X-API-Key", token),
        Auth::Nothing => request,
    };
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// One expected request line: `who` is (token id, user).
fn line(
    request_id: &str,
    who: Option<(&str, &str)>,
    operation: &str,
    secret: (Option<&str>, Option<&str>),
    status: u16,
) -> Value {
    json!({
        "event": "request", "request_id": request_id, "token_id": who.map(|w| w.0), "user": who.map(|w| w.1),
        "operation": operation, "secret_id": secret.0, "secret_name": secret.1, "status": status,
    })
}

/// A session of every operation and the usual refusals: the log holds exactly one line per request that reached
/// authentication, each with every field as expected (the time aside), and nothing for an unrouted path.
#[tokio::test]
async fn a_session_yields_exactly_the_expected_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let server = server(&path, &[]);
    let alice = server.token("alice", "write");
    let reader = server.token("bob", "read");
    let revoked = server.token("carol", "write");
    let (alice_id, bob_id, carol_id) = (
        token_id(&server, "alice"),
        token_id(&server, "bob"),
        token_id(&server, "carol"),
    );
    server.admin(&["token", "revoke", &revoked]);
    let a = Some((alice_id.as_str(), "alice"));
    let none = (None, None);
    let mut expected = vec![opened("start")];

    let body = json!({"name": "WANDB_API_KEY", "value": "wandb-value-1"});
    let (status, created) = send(
        &server,
        "r01",
        Auth::Bearer(&alice),
        Method::POST,
        "",
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let wandb = created["id"].as_str().unwrap().to_owned();
    let w = Some(wandb.as_str());
    expected.push(line("r01", a, "create_secret", (w, Some("WANDB_API_KEY")), 201));

    let (status, _) = send(&server, "r02", Auth::Bearer(&alice), Method::POST, "", Some(body)).await;
    assert_eq!(status, 409);
    expected.push(line("r02", a, "create_secret", (None, Some("WANDB_API_KEY")), 409));

    let preset = json!({"provider": "openai", "value": "sk-proj-value-2"});
    let (status, created) = send(
        &server,
        "r03",
        Auth::Bearer(&alice),
        Method::POST,
        "/preset",
        Some(preset),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let openai = created["id"].as_str().unwrap().to_owned();
    let o = Some(openai.as_str());
    expected.push(line(
        "r03",
        a,
        "create_secret_from_preset",
        (o, Some("OPENAI_API_KEY")),
        201,
    ));

    // (request id, auth, method, path under the secrets, body, status, expected line: who, operation, secret)
    type Step<'a> = (
        &'a str,
        Auth<'a>,
        Method,
        String,
        Option<Value>,
        u16,
        Option<(Option<(&'a str, &'a str)>, &'a str, (Option<&'a str>, Option<&'a str>))>,
    );
    let update = json!({"value": "wandb-value-3"});
    let steps: Vec<Step<'_>> = vec![
        (
            "r04",
            Auth::Bearer(&alice),
            Method::GET,
            String::new(),
            None,
            200,
            Some((a, "list_secrets", none)),
        ),
        (
            "r05",
            Auth::Bearer(&alice),
            Method::GET,
            "/presets".into(),
            None,
            200,
            Some((a, "get_provider_presets", none)),
        ),
        (
            "r06",
            Auth::Bearer(&alice),
            Method::GET,
            format!("/{wandb}"),
            None,
            200,
            Some((a, "get_secret", (w, Some("WANDB_API_KEY")))),
        ),
        (
            "r07",
            Auth::Bearer(&alice),
            Method::PUT,
            format!("/{wandb}"),
            Some(update),
            200,
            Some((a, "update_secret", (w, Some("WANDB_API_KEY")))),
        ),
        (
            "r08",
            Auth::Bearer(&alice),
            Method::DELETE,
            format!("/{wandb}"),
            None,
            204,
            Some((a, "delete_secret", (w, Some("WANDB_API_KEY")))),
        ),
        (
            "r09",
            Auth::Bearer(&alice),
            Method::GET,
            format!("/{wandb}"),
            None,
            404,
            Some((a, "get_secret", (w, None))),
        ),
        (
            "r10",
            Auth::ApiKey(&alice),
            Method::GET,
            format!("/{openai}"),
            None,
            200,
            Some((a, "get_secret", (o, Some("OPENAI_API_KEY")))),
        ),
        // A read token may not delete: its line names the secret it tried.
        (
            "r11",
            Auth::Bearer(&reader),
            Method::DELETE,
            format!("/{openai}"),
            None,
            403,
            Some((Some((&bob_id, "bob")), "delete_secret", (o, None))),
        ),
        // Refused before `authenticate` (no token) and by it (unknown, revoked: the revoked one is named).
        (
            "r12",
            Auth::Nothing,
            Method::GET,
            String::new(),
            None,
            401,
            Some((None, "list_secrets", none)),
        ),
        (
            "r13",
            Auth::Bearer("st_unknown"),
            Method::GET,
            String::new(),
            None,
            401,
            Some((None, "list_secrets", none)),
        ),
        (
            "r14",
            Auth::Bearer(&revoked),
            Method::GET,
            String::new(),
            None,
            401,
            Some((Some((&carol_id, "carol")), "list_secrets", none)),
        ),
        // Authenticated, then refused by validation: no secret id to name.
        (
            "r15",
            Auth::Bearer(&alice),
            Method::GET,
            "/not-a-uuid".into(),
            None,
            422,
            Some((a, "get_secret", none)),
        ),
        // No operation: no line.
        (
            "r16",
            Auth::Bearer(&alice),
            Method::GET,
            "/a/b/c".into(),
            None,
            404,
            None,
        ),
    ];
    for (request_id, auth, method, path, body, status, want) in steps {
        let (got, answer) = send(&server, request_id, auth, method, &path, body).await;
        assert_eq!(got, status, "{request_id}: {answer}");
        if let Some((who, operation, secret)) = want {
            expected.push(line(request_id, who, operation, secret, status));
        }
    }
    assert_eq!(lines(&path), expected);
}

/// A thousand creates with random values: the log has their thousand lines and none of the values, nor the token.
#[tokio::test]
async fn no_value_or_token_is_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let server = server(&path, &[]);
    let token = server.token("alice", "write");
    let client = server.client(&token);
    let mut rng = rand::rng();
    let values: Vec<String> = (0..1_000)
        .map(|_| {
            (&mut rng)
                .sample_iter(rand::distr::Alphanumeric)
                .take(40)
                .map(char::from)
                .collect()
        })
        .collect();
    for (i, value) in values.iter().enumerate() {
        let created = create_custom(&client, &format!("SECRET_{i}"), value).await.unwrap();
        assert_eq!(created.status().as_u16(), 201);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        parse(&text).len(),
        1 + values.len(),
        "the opened line and one per create"
    );
    let needles = [values.clone(), vec![token.clone()]].concat();
    assert_eq!(
        find_any(&text, &needles),
        None,
        "a value or the token is in the audit log"
    );
    // The scan can find: it finds the names, which the log does hold.
    assert_eq!(find_any(&text, &["SECRET_999".to_owned()]), Some("SECRET_999"));
}

/// Where an unwritable log is.
#[derive(Clone, Copy, Debug)]
enum Unwritable {
    /// `/dev/full`: opens, and every write fails with ENOSPC, as on a full disk (whoever runs the tests).
    Full,
    /// A path under a directory that does not exist: it cannot be opened.
    MissingDirectory,
}

/// With `--audit-required`, every request answers 503 in the envelope and nothing is stored; once the log can be
/// written (the directory created) the server serves again and the log starts with `opened`. Without it, the
/// server serves and logs the failure.
#[tokio::test]
async fn an_unwritable_log_with_audit_required_answers_503_and_stores_nothing() {
    let cases = [
        (Unwritable::Full, true),
        (Unwritable::MissingDirectory, true),
        (Unwritable::Full, false),
        (Unwritable::MissingDirectory, false),
    ];
    // (method, path under the secrets, body, the status when served)
    let requests = [
        (Method::POST, "", Some(json!({"name": "A", "value": "value-a"})), 201),
        (
            Method::POST,
            "/preset",
            Some(json!({"provider": "openai", "value": "value-b"})),
            201,
        ),
        (Method::GET, "", None, 200),
    ];
    for (where_, required) in cases {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let path = match where_ {
            Unwritable::Full => PathBuf::from("/dev/full"),
            Unwritable::MissingDirectory => missing.join("audit.log"),
        };
        let server = server(&path, if required { &["--audit-required"] } else { &[] });
        let token = server.token("alice", "write");
        let case = format!("{where_:?}, required {required}");
        for (i, (method, sub, body, served)) in requests.clone().into_iter().enumerate() {
            let (got, answer) = send(&server, &format!("u{i}"), Auth::Bearer(&token), method, sub, body).await;
            let want = if required { 503 } else { served };
            assert_eq!(got, want, "{case}: request {i}: {answer}");
            if required {
                assert_eq!(
                    (answer["code"].as_u64(), answer["type"].as_str()),
                    (Some(503), Some("service_unavailable")),
                    "{case}: {answer}"
                );
            }
        }
        let stored = server.secret_count("alice").await;
        assert_eq!(stored, if required { 0 } else { 2 }, "{case}");
        assert!(
            server.logs().contains("cannot write the audit log"),
            "{case}: {}",
            server.logs()
        );

        if let (Unwritable::MissingDirectory, true) = (where_, required) {
            std::fs::create_dir(&missing).unwrap();
            let body = json!({"name": "A", "value": "value-a"});
            let (got, created) = send(&server, "u9", Auth::Bearer(&token), Method::POST, "", Some(body)).await;
            assert_eq!(got, 201, "{case}: once writable: {created}");
            let who = token_id(&server, "alice");
            let id = created["id"].as_str();
            assert_eq!(
                lines(&path),
                [
                    opened("recovered"),
                    line("u9", Some((&who, "alice")), "create_secret", (id, Some("A")), 201)
                ],
                "{case}"
            );
        }
    }
}

/// logrotate's way: move the file, send SIGHUP; the next lines go to a new file at the path.
#[tokio::test]
async fn sighup_reopens_the_log_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let rotated = dir.path().join("audit.log.1");
    let server = server(&path, &[]);
    let token = server.token("alice", "write");
    let who = token_id(&server, "alice");
    let a = Some((who.as_str(), "alice"));
    let (status, _) = send(&server, "h1", Auth::Bearer(&token), Method::GET, "", None).await;
    assert_eq!(status, 200);
    std::fs::rename(&path, &rotated).unwrap();
    let pid = server.pid().unwrap().to_string();
    assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let start = Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < Duration::from_secs(10), "no new log after SIGHUP");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (status, _) = send(&server, "h2", Auth::Bearer(&token), Method::GET, "", None).await;
    assert_eq!(status, 200);
    let listed = |id| line(id, a, "list_secrets", (None, None), 200);
    assert_eq!(lines(&rotated), [opened("start"), listed("h1")]);
    assert_eq!(lines(&path), [opened("hangup"), listed("h2")]);
}

/// `--audit-log -` writes the same lines to standard output.
#[tokio::test]
async fn a_dash_writes_to_standard_output() {
    // A server of the harness's, stopped, lends its database and key file to one whose stdout this test reads.
    let mut server = Server::start();
    let token = server.token("alice", "write");
    let who = token_id(&server, "alice");
    server.stop();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = KillOnDrop(
        server
            .command(&["serve", "--listen", &listen, "--rate-limit", "0", "--audit-log", "-"])
            .arg("--key-file")
            .arg(server.key_file())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let start = Instant::now();
    while TcpStream::connect(&listen).is_err() {
        assert!(start.elapsed() < Duration::from_secs(30), "the server did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let response = reqwest::Client::new()
        .get(format!("http://{listen}/api/v1/user/secrets"))
        .bearer_auth(&token)
        .header("x-request-id", "s1")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let _ = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status();
    let exit = child.0.wait().unwrap();
    let mut out = String::new();
    child.0.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert_eq!(status, 200);
    assert!(exit.success(), "{exit}");
    assert_eq!(
        parse(&out),
        [
            opened("start"),
            line("s1", Some((&who, "alice")), "list_secrets", (None, None), 200)
        ]
    );
}

/// A child process killed and reaped when dropped, so a failing test leaves none behind.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
