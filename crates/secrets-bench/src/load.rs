//! `secrets-bench load`: an HTTP/1.1 load generator over keep-alive connections that records every latency
//! (exact percentiles, no histogram buckets) and counts answers whose status is not the expected one.
//!
//! Two plans: a fixed request repeated for a warm-up then a measured duration, or a list of distinct creates (four
//! per token, so every create is new) sent once each, the first few unmeasured.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// The providers of the spec's `Provider` enum: one token can create one secret of each.
const PROVIDERS: [&str; 4] = ["openai", "anthropic", "github", "tinker"];

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Target, e.g. http://127.0.0.1:8081/api/v1/user/secrets/preset (plain HTTP only).
    #[arg(long)]
    url: String,
    /// Concurrent keep-alive connections, each sending its next request when the previous answer is read.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Event-loop threads of the load generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The status every answer must have; others are counted as mismatches.
    #[arg(long)]
    expect: u16,
    /// Fixed plan: the bearer token of every request.
    #[arg(long, conflicts_with = "tokens_file")]
    token: Option<String>,
    /// Fixed plan: the JSON body of every request.
    #[arg(long, requires = "token")]
    body: Option<String>,
    /// Fixed plan: `GET` sends no body (list and get); `POST` the body.
    #[arg(long, default_value = "POST", requires = "token")]
    method: String,
    /// Fixed plan: seconds measured.
    #[arg(long, default_value_t = 2.0)]
    duration: f64,
    /// Fixed plan: seconds sent before measuring starts.
    #[arg(long, default_value_t = 0.5)]
    warmup: f64,
    /// Distinct plan: a file with one token per line; each token creates one secret per provider.
    #[arg(long)]
    tokens_file: Option<PathBuf>,
    /// Distinct plan: `create_secret` bodies, one name per provider (`BENCH_OPENAI`…), rather than
    /// `create_secret_from_preset` ones; the URL names the matching route.
    #[arg(long, requires = "tokens_file")]
    named: bool,
    /// Distinct plan: how many of the first tokens are warm-up (sent, checked, not measured).
    #[arg(long, default_value_t = 0)]
    warmup_tokens: usize,
}

enum Plan {
    Fixed {
        request: Vec<u8>,
        measure_from: Instant,
        end: Instant,
    },
    Distinct {
        requests: Vec<Vec<u8>>,
        warmup: usize,
    },
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    latencies_ns: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    sent: u64,
    reconnects: u64,
    first_send: Option<Instant>,
    last_done: Option<Instant>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let (addr, host, path) = parse_url(&args.url)?;
    ensure!(args.connections > 0, "--connections must be at least 1");
    let plan = if let Some(file) = &args.tokens_file {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        let tokens: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        ensure!(
            tokens.len() > args.warmup_tokens,
            "{} has {} tokens; --warmup-tokens is {}",
            file.display(),
            tokens.len(),
            args.warmup_tokens
        );
        let requests = tokens
            .iter()
            .flat_map(|token| {
                PROVIDERS.iter().map(|provider| {
                    let value = format!("sk-bench-{provider}-0123456789abcdef");
                    let body = if args.named {
                        let name = format!("BENCH_{}", provider.to_uppercase());
                        format!(r#"{{"name":"{name}","value":"{value}","provider":"{provider}"}}"#)
                    } else {
                        format!(r#"{{"provider":"{provider}","value":"{value}"}}"#)
                    };
                    request(&host, &path, token.trim(), &body)
                })
            })
            .collect();
        Plan::Distinct {
            requests,
            warmup: args.warmup_tokens * PROVIDERS.len(),
        }
    } else {
        let token = args
            .token
            .as_deref()
            .context("give --token (fixed plan) or --tokens-file (distinct plan)")?;
        let body = args
            .body
            .as_deref()
            .unwrap_or(r#"{"provider":"openai","value":"sk-bench-0123456789abcdef"}"#);
        ensure!(
            ["GET", "POST"].contains(&args.method.as_str()),
            "--method is GET or POST"
        );
        let request = if args.method == "GET" {
            get_request(&host, &path, token)
        } else {
            request(&host, &path, token, body)
        };
        let measure_from = Instant::now() + Duration::from_secs_f64(args.warmup);
        Plan::Fixed {
            request,
            measure_from,
            end: measure_from + Duration::from_secs_f64(args.duration),
        }
    };

    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let tallies = runtime.block_on(async {
        let tasks: Vec<_> = (0..args.connections)
            .map(|_| tokio::spawn(connection(addr, Arc::clone(&plan), Arc::clone(&next))))
            .collect();
        let mut tallies = Vec::with_capacity(tasks.len());
        for task in tasks {
            tallies.push(task.await??);
        }
        anyhow::Ok(tallies)
    })?;
    println!("{}", report(&plan, tallies, args.expect));
    Ok(())
}

fn report(plan: &Plan, tallies: Vec<Tally>, expect: u16) -> serde_json::Value {
    let mut latencies: Vec<u64> = Vec::new();
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut sent, mut reconnects) = (0, 0);
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    for tally in tallies {
        latencies.extend(tally.latencies_ns);
        for (status, n) in tally.statuses {
            *statuses.entry(status).or_default() += n;
        }
        sent += tally.sent;
        reconnects += tally.reconnects;
        first = match (first, tally.first_send) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        last = last.max(tally.last_done);
    }
    let elapsed = match plan {
        Plan::Fixed { measure_from, end, .. } => (*end - *measure_from).as_secs_f64(),
        Plan::Distinct { .. } => match (first, last) {
            (Some(first), Some(last)) => (last - first).as_secs_f64(),
            _ => 0.0,
        },
    };
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * latencies.len() as f64).ceil() as usize;
        latencies[rank.clamp(1, latencies.len()) - 1] as f64 / 1000.0
    };
    let mismatched: u64 = statuses
        .iter()
        .filter(|(status, _)| **status != expect)
        .map(|(_, n)| n)
        .sum();
    let measured = latencies.len();
    serde_json::json!({
        "measured": measured,
        "sent": sent,
        "elapsed_s": elapsed,
        "rps": if elapsed > 0.0 { measured as f64 / elapsed } else { 0.0 },
        "p50_us": pct(50.0),
        "p99_us": pct(99.0),
        "p999_us": pct(99.9),
        "max_us": pct(100.0),
        "expect": expect,
        "mismatched": mismatched,
        "statuses": statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect::<BTreeMap<_, _>>(),
        "reconnects": reconnects,
    })
}

/// One connection's load over a keep-alive connection (reopened if the server closes it), and its tally.
async fn connection(addr: SocketAddr, plan: Arc<Plan>, next: Arc<AtomicUsize>) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::with_capacity(8192);
    loop {
        let (request, measured) = match &*plan {
            Plan::Fixed {
                request,
                measure_from,
                end,
            } => {
                let now = Instant::now();
                if now >= *end {
                    break;
                }
                (request, now >= *measure_from)
            }
            Plan::Distinct { requests, warmup } => {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                (request, i >= *warmup)
            }
        };
        if stream.is_none() {
            let s = TcpStream::connect(addr)
                .await
                .with_context(|| format!("cannot connect to {addr}"))?;
            s.set_nodelay(true)?;
            stream = Some(s);
            buf.clear();
        }
        let s = stream.as_mut().expect("connected above");
        let sent_at = Instant::now();
        s.write_all(request).await.context("cannot send a request")?;
        let (status, close) = read_response(s, &mut buf).await?;
        let done = Instant::now();
        tally.sent += 1;
        *tally.statuses.entry(status).or_default() += 1;
        if close {
            stream = None;
            tally.reconnects += 1;
        }
        let in_window = match &*plan {
            Plan::Fixed { end, .. } => measured && done <= *end,
            Plan::Distinct { .. } => measured,
        };
        if in_window {
            tally
                .latencies_ns
                .push(u64::try_from((done - sent_at).as_nanos()).unwrap_or(u64::MAX));
            tally.first_send = tally.first_send.or(Some(sent_at));
            tally.last_done = Some(done);
        }
    }
    Ok(tally)
}

/// Reads one response (which must carry `Content-Length`) and leaves any bytes after it in `buf`.
/// Returns its status and whether the server will close the connection.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<(u16, bool)> {
    loop {
        if !buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head) = response
                .parse(buf)
                .context("the server sent an invalid HTTP response")?
            {
                let status = response.code.unwrap_or(0);
                let mut length = None;
                let mut close = false;
                for header in response.headers.iter() {
                    if header.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(header.value)
                            .ok()
                            .and_then(|v| v.trim().parse::<usize>().ok());
                    } else if header.name.eq_ignore_ascii_case("connection") {
                        close = header.value.eq_ignore_ascii_case(b"close");
                    } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
                        bail!("the server sent a chunked response; only Content-Length bodies are supported");
                    }
                }
                let Some(length) = length else {
                    bail!("the server sent a response (status {status}) without Content-Length");
                };
                let total = head + length;
                while buf.len() < total {
                    fill(stream, buf).await?;
                }
                buf.drain(..total);
                return Ok((status, close));
            }
        }
        fill(stream, buf).await?;
    }
}

async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<()> {
    buf.reserve(8192);
    let n = stream.read_buf(buf).await.context("cannot read a response")?;
    ensure!(n > 0, "the server closed the connection mid-response");
    Ok(())
}

fn request(host: &str, path: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\n\
         api-version: 1.0.0\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn get_request(host: &str, path: &str, token: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\napi-version: 1.0.0\r\n\r\n")
        .into_bytes()
}

/// Splits `http://HOST:PORT/PATH` into a socket address, the Host header and the path.
fn parse_url(url: &str) -> anyhow::Result<(SocketAddr, String, String)> {
    let rest = url
        .strip_prefix("http://")
        .with_context(|| format!("--url {url} is not an http:// URL"))?;
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = host
        .parse()
        .with_context(|| format!("--url {url} does not name IP:PORT"))?;
    let path = if path.is_empty() { "/" } else { path };
    Ok((addr, host.to_owned(), path.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn urls() {
        let ok = [
            ("http://127.0.0.1:8080/api/v1/x", "127.0.0.1:8080", "/api/v1/x"),
            ("http://127.0.0.1:1", "127.0.0.1:1", "/"),
        ];
        for (url, host, path) in ok {
            let (addr, h, p) = parse_url(url).unwrap();
            assert_eq!(
                (addr.to_string().as_str(), h.as_str(), p.as_str()),
                (host, host, path),
                "{url}"
            );
        }
        for url in ["https://127.0.0.1:1/", "http://localhost:80/", "127.0.0.1:1"] {
            assert!(parse_url(url).is_err(), "{url}");
        }
    }
}
