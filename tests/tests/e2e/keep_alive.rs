//! Keep-alive connections survive every answer that does not say `Connection: close` (issue 14): answers sent
//! before the body is read (401, 404, 405, 426, 429) used to be followed, about once in 80, by the server closing
//! the connection. Requests go back to back over one connection, head and body in separate writes as most clients
//! send them, so the body is often still in flight when the early answer is ready.

use std::collections::BTreeMap;
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use secrets_client::types::Provider;
use secrets_client::{ClientInfo as _, Error};

use crate::harness::{Server, create};

const PRESET: &str = "/api/v1/user/secrets/preset";
/// Requests per kind on one connection: enough to meet a 1-in-80 race many times over, few enough to stay seconds.
const REQUESTS: usize = 2_000;
/// Flags for the server: a tight rate limit so that repeated requests turn into 429 quickly, and a minimum
/// api-version that only requests declaring an older one meet.
const SERVER_FLAGS: &[&str] = &["--rate-limit", "1", "--rate-burst", "2", "--min-api-version", "2.0.0"];

/// One kind of request, sent `REQUESTS` times over one connection.
struct Kind {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    /// `None`: the unknown token; `Some(user)`: a fresh write token for `user`.
    token: Option<&'static str>,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
    /// Every status this kind may be answered with.
    statuses: &'static [u16],
}

const JSON: (&str, &str) = ("content-type", "application/json");
const VALID: &str = r#"{"provider":"openai","value":"sk-keep-alive"}"#;

const KINDS: &[Kind] = &[
    Kind {
        name: "unknown token, body",
        method: "POST",
        path: PRESET,
        token: None,
        headers: &[JSON],
        body: "{}",
        statuses: &[401],
    },
    Kind {
        name: "unknown token, no body",
        method: "POST",
        path: PRESET,
        token: None,
        headers: &[],
        body: "",
        statuses: &[401],
    },
    Kind {
        name: "duplicate create, then rate limited",
        method: "POST",
        path: PRESET,
        token: Some("duplicate"),
        headers: &[JSON],
        body: VALID,
        statuses: &[201, 409, 429],
    },
    Kind {
        name: "invalid provider, then rate limited",
        method: "POST",
        path: PRESET,
        token: Some("invalid"),
        headers: &[JSON],
        body: r#"{"provider":"nope","value":"sk-keep-alive"}"#,
        statuses: &[422, 429],
    },
    Kind {
        name: "unknown path, body",
        method: "POST",
        path: "/api/v1/nowhere",
        token: None,
        headers: &[JSON],
        body: r#"{"a":1}"#,
        statuses: &[404],
    },
    Kind {
        name: "wrong method, body",
        method: "PUT",
        path: PRESET,
        token: None,
        headers: &[JSON],
        body: r#"{"a":1}"#,
        statuses: &[405],
    },
    Kind {
        name: "old api-version, body",
        method: "POST",
        path: PRESET,
        token: None,
        headers: &[JSON, ("api-version", "1.0.0")],
        body: "{}",
        statuses: &[426],
    },
];

/// What became of one request.
enum Outcome {
    /// An answer, and whether it said `Connection: close`.
    Answer { status: u16, close: bool },
    /// The connection was gone before an answer began: closed or reset by the server after the previous answer.
    Dropped,
}

/// One keep-alive connection that sends requests and reads answers (`Content-Length` bodies only, which is all
/// the server sends).
struct Connection {
    port: u16,
    reader: BufReader<TcpStream>,
}

impl Connection {
    fn open(port: u16) -> Connection {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // Head and body leave in separate segments, as they do from most clients.
        stream.set_nodelay(true).unwrap();
        // Bounds the test if the server stops answering; a healthy answer takes microseconds.
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Connection {
            port,
            reader: BufReader::new(stream),
        }
    }

    fn reopen(&mut self) {
        *self = Connection::open(self.port);
    }

    fn send(&mut self, head: &[u8], body: &[u8]) -> Outcome {
        let stream = self.reader.get_mut();
        let sent = stream.write_all(head).and_then(|()| stream.write_all(body));
        if let Err(err) = sent {
            assert!(gone(&err), "cannot send: {err}");
            return Outcome::Dropped;
        }
        match self.read_answer() {
            Ok(Some(answer)) => answer,
            Ok(None) => Outcome::Dropped,
            Err(err) if gone(&err) => Outcome::Dropped,
            Err(err) => panic!("cannot read the answer: {err}"),
        }
    }

    /// `None` when the connection ends before the first byte of an answer.
    fn read_answer(&mut self) -> io::Result<Option<Outcome>> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not a status line: {line:?}"));
        let (mut length, mut close) = (0, false);
        loop {
            line.clear();
            assert!(
                self.reader.read_line(&mut line)? > 0,
                "the connection ended inside an answer's head"
            );
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("a header line has a colon");
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap(),
                "connection" => close |= value.trim().eq_ignore_ascii_case("close"),
                "transfer-encoding" => panic!("the server sent a chunked answer; this reader expects Content-Length"),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body)?;
        Ok(Some(Outcome::Answer { status, close }))
    }
}

/// The server closed or reset the connection.
fn gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}

/// The head of one request, with `Content-Length` when `body_len` is not 0.
fn head(kind: &Kind, token: &str, body_len: usize) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: keep-alive\r\nauthorization: Bearer {token}\r\n",
        kind.method, kind.path
    );
    for (name, value) in kind.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if body_len > 0 {
        head.push_str(&format!("content-length: {body_len}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Statuses counted, connections dropped and answers that said `Connection: close`.
#[derive(Debug, Default)]
struct Tally {
    statuses: BTreeMap<u16, usize>,
    dropped: usize,
    closing: usize,
}

fn run(connection: &mut Connection, head: &[u8], body: &[u8], requests: usize) -> Tally {
    let mut tally = Tally::default();
    for _ in 0..requests {
        match connection.send(head, body) {
            Outcome::Answer { status, close } => {
                *tally.statuses.entry(status).or_default() += 1;
                if close {
                    tally.closing += 1;
                    connection.reopen();
                }
            }
            Outcome::Dropped => {
                tally.dropped += 1;
                connection.reopen();
            }
        }
    }
    tally
}

#[test]
fn early_answers_keep_the_connection_open() {
    let server = Server::start_with(SERVER_FLAGS);
    let mut failures = Vec::new();
    for kind in KINDS {
        let token = kind
            .token
            .map_or_else(|| "st_unknown".to_owned(), |user| server.token(user, "write"));
        let head = head(kind, &token, kind.body.len());
        let mut connection = Connection::open(server.port);
        let tally = run(&mut connection, &head, kind.body.as_bytes(), REQUESTS);
        let unexpected: Vec<_> = tally.statuses.keys().filter(|s| !kind.statuses.contains(s)).collect();
        if tally.dropped > 0 || tally.closing > 0 || !unexpected.is_empty() {
            failures.push(format!("{}: {tally:?}", kind.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The one answer that closes on purpose: a body over the limit is never read, so the 413 says so, and the next
/// request goes over a new connection.
#[test]
fn an_unread_body_over_the_limit_is_answered_with_connection_close() {
    let server = Server::start();
    let kind = Kind {
        name: "body over the limit, never sent",
        method: "POST",
        path: PRESET,
        token: Some("large"),
        headers: &[JSON],
        body: "",
        statuses: &[413],
    };
    let head = head(&kind, &server.token("large", "write"), 300_000);
    let mut connection = Connection::open(server.port);
    let tally = run(&mut connection, &head, &[], 20);
    assert_eq!(tally.statuses, BTreeMap::from([(413, 20)]), "{}: {tally:?}", kind.name);
    assert_eq!((tally.closing, tally.dropped), (20, 0), "{}: {tally:?}", kind.name);
}

/// The same through the generated client and its reqwest pool: no early answer reaches the caller as a transport
/// error (a pooled connection closed under the next request). reqwest writes a small body with the head, so the
/// bodies here are larger than the server's first read: the rest is still in flight when the early answer is ready.
#[tokio::test]
async fn the_generated_client_reuses_its_pool_after_early_answers() {
    const EACH: usize = 400;
    let server = Server::start_with(&["--rate-limit", "1", "--rate-burst", "2"]);
    let unknown = server.client("st_unknown");
    let limited = server.client(&server.token("pooled", "write"));
    // 64,000 bytes in 16,000 characters, within both the value's length limit and the body limit.
    let value = "\u{1F511}".repeat(16_000);
    let mut statuses: BTreeMap<(&str, u16), usize> = BTreeMap::new();
    for _ in 0..EACH {
        for (what, client) in [("unknown token", &unknown), ("rate limited", &limited)] {
            let status = match create(client, Provider::Github, &value).await {
                Ok(created) => created.status().as_u16(),
                Err(Error::ErrorResponse(err)) => err.status().as_u16(),
                Err(other) => panic!("{what}: a transport error after {statuses:?}: {other}"),
            };
            *statuses.entry((what, status)).or_default() += 1;
        }
        // An unknown path through the same pool (the generated client has no method for it).
        let sent = limited
            .client()
            .post(format!("{}/api/v1/nowhere", server.url()))
            .json(&serde_json::json!({ "provider": "github", "value": value }))
            .send()
            .await;
        match sent {
            Ok(answer) => *statuses.entry(("unknown path", answer.status().as_u16())).or_default() += 1,
            Err(err) => panic!("unknown path: a transport error after {statuses:?}: {err}"),
        }
    }
    let kinds: Vec<_> = statuses.keys().copied().collect();
    for kind in &kinds {
        assert!(
            matches!(
                kind,
                ("unknown token", 401) | ("rate limited", 201 | 409 | 429) | ("unknown path", 404)
            ),
            "unexpected {kind:?}: {statuses:?}"
        );
    }
}
