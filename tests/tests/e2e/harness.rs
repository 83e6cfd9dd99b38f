//! The one helper for end-to-end tests: a real `secrets-server` process on an ephemeral loopback port, killed when
//! its `Server` is dropped (a test that fails or panics leaves no process behind).

use std::fs::{File, OpenOptions};
use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use secrets_client::types::{ErrorResponse, Provider, UserSecret};
use secrets_client::{Client, Error, ResponseValue};
use secrets_handler::crypto::Keyring;
use secrets_handler::store::{Database, Store};
use throwaway_postgres::Cluster;

/// Set to the server binary's path by a test that runs this binary again (see `leftovers`): the outer run
/// already built it.
pub const SERVER_BIN_ENV: &str = "E2E_SECRETS_SERVER_BIN";

/// The `secrets-server` binary beside this test executable, rebuilt first (once per run) so that
/// `cargo test -p tests` never runs a stale server: cargo does not rebuild another package's binary for it.
pub fn server_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Some(built) = std::env::var_os(SERVER_BIN_ENV) {
                return PathBuf::from(built);
            }
            build_bin("secrets-handler", "secrets-server")
        })
        .clone()
}

/// Builds binary `bin` of workspace package `package` in this test executable's profile and answers its path.
pub fn build_bin(package: &str, bin: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(cargo);
    build.args(["build", "--quiet", "-p", package, "--bin", bin]);
    if profile_dir.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let status = build
        .status()
        .unwrap_or_else(|err| panic!("cannot run cargo to build {bin}: {err}"));
    assert!(status.success(), "cargo build -p {package} failed");
    profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX))
}

/// Set to `postgres` to run the whole end-to-end suite against PostgreSQL (a throwaway cluster, one database per
/// server) instead of SQLite files; `.ci/run` runs the suite both ways.
pub const DATABASE_ENV: &str = "E2E_DATABASE";

/// Whether this run's servers use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(DATABASE_ENV).is_ok_and(|v| v == "postgres")
}

/// Under PostgreSQL, says (visibly) that the rest of a SQLite-specific test is skipped, and answers true.
pub fn sqlite_only(what: &str) -> bool {
    if on_postgres() {
        skipped(&format!("on PostgreSQL: {what} (SQLite-specific)"));
    }
    on_postgres()
}

/// Says on stderr, past libtest's capture (which takes only the print macros), that a check did not run.
pub fn skipped(what: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}

/// The throwaway PostgreSQL cluster this test process shares (one database per server); `None`, with a visible
/// message, where PostgreSQL is not installed, except in CI, which installs it, where that fails the test.
pub fn postgres() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    let cluster = CLUSTER.get_or_init(|| match Cluster::start(throwaway_postgres::Options::default()) {
        Ok(cluster) => Some(cluster),
        Err(throwaway_postgres::Error::NotInstalled) if std::env::var_os("CI").is_none() => None,
        Err(e) => panic!("cannot start PostgreSQL: {e}"),
    });
    if cluster.is_none() {
        skipped(&throwaway_postgres::Error::NotInstalled.to_string());
    }
    cluster.as_ref()
}

/// A child process killed and reaped when dropped, whatever path the test takes.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub struct Server {
    // First, so it is dropped (killed) before `dir` is removed from under it.
    child: Option<KillOnDrop>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    args: Vec<String>,
    /// The `--database` argument: the SQLite file in `dir`, or a PostgreSQL URL.
    database: String,
    /// Where the key file is: in `dir`, or another server's (instances sharing keys).
    key_file: PathBuf,
}

impl Server {
    /// A server with a fresh database and development key, and a rate limit that tests do not hit.
    pub fn start() -> Server {
        Server::start_with(&["--rate-limit", "0"])
    }

    /// A server with `args`, on a fresh SQLite file, or a fresh PostgreSQL database under [`DATABASE_ENV`].
    pub fn start_with(args: &[&str]) -> Server {
        let database = on_postgres().then(|| {
            let cluster = postgres().expect("E2E_DATABASE=postgres needs PostgreSQL installed");
            cluster.create_database("e2e").unwrap()
        });
        Server::start_on(database, None, args)
    }

    /// Another instance beside this one: the same database and key file, its own port and log.
    pub fn instance(&self, args: &[&str]) -> Server {
        Server::start_on(Some(self.database.clone()), Some(self.key_file.clone()), args)
    }

    /// A server on `database` (`None`: a new SQLite file in its own directory) with `key_file` (`None`: one in its
    /// directory).
    pub fn start_on(database: Option<String>, key_file: Option<PathBuf>, args: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server {
            database: database.unwrap_or_else(|| dir.path().join("secrets.db").display().to_string()),
            key_file: key_file.unwrap_or_else(|| dir.path().join("secrets.key")),
            dir,
            port: 0,
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            child: None,
        };
        server.spawn().unwrap_or_else(|err| panic!("{err}\n{}", server.logs()));
        server
    }

    /// The SQLite file; panics under PostgreSQL (guard SQLite-specific checks with [`sqlite_only`]).
    pub fn database(&self) -> PathBuf {
        assert!(!self.is_postgres(), "a SQLite-only check ran on PostgreSQL");
        PathBuf::from(&self.database)
    }

    /// Whether this server's database is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database.starts_with("postgres://")
    }

    pub fn key_file(&self) -> PathBuf {
        self.key_file.clone()
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `secrets-server` with this server's database and key file, for admin commands.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(server_bin());
        cmd.arg("--database").arg(&self.database).args(args);
        cmd.env_remove("SECRETS_MASTER_KEY").env("RUST_BACKTRACE", "0");
        cmd
    }

    /// Starts (again) on a new port; Err with the exit status if the process gives up before listening.
    ///
    /// Panics if the server still runs: a second process would replace the first in `self`, and the first would
    /// outlive the test (`stop` or `kill` it first).
    pub fn spawn(&mut self) -> Result<(), String> {
        assert!(
            self.child.is_none(),
            "spawn() while secrets-server still runs: stop() or kill() it first"
        );
        self.port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .unwrap();
        let listen = format!("127.0.0.1:{}", self.port);
        let mut cmd = self.command(&["serve", "--listen", &listen]);
        cmd.arg("--key-file").arg(self.key_file()).args(&self.args);
        cmd.env("RUST_LOG", "info").stdout(Stdio::null()).stderr(log);
        let mut child = KillOnDrop(cmd.spawn().unwrap());
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(status) = child.0.try_wait().unwrap() {
                return Err(format!("secrets-server exited before listening: {status}"));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("secrets-server did not listen within 30 s".to_owned())
    }

    /// SIGTERM, then wait: the graceful path.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child.0, "TERM");
            let status = child.0.wait().unwrap();
            assert!(status.success(), "graceful shutdown exited with {status}");
        }
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child.0, "KILL");
            child.0.wait().unwrap();
        }
    }

    /// The running server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|child| child.0.id())
    }

    /// Runs an admin command (`token …`, `key …`) on this server's database; panics with its stderr if it fails.
    pub fn admin(&self, args: &[&str]) -> std::process::Output {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// A new token, printed once by `token create` on stdout.
    pub fn token(&self, user: &str, scope: &str) -> String {
        let out = self.admin(&["token", "create", "--user", user, "--scope", scope]);
        let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        assert!(token.starts_with("st_"), "token create printed something else");
        token
    }

    /// `n` write tokens for users `{prefix}-1` … `{prefix}-n`, as (user, token).
    pub fn tokens(&self, prefix: &str, n: usize) -> Vec<(String, String)> {
        let count = n.to_string();
        let out = self
            .command(&["token", "create", "--user", prefix, "--count", &count])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "token create --count: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tokens: Vec<(String, String)> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .enumerate()
            .map(|(i, token)| (format!("{prefix}-{}", i + 1), token.to_owned()))
            .collect();
        assert_eq!(tokens.len(), n);
        tokens
    }

    pub fn client(&self, token: &str) -> Client {
        Client::with_bearer_token(&self.url(), token).unwrap()
    }

    /// Everything the server logged so far.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = File::open(self.log_file()) {
            file.read_to_string(&mut text).unwrap();
        }
        text
    }

    /// The database files as they are on disk (SQLite: main, `-wal` and `-shm`; PostgreSQL: after a checkpoint,
    /// this database's own files and the cluster's WAL), as lossy text: search it with [`find_any`].
    pub fn database_text(&self) -> Vec<(String, String)> {
        if self.is_postgres() {
            let cluster = postgres().unwrap();
            let name = self.database.rsplit('/').next().unwrap();
            cluster.psql("postgres", "CHECKPOINT").unwrap();
            let oid = cluster
                .psql(
                    "postgres",
                    &format!("SELECT oid FROM pg_database WHERE datname = '{name}'"),
                )
                .unwrap();
            let data = cluster.data_dir();
            return [data.join("base").join(oid), data.join("pg_wal")]
                .iter()
                .flat_map(|dir| std::fs::read_dir(dir).unwrap().flatten())
                .filter_map(|entry| {
                    let bytes = std::fs::read(entry.path()).ok()?;
                    Some((
                        entry.path().display().to_string(),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    ))
                })
                .collect();
        }
        ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| {
                let path = PathBuf::from(format!("{}{suffix}", self.database));
                let bytes = std::fs::read(&path).ok()?;
                Some((path.display().to_string(), String::from_utf8_lossy(&bytes).into_owned()))
            })
            .collect()
    }

    /// The store this server uses, opened beside it (as an operator's tooling would).
    pub async fn store(&self) -> Store {
        Store::open(&Database::parse(&self.database), Duration::from_secs(5))
            .await
            .unwrap()
    }

    /// How many secrets `owner` has in the database.
    pub async fn secret_count(&self, owner: &str) -> usize {
        self.store().await.list_secrets(owner).await.unwrap().len()
    }

    /// Decrypts `owner`'s stored secret `id` with the key file, as an operator's tooling would.
    pub async fn stored_value(&self, owner: &str, id: uuid::Uuid) -> Option<String> {
        let store = self.store().await;
        let sealed = store.sealed_secret(owner, id).await.unwrap()?;
        let keyring = Keyring::load_file(&self.key_file()).unwrap().unwrap();
        let aad = secrets_handler::crypto::secret_aad(owner, id);
        let plain = keyring.open(&sealed, &aad).expect("stored value does not decrypt");
        Some(String::from_utf8(plain.to_vec()).unwrap())
    }
}

/// The first of `needles` that occurs in `haystack`, in one pass over it however many needles there are.
pub fn find_any<'a>(haystack: &str, needles: &'a [String]) -> Option<&'a str> {
    let automaton = aho_corasick::AhoCorasick::new(needles).unwrap();
    automaton
        .find(haystack)
        .map(|found| needles[found.pattern().as_usize()].as_str())
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -{name} failed");
}

/// The four presets, so a user can hold one secret of each.
pub const PROVIDERS: [Provider; 4] = [
    Provider::Openai,
    Provider::Anthropic,
    Provider::Github,
    Provider::Tinker,
];

/// Sends one preset create through the generated client.
pub async fn create(
    client: &Client,
    provider: Provider,
    value: &str,
) -> Result<ResponseValue<UserSecret>, Error<ErrorResponse>> {
    client
        .create_secret_from_preset()
        .body_map(|b| b.provider(provider).value(value))
        .send()
        .await
}

/// Sends one custom create (no provider) through the generated client.
pub async fn create_custom(
    client: &Client,
    name: &str,
    value: &str,
) -> Result<ResponseValue<UserSecret>, Error<ErrorResponse>> {
    client
        .create_secret()
        .body_map(|b| b.name(name).value(value))
        .send()
        .await
}

/// Sends one update through the generated client.
pub async fn update(
    client: &Client,
    id: uuid::Uuid,
    value: &str,
) -> Result<ResponseValue<UserSecret>, Error<ErrorResponse>> {
    client
        .update_secret()
        .secret_id(id)
        .body_map(|b| b.value(value))
        .send()
        .await
}

/// The status of a call through the generated client, and the envelope of a failure; panics when the server gave
/// no typed answer (a dropped connection).
pub fn answer<T>(sent: Result<ResponseValue<T>, Error<ErrorResponse>>) -> (u16, Option<ErrorResponse>) {
    match sent {
        Ok(ok) => (ok.status().as_u16(), None),
        Err(Error::ErrorResponse(err)) => (err.status().as_u16(), Some(err.into_inner())),
        Err(other) => panic!("no typed answer: {other}"),
    }
}

/// Every operation of the spec, so one table can drive them all through the generated client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    List,
    Presets,
    Create,
    CreatePreset,
    Get,
    Update,
    Delete,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::List,
        Op::Presets,
        Op::Create,
        Op::CreatePreset,
        Op::Get,
        Op::Update,
        Op::Delete,
    ];

    /// Whether the operation needs a `write` token.
    pub fn writes(self) -> bool {
        !matches!(self, Op::List | Op::Presets | Op::Get)
    }

    /// Sends the operation: `id` for the ones that take one, `value` as the secret value of the ones with a
    /// body (`name` for a custom create, `provider` for a preset one). The status, and the envelope of a failure.
    pub async fn send(
        self,
        client: &Client,
        id: uuid::Uuid,
        name: &str,
        provider: Provider,
        value: &str,
    ) -> (u16, Option<ErrorResponse>) {
        match self {
            Op::List => answer(client.list_secrets().send().await),
            Op::Presets => answer(client.get_provider_presets().send().await),
            Op::Create => answer(
                client
                    .create_secret()
                    .body_map(|b| b.name(name).value(value))
                    .send()
                    .await,
            ),
            Op::CreatePreset => answer(create(client, provider, value).await),
            Op::Get => answer(client.get_secret().secret_id(id).send().await),
            Op::Update => answer(update(client, id, value).await),
            Op::Delete => answer(client.delete_secret().secret_id(id).send().await),
        }
    }
}

/// Opens the database read-only for checks: row counts and `PRAGMA integrity_check`.
pub fn sqlite(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}
