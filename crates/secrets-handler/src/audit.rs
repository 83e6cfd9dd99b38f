//! The audit log (`serve --audit-log PATH|-`): one JSON line per API request that reached authentication, saying
//! who (token id, user), which operation, which secret and what status; never a value, a token or a request body.
//!
//! A layer around the API's router ([`layer`], installed only with `--audit-log`) scopes a [`Record`] to each request;
//! `authenticate` and the operations note into it ([`authenticating`], [`caller`], [`secret_id`], [`secret_name`];
//! outside a scope, with no audit log, the notes do nothing) and the layer adds the operation id, the status and
//! the request id from the answer, then appends the line: one `write` to a file opened for appending, so each line
//! is on disk (in the page cache) before the answer leaves.
//!
//! A log that cannot be written (disk full, a missing directory, permissions) is logged once and retried on every
//! request. Its lines wait in a small backlog and are written, after an `opened` line, once it works again. With
//! `--audit-required` the server answers every request 503 while it fails, before the request reaches a handler,
//! so nothing is done that is not recorded; the one exception is a request whose own line failed after it was
//! served: its answer stands, and its line waits in the backlog.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{SecondsFormat, Utc};
use secrets_server_stub::runtime::{OperationId, REQUEST_ID_HEADER};
use secrets_server_stub::{Rejection, RequestId};
use serde::Serialize;

/// How many lines wait for a failed log before further ones are counted as lost. With `--audit-required` only the
/// requests already in flight when the log failed add to it.
const BACKLOG: usize = 1_000;

/// The envelope `type` of the 503 answered while a required audit log cannot be written.
pub const UNAVAILABLE: &str = "service_unavailable";

tokio::task_local! {
    /// What the request being served has noted so far; set by [`layer`] around the router.
    static RECORD: RefCell<Record>;
}

/// What a request noted for its audit line.
#[derive(Debug, Default)]
struct Record {
    /// `authenticate` ran.
    reached: bool,
    token_id: Option<String>,
    user: Option<String>,
    secret_id: Option<uuid::Uuid>,
    secret_name: Option<String>,
}

fn note(f: impl FnOnce(&mut Record)) {
    // Outside a scope there is no audit log: nothing to note.
    let _ = RECORD.try_with(|record| f(&mut record.borrow_mut()));
}

/// Notes that the request reached `authenticate`: it gets a line whatever the answer.
pub fn authenticating() {
    note(|r| r.reached = true);
}

/// Notes the token (by its id, never the token) and its user; also for a revoked or expired one.
pub fn caller(token_id: &str, user: &str) {
    note(|r| {
        r.token_id = Some(token_id.to_owned());
        r.user = Some(user.to_owned());
    });
}

/// Notes the id of the secret the request names or created.
pub fn secret_id(id: uuid::Uuid) {
    note(|r| r.secret_id = Some(id));
}

/// Notes the name of the secret the request names, created or found.
pub fn secret_name(name: &str) {
    note(|r| r.secret_name = Some(name.to_owned()));
}

/// Where the lines go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Standard output (`-`).
    Stdout,
    /// A file, created (mode 0600) if missing, appended to, and reopened on SIGHUP.
    File(PathBuf),
}

impl Target {
    /// `-` is standard output; anything else a file path.
    pub fn parse(path: &Path) -> Self {
        if path == Path::new("-") {
            Target::Stdout
        } else {
            Target::File(path.to_owned())
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Stdout => f.write_str("standard output"),
            Target::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why an `opened` line was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The server started.
    Start,
    /// SIGHUP (logrotate moved the file).
    Hangup,
    /// The log works again after failing; the backlog follows.
    Recovered,
}

/// The first line of each file the server opens, and the first line after a failure: it proves the log writable
/// before any request is served into it.
#[derive(Serialize)]
struct Opened {
    time: String,
    event: &'static str,
    cause: Cause,
    /// Lines that could not be kept while the log failed (the backlog was full).
    lost: u64,
}

/// The line of one request.
#[derive(Serialize)]
struct Line<'a> {
    time: String,
    event: &'static str,
    request_id: &'a str,
    token_id: Option<&'a str>,
    user: Option<&'a str>,
    /// `None` only for the 500 of a handler that panicked (the route's marker never saw an answer).
    operation: Option<&'static str>,
    secret_id: Option<uuid::Uuid>,
    secret_name: Option<&'a str>,
    status: u16,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn to_line(event: &impl Serialize) -> Vec<u8> {
    let mut line = serde_json::to_vec(event).expect("audit lines serialize");
    line.push(b'\n');
    line
}

/// The audit log: the target, whether it is required, and its state behind one lock (a line is one `write`; the
/// lock is held for it alone).
pub struct AuditLog {
    target: Target,
    required: bool,
    state: Mutex<Sink>,
}

struct Sink {
    /// The open file (`None` for stdout, or while the file cannot be opened).
    file: Option<File>,
    /// A write failed and nothing has been written since.
    failing: bool,
    /// A failed write may have left part of a line: the next write starts on a new line.
    torn: bool,
    /// Lines not yet written, oldest first.
    backlog: VecDeque<Vec<u8>>,
    /// Lines dropped because the backlog was full, since the last `opened` line.
    lost: u64,
}

impl AuditLog {
    /// Opens the log and writes its `opened` line. A log that cannot be written does not stop the server: the
    /// failure is logged, and with `required` every request is answered 503 until it can.
    pub fn open(target: Target, required: bool) -> Arc<Self> {
        let log = Arc::new(Self {
            target,
            required,
            state: Mutex::new(Sink {
                file: None,
                failing: false,
                torn: false,
                backlog: VecDeque::new(),
                lost: 0,
            }),
        });
        log.start(&mut log.sink(), Cause::Start);
        if !log.sink().failing {
            tracing::info!(target = %log.target, required, "audit log opened");
        }
        log
    }

    /// Reopens the file at the path (after logrotate moved it); the next lines go to the new file.
    pub fn reopen(&self) {
        let mut sink = self.sink();
        if self.start(&mut sink, Cause::Hangup) {
            tracing::info!(target = %self.target, "audit log reopened");
        }
    }

    /// Whether a request may be served: a failing log is retried first, and refuses the request if required.
    fn admit(&self) -> bool {
        let mut sink = self.sink();
        if sink.failing {
            self.start(&mut sink, Cause::Recovered);
        }
        !(sink.failing && self.required)
    }

    /// Appends one line, or keeps it in the backlog while the log fails.
    fn append(&self, line: Vec<u8>) {
        let mut sink = self.sink();
        if !sink.failing {
            match self.write(&mut sink, &line) {
                Ok(()) => return,
                Err(e) => self.failed(&mut sink, &e),
            }
        }
        if sink.backlog.len() < BACKLOG {
            sink.backlog.push_back(line);
        } else {
            sink.lost += 1;
        }
    }

    /// Writes what the backlog still holds, once more, before the server exits.
    pub fn close(&self) {
        let mut sink = self.sink();
        if sink.failing && !self.start(&mut sink, Cause::Recovered) {
            let held = sink.backlog.len() as u64 + sink.lost;
            tracing::error!(target = %self.target, lines = held, "audit log still cannot be written; lines lost at exit");
        }
    }

    fn sink(&self) -> MutexGuard<'_, Sink> {
        // A panic while writing leaves the sink as consistent as a failed write does.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// (Re)opens the file, writes the `opened` line and then the backlog; answers whether all of it was written.
    fn start(&self, sink: &mut Sink, cause: Cause) -> bool {
        let result = self.open_file(sink).and_then(|()| {
            let opened = Opened {
                time: now(),
                event: "opened",
                cause,
                lost: sink.lost,
            };
            self.write(sink, &to_line(&opened))?;
            while let Some(line) = sink.backlog.pop_front() {
                if let Err(e) = self.write(sink, &line) {
                    sink.backlog.push_front(line);
                    return Err(e);
                }
            }
            Ok(())
        });
        match result {
            Ok(()) => {
                if sink.failing {
                    tracing::info!(target = %self.target, lost = sink.lost, "audit log writable again");
                }
                sink.failing = false;
                sink.lost = 0;
                true
            }
            Err(e) => {
                self.failed(sink, &e);
                false
            }
        }
    }

    fn open_file(&self, sink: &mut Sink) -> io::Result<()> {
        let Target::File(path) = &self.target else {
            return Ok(());
        };
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        // The old file is closed first: a failed reopen leaves none, rather than lines going on into the moved file.
        sink.file = None;
        sink.file = Some(options.open(path)?);
        Ok(())
    }

    /// One line, in as few `write` calls as the kernel allows (one, short of a full disk), flushed.
    fn write(&self, sink: &mut Sink, line: &[u8]) -> io::Result<()> {
        let prefix: &[u8] = if sink.torn { b"\n" } else { b"" };
        let whole = [prefix, line].concat();
        let result = match (&self.target, &mut sink.file) {
            (Target::Stdout, _) => {
                let mut out = io::stdout().lock();
                write_counting(&mut out, &whole).and_then(|()| out.flush().map_err(|e| (true, e)))
            }
            (Target::File(_), Some(file)) => write_counting(file, &whole),
            (Target::File(_), None) => Err((false, io::Error::new(io::ErrorKind::NotFound, "not open"))),
        };
        match result {
            Ok(()) => {
                sink.torn = false;
                Ok(())
            }
            Err((partly, e)) => {
                sink.torn |= partly;
                Err(e)
            }
        }
    }

    fn failed(&self, sink: &mut Sink, error: &io::Error) {
        if !sink.failing {
            sink.failing = true;
            if self.required {
                tracing::error!(target = %self.target, %error, "cannot write the audit log; answering 503 until it can");
            } else {
                tracing::error!(target = %self.target, %error, "cannot write the audit log; serving on, lines held until it can");
            }
        }
    }
}

/// `write_all`, answering on failure whether some bytes were written (a torn line).
fn write_counting(out: &mut impl io::Write, mut bytes: &[u8]) -> Result<(), (bool, io::Error)> {
    let mut written = false;
    while !bytes.is_empty() {
        match out.write(bytes) {
            Ok(0) => return Err((written, io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                written = true;
                bytes = &bytes[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((written, e)),
        }
    }
    Ok(())
}

/// Wraps the API's router: every request that reaches authentication gets its line in `log`.
pub fn layer(router: Router, log: Arc<AuditLog>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(log, audit))
}

async fn audit(State(log): State<Arc<AuditLog>>, request: Request, next: Next) -> Response {
    if !log.admit() {
        return unavailable(&RequestId::for_request(request.headers()));
    }
    let (response, record) = RECORD
        .scope(RefCell::default(), async {
            let response = next.run(request).await;
            (response, RECORD.with(RefCell::take))
        })
        .await;
    let operation = response.extensions().get::<OperationId>().map(|id| id.0);
    let status = response.status();
    // The router refuses missing or malformed credentials itself (401), before it calls `authenticate`.
    let reached = record.reached || (operation.is_some() && status == StatusCode::UNAUTHORIZED);
    if reached {
        let request_id = response
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        log.append(to_line(&Line {
            time: now(),
            event: "request",
            request_id,
            token_id: record.token_id.as_deref(),
            user: record.user.as_deref(),
            operation,
            secret_id: record.secret_id,
            secret_name: record.secret_name.as_deref(),
            status: status.as_u16(),
        }));
    }
    response
}

/// The 503 of a required log that cannot be written, in the envelope, with the request id the router's layer would
/// have given (it is inside this one and never sees the request).
fn unavailable(id: &RequestId) -> Response {
    let mut response = Rejection::new(
        StatusCode::SERVICE_UNAVAILABLE,
        UNAVAILABLE,
        "the audit log cannot be written; no request is served until it can",
    )
    .into_response_for(id);
    let value = HeaderValue::try_from(id.as_str()).expect("request ids are plain ASCII");
    response.headers_mut().insert(REQUEST_ID_HEADER, value);
    response
}

/// Reopens the log's file on every SIGHUP, as logrotate expects after moving it. Standard output is never reopened.
pub fn reopen_on_hangup(log: Arc<AuditLog>) -> io::Result<()> {
    if log.target == Target::Stdout {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                log.reopen();
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use secrets_server_stub::runtime::{self, operation};
    use serde_json::{Value, json};
    use tower::ServiceExt as _;

    use super::*;

    /// The log's lines, each parsed, with `time` checked and removed (a missing file has none).
    fn lines(path: &Path) -> Vec<Value> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .map(|line| {
                let mut value: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
                // The test's own lines (`{"n": 1}`) have none.
                if let Some(time) = value.as_object_mut().unwrap().remove("time") {
                    chrono::DateTime::parse_from_rfc3339(time.as_str().unwrap()).unwrap();
                }
                value
            })
            .collect()
    }

    fn opened(cause: &str, lost: u64) -> Value {
        json!({"event": "opened", "cause": cause, "lost": lost})
    }

    fn line(n: u64) -> Vec<u8> {
        to_line(&json!({"n": n}))
    }

    /// What a scenario does to a log on `path` (a missing directory under the test's own, or `/dev/full`).
    #[derive(Clone, Copy, Debug)]
    enum Step {
        /// Asks to serve a request; expects the answer.
        Admit(bool),
        /// Appends the line `{"n": N}`.
        Append(u64),
        /// Appends this many lines `{"n": 0}`.
        AppendMany(usize),
        /// Creates the missing directory.
        Mkdir,
        /// Moves the file to `*.1` and reopens the path.
        Rotate,
    }

    /// `(log under a missing directory, required, steps, expected lines of the file, of the rotated file)`.
    type Case = (bool, bool, Vec<Step>, Vec<Value>, Vec<Value>);

    #[test]
    fn log_states() {
        use Step::*;
        let n = |n: u64| json!({"n": n});
        let cases: Vec<Case> = vec![
            // Writable: each line appended after the `opened` line.
            (
                false,
                true,
                vec![Admit(true), Append(1), Append(2)],
                vec![opened("start", 0), n(1), n(2)],
                vec![],
            ),
            // Missing directory: required refuses, optional serves; both keep the lines and write them, after an
            // `opened` line, at the first request once the directory exists.
            (
                true,
                true,
                vec![Admit(false), Append(1), Admit(false), Mkdir, Admit(true), Append(2)],
                vec![opened("recovered", 0), n(1), n(2)],
                vec![],
            ),
            (
                true,
                false,
                vec![
                    Admit(true),
                    Append(1),
                    Admit(true),
                    Append(2),
                    Mkdir,
                    Admit(true),
                    Append(3),
                ],
                vec![opened("recovered", 0), n(1), n(2), n(3)],
                vec![],
            ),
            // A full backlog counts what it drops.
            (
                true,
                false,
                vec![AppendMany(BACKLOG + 5), Mkdir, Admit(true)],
                [vec![opened("recovered", 5)], vec![n(0); BACKLOG]].concat(),
                vec![],
            ),
            // SIGHUP after logrotate moved the file: the next lines go to a new file at the path.
            (
                false,
                true,
                vec![Append(1), Rotate, Append(2)],
                vec![opened("hangup", 0), n(2)],
                vec![opened("start", 0), n(1)],
            ),
        ];
        for (i, (missing, required, steps, expected, expected_rotated)) in cases.into_iter().enumerate() {
            let dir = tempfile::tempdir().unwrap();
            let parent = if missing {
                dir.path().join("missing")
            } else {
                dir.path().to_owned()
            };
            let path = parent.join("audit.log");
            let log = AuditLog::open(Target::File(path.clone()), required);
            for step in steps {
                match step {
                    Admit(expected) => assert_eq!(log.admit(), expected, "case {i}: {step:?}"),
                    Append(k) => log.append(line(k)),
                    AppendMany(count) => (0..count).for_each(|_| log.append(line(0))),
                    Mkdir => std::fs::create_dir(&parent).unwrap(),
                    Rotate => {
                        std::fs::rename(&path, parent.join("audit.log.1")).unwrap();
                        log.reopen();
                    }
                }
            }
            assert_eq!(lines(&path), expected, "case {i}");
            assert_eq!(lines(&parent.join("audit.log.1")), expected_rotated, "case {i}");
        }
    }

    /// `/dev/full` opens but fails every write (ENOSPC), as a full disk does, whoever runs the test (root included).
    #[test]
    fn a_full_disk_refuses_requests_only_when_required() {
        for required in [true, false] {
            let log = AuditLog::open(Target::File("/dev/full".into()), required);
            assert_eq!(log.admit(), !required, "required {required}");
            log.append(line(1));
            assert_eq!(log.admit(), !required, "required {required}");
            assert_eq!(log.sink().backlog.len(), 1);
        }
    }

    #[test]
    fn notes_outside_a_request_do_nothing() {
        authenticating();
        caller("tok_000000000001", "alice");
        secret_id(uuid::Uuid::nil());
        secret_name("OPENAI_API_KEY");
    }

    /// The layer around a router whose routes note as the real ones do: `(path, expected line without time)`.
    #[tokio::test]
    async fn the_layer_writes_a_line_for_requests_that_reached_authentication() {
        async fn served() -> &'static str {
            authenticating();
            caller("tok_000000000001", "alice");
            secret_id(uuid::Uuid::nil());
            secret_name("OPENAI_API_KEY");
            "ok"
        }
        async fn refused() -> StatusCode {
            authenticating();
            StatusCode::UNAUTHORIZED
        }
        async fn no_credentials() -> StatusCode {
            StatusCode::UNAUTHORIZED
        }
        async fn old_client() -> StatusCode {
            StatusCode::UPGRADE_REQUIRED
        }
        async fn panics() -> StatusCode {
            authenticating();
            caller("tok_000000000001", "alice");
            panic!("a handler bug")
        }
        let routes = Router::new()
            .route("/served", get(served).layer(operation("get_secret")))
            .route("/refused", get(refused).layer(operation("list_secrets")))
            .route("/no-credentials", get(no_credentials).layer(operation("delete_secret")))
            .route("/old-client", get(old_client).layer(operation("get_secret")))
            .route("/panics", get(panics).layer(operation("list_secrets")));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let log = AuditLog::open(Target::File(path.clone()), true);
        let app = layer(runtime::layers(routes), Arc::clone(&log));
        // (who, operation, whether the secret is named, status)
        let line = |request_id: &str, who: Option<(&str, &str)>, op: Option<&str>, secret: bool, status: u16| {
            json!({
                "event": "request", "request_id": request_id, "token_id": who.map(|w| w.0),
                "user": who.map(|w| w.1), "operation": op, "secret_id": secret.then(uuid::Uuid::nil),
                "secret_name": secret.then_some("OPENAI_API_KEY"), "status": status,
            })
        };
        let alice = Some(("tok_000000000001", "alice"));
        let cases = [
            ("/served", Some(line("r1", alice, Some("get_secret"), true, 200))),
            ("/refused", Some(line("r2", None, Some("list_secrets"), false, 401))),
            (
                "/no-credentials",
                Some(line("r3", None, Some("delete_secret"), false, 401)),
            ),
            ("/old-client", None),
            ("/nowhere", None),
            // The runtime's 500 for a panic carries no operation: the line says who, and that it is unknown.
            ("/panics", Some(line("r6", alice, None, false, 500))),
        ];
        let mut expected = vec![opened("start", 0)];
        for (i, (uri, line)) in cases.into_iter().enumerate() {
            let request = Request::get(uri)
                .header(REQUEST_ID_HEADER, format!("r{}", i + 1))
                .body(Body::empty())
                .unwrap();
            app.clone().oneshot(request).await.unwrap();
            expected.extend(line);
        }
        assert_eq!(lines(&path), expected);
    }

    /// `(bytes the writer takes before failing, expected: Ok, or whether the failure left part of the line)`.
    #[test]
    fn write_counting_tells_a_torn_line() {
        struct Takes(usize);
        impl io::Write for Takes {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                match buf.len().min(self.0).min(4) {
                    0 => Err(io::Error::from_raw_os_error(28)),
                    n => {
                        self.0 -= n;
                        Ok(n)
                    }
                }
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let cases = [(100, None), (10, Some(true)), (0, Some(false))];
        for (takes, expected) in cases {
            let got = write_counting(&mut Takes(takes), b"{\"event\":\"opened\"}\n")
                .err()
                .map(|(torn, _)| torn);
            assert_eq!(got, expected, "takes {takes}");
        }
    }

    /// A required log that cannot be written answers 503 in the envelope, without calling the router.
    #[tokio::test]
    async fn a_required_log_that_fails_answers_503_before_the_router() {
        let log = AuditLog::open(Target::File("/dev/full".into()), true);
        async fn never() -> StatusCode {
            panic!("the router was called")
        }
        let app = layer(Router::new().route("/", get(never)), log);
        // (the client's x-request-id, whether the answer repeats it)
        for (sent, repeated) in [(None, false), (Some("req-42"), true), (Some("not plain!"), false)] {
            let mut request = Request::get("/");
            if let Some(id) = sent {
                request = request.header(REQUEST_ID_HEADER, id);
            }
            let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            let id = response.headers()[REQUEST_ID_HEADER].to_str().unwrap().to_owned();
            assert_eq!(Some(id.as_str()) == sent, repeated, "{sent:?}");
            let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
            let envelope: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(
                (envelope["code"].as_u64(), envelope["type"].as_str()),
                (Some(503), Some(UNAVAILABLE))
            );
            assert!(
                envelope["detail"].as_str().unwrap().contains(&id),
                "the detail names the id"
            );
        }
    }
}
