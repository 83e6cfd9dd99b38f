//! `secrets-bench client`: requests per second of the generated client against raw reqwest sending the same
//! request (same headers, body, timeouts and connection pool) to the same server.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use secrets_client::types::Provider;

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Mode {
    /// `secrets_client::Client` (progenitor): typed body, typed decode of the 201 answer.
    Generated,
    /// A `reqwest::Client` configured like the generated one: `.json(..)`, then the answer decoded as JSON.
    Raw,
}

#[derive(clap::Args)]
pub(crate) struct Args {
    /// The server's base URL, e.g. http://127.0.0.1:8081.
    #[arg(long)]
    url: String,
    #[arg(long, value_enum)]
    mode: Mode,
    #[arg(long, default_value = "st_bench")]
    token: String,
    /// Requests in flight at once, all through one client (one connection pool).
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Requests measured.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests sent before measuring, to open connections and warm caches.
    #[arg(long, default_value_t = 200)]
    warmup: usize,
    /// Tokio worker threads: 1 is a current-thread runtime (see [`runtime`]), 0 one worker per core.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

enum Sender {
    Generated(secrets_client::Client),
    Raw { http: reqwest::Client, url: String },
}

impl Sender {
    async fn send(&self) -> anyhow::Result<()> {
        match self {
            Sender::Generated(client) => {
                let created = client
                    .create_secret_from_preset()
                    .body_map(|b| b.provider(Provider::Openai).value("sk-bench-0123456789abcdef"))
                    .send()
                    .await
                    .map_err(|err| anyhow::anyhow!("generated client: {err}"))?;
                ensure!(
                    created.status().as_u16() == 201,
                    "generated client: status {}",
                    created.status()
                );
            }
            Sender::Raw { http, url } => {
                let response = http
                    .post(url)
                    .header(ACCEPT, HeaderValue::from_static("application/json"))
                    .header("api-version", HeaderValue::from_static("1.0.0"))
                    .json(&serde_json::json!({
                        "provider": "openai",
                        "value": "sk-bench-0123456789abcdef",
                    }))
                    .send()
                    .await
                    .context("raw reqwest")?;
                if response.status().as_u16() != 201 {
                    bail!("raw reqwest: status {}", response.status());
                }
                let bytes = response.bytes().await.context("raw reqwest: body")?;
                let _: serde_json::Value = serde_json::from_slice(&bytes).context("raw reqwest: json")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    let sender = match args.mode {
        Mode::Generated => Sender::Generated(
            secrets_client::Client::with_bearer_token(&args.url, &args.token)
                .map_err(|err| anyhow::anyhow!("{err}"))?,
        ),
        Mode::Raw => {
            let mut auth = HeaderValue::try_from(format!("Bearer {}", args.token))?;
            auth.set_sensitive(true);
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, auth);
            let http = reqwest::Client::builder()
                .default_headers(headers)
                .timeout(secrets_client::DEFAULT_TIMEOUT)
                .connect_timeout(secrets_client::DEFAULT_CONNECT_TIMEOUT)
                .build()?;
            Sender::Raw {
                http,
                url: format!("{}/api/v1/user/secrets/preset", args.url),
            }
        }
    };
    let sender = Arc::new(sender);
    let runtime = runtime(args.threads)?;
    let (elapsed, cpu) = runtime.block_on(async {
        drive(&sender, args.concurrency, args.warmup).await?;
        let cpu_before = cpu_ticks()?;
        let start = Instant::now();
        drive(&sender, args.concurrency, args.requests).await?;
        anyhow::Ok((start.elapsed(), cpu_ticks()? - cpu_before))
    })?;
    let result = serde_json::json!({
        "requests": args.requests,
        "concurrency": args.concurrency,
        "elapsed_s": elapsed.as_secs_f64(),
        "rps": args.requests as f64 / elapsed.as_secs_f64().max(f64::MIN_POSITIVE),
        // USER_HZ is 100 on Linux: one tick is 10 ms.
        "cpu_us_per_request": cpu as f64 * 10_000.0 / args.requests as f64,
    });
    println!("{result}");
    Ok(())
}

/// The runtime the requests run on: one thread by default, so that `cargo xtask bench`, which pins the client and
/// the server to one CPU (`taskset`), pins all of the client. Left to the scheduler, a client and the server either
/// shared a CPU or woke each other across the two for every request, settled per process: the sequential figure was
/// bimodal (raw reqwest 9,031 / 52,746 / 52,118 req/s in one run), and the slow processes spent 30-63 µs of client
/// CPU per request against 10-17 µs, on a current-thread runtime as on a multi-thread one.
/// `threads` is 1 for a current-thread runtime, 0 for one worker per core.
pub(crate) fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    let runtime = match threads {
        1 => tokio::runtime::Builder::new_current_thread().enable_all().build()?,
        0 => tokio::runtime::Builder::new_multi_thread().enable_all().build()?,
        n => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build()?,
    };
    Ok(runtime)
}

/// Sends `total` requests from `concurrency` tasks sharing one sender; the first failure fails the run.
async fn drive(sender: &Arc<Sender>, concurrency: usize, total: usize) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let sender = Arc::clone(sender);
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    sender.send().await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(start.elapsed())
}

/// utime + stime of this process, in clock ticks: the client's own cost, whatever else runs on the machine.
fn cpu_ticks() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').context("malformed /proc/self/stat")? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("no utime")?.parse()?;
    let stime: u64 = fields.get(12).context("no stime")?.parse()?;
    Ok(utime + stime)
}
