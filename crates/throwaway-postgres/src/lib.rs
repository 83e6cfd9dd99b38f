//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temporary directory, `pg_ctl start` on a
//! free loopback port, trust authentication for the `postgres` superuser, and everything removed again when the
//! [`Cluster`] is dropped or, failing that, when the process that started it exits (a watchdog process sees to it,
//! so a cluster kept in a `static` or a test that panics leaves nothing running).
//! [`Cluster::start_with_tls`] also turns TLS on (`ssl = on`) with a certificate the caller made.
//!
//! PostgreSQL refuses to run as root; as root, the server's commands run as the `postgres` user (Debian's package
//! creates it) through `runuser`, and the directory is handed to that user. The binaries are found through
//! `$PG_BIN`, then `PATH`, then the newest `/usr/lib/postgresql/<version>/bin` (where Debian installs them).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Why a cluster could not be started or used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `initdb`/`pg_ctl` on this machine.
    #[error(
        "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: `apt-get install postgresql`, or set PG_BIN"
    )]
    NotInstalled,
    /// A command failed.
    #[error("{what} failed ({status}): {output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    /// A file or process could not be handled.
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

/// How the cluster runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// `fsync` and `full_page_writes`: on for benchmarks (what production pays), off for tests that never crash
    /// PostgreSQL itself and only need it fast.
    pub fsync: bool,
    /// `max_connections`.
    pub max_connections: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            fsync: false,
            max_connections: 200,
        }
    }
}

/// A server certificate and its private key (PEM), for a cluster that accepts TLS (`ssl = on`).
#[derive(Clone, Debug)]
pub struct ServerTls {
    /// The certificate, with any intermediates after it.
    pub cert_pem: String,
    /// Its private key.
    pub key_pem: String,
}

/// A running cluster; stopped (immediate mode) and removed on drop.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    databases: AtomicUsize,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// The directory holding `initdb` and `pg_ctl`, if PostgreSQL is installed.
pub fn find_bin() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from) {
        return has_tools(&dir).then_some(dir);
    }
    if let Some(dir) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| has_tools(dir))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

fn free_port() -> Result<u16, Error> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io("binding a free port"))?;
    Ok(listener.local_addr().map_err(io("binding a free port"))?.port())
}

fn run(mut cmd: Command, what: &str) -> Result<String, Error> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(io(format!("running {what}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(Error::Command {
            what: what.to_owned(),
            status: out.status.to_string(),
            output: text.trim().to_owned(),
        })
    }
}

impl Cluster {
    /// Creates and starts a cluster; [`Error::NotInstalled`] when PostgreSQL is not there.
    pub fn start(options: Options) -> Result<Cluster, Error> {
        Self::start_with(options, None)
    }

    /// [`Cluster::start`], with TLS on: the server offers TLS with `tls`'s certificate (and still accepts
    /// connections without it).
    pub fn start_with_tls(options: Options, tls: &ServerTls) -> Result<Cluster, Error> {
        Self::start_with(options, Some(tls))
    }

    fn start_with(options: Options, tls: Option<&ServerTls>) -> Result<Cluster, Error> {
        let bin = find_bin().ok_or(Error::NotInstalled)?;
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("throwaway-postgres-")
            .tempdir()
            .map_err(io("creating the cluster's directory"))?
            .keep();
        let cluster = Cluster {
            bin,
            dir,
            port: free_port()?,
            as_postgres,
            databases: AtomicUsize::new(0),
        };
        cluster.watch_parent()?;
        let mut ssl = String::new();
        if let Some(tls) = tls {
            let (cert, key) = (cluster.dir.join("server.crt"), cluster.dir.join("server.key"));
            std::fs::write(&cert, &tls.cert_pem).map_err(io("writing the server certificate"))?;
            std::fs::write(&key, &tls.key_pem).map_err(io("writing the server key"))?;
            // PostgreSQL refuses a key file that others can read.
            std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .map_err(io("writing the server key"))?;
            ssl = format!(
                " -c ssl=on -c ssl_cert_file='{}' -c ssl_key_file='{}'",
                cert.display(),
                key.display()
            );
        }
        if as_postgres {
            let mut chown = Command::new("chown");
            chown.arg("-R").arg("postgres:postgres").arg(&cluster.dir);
            run(chown, "chown postgres (PostgreSQL refuses to run as root)")?;
        }
        let data = cluster.data_dir();
        let mut initdb = cluster.server_command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
        run(initdb, "initdb")?;
        let flag = if options.fsync { "on" } else { "off" };
        let settings = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync={flag} \
             -c full_page_writes={flag} -c max_connections={}{ssl}",
            cluster.port, options.max_connections
        );
        let mut start = cluster.server_command("pg_ctl");
        start
            .arg("start")
            .arg("-w")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(cluster.dir.join("server.log"))
            .arg("-o")
            .arg(settings);
        run(start, "pg_ctl start").map_err(|e| match e {
            Error::Command { what, status, output } => Error::Command {
                what,
                status,
                output: format!("{output}\n{}", cluster.log()),
            },
            other => other,
        })?;
        Ok(cluster)
    }

    /// The cluster's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The data directory (every file PostgreSQL writes: tables, WAL).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// A connection URL for database `db`, as the `postgres` superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a new, empty database named `{prefix}_{n}` (n counts up per cluster) and answers its URL.
    pub fn create_database(&self, prefix: &str) -> Result<String, Error> {
        let name = format!("{prefix}_{}", self.databases.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(self.url(&name))
    }

    /// Runs SQL in database `db` with `psql`; its unaligned, tuples-only output.
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, Error> {
        let psql = ["psql", "/usr/bin/psql"]
            .into_iter()
            .map(|name| self.bin.join(name))
            .find(|path| path.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let mut cmd = Command::new(psql);
        clean_env(&mut cmd);
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
        ])
        .arg("-p")
        .arg(self.port.to_string())
        .arg("-d")
        .arg(db)
        .arg("-c")
        .arg(sql);
        run(cmd, &format!("psql -c {sql:?}")).map(|out| out.trim().to_owned())
    }

    /// `bin/{tool}`, run as the `postgres` user when this process is root.
    fn server_command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        };
        clean_env(&mut cmd);
        cmd
    }

    /// Starts a detached shell (`setsid`) that stops the cluster and removes its directory once this process has exited.
    fn watch_parent(&self) -> Result<(), Error> {
        let stop = self.server_command("pg_ctl");
        let mut words: Vec<String> = std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|word| shell_quote(&word.to_string_lossy()))
            .collect();
        words.extend(["stop", "-m", "immediate", "-D"].map(String::from));
        words.push(shell_quote(&self.data_dir().to_string_lossy()));
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            stop = words.join(" "),
            dir = shell_quote(&self.dir.to_string_lossy()),
        );
        // In a session of its own, so that killing this process's group (Ctrl-C, a CI timeout) spares it.
        let mut watchdog = Command::new("setsid");
        clean_env(&mut watchdog);
        watchdog
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting the cluster's watchdog"))?;
        Ok(())
    }
}

/// The server and the watchdog run with `PATH` alone: no `PG*` variable of the caller's changes what they do, and no
/// marker a test puts in its environment (see the e2e `leftovers` check) is carried by a process that outlives it.
fn clean_env(cmd: &mut Command) {
    cmd.env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        cmd.env("PATH", path);
    }
}

fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = self.server_command("pg_ctl");
        stop.args(["stop", "-m", "immediate", "-w", "-D"]).arg(self.data_dir());
        let _ = run(stop, "pg_ctl stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs only where PostgreSQL is installed; says so when it is not (and fails in CI, which installs it).
    #[test]
    fn starts_serves_and_goes_away() {
        let cluster = match Cluster::start(Options::default()) {
            Ok(cluster) => cluster,
            Err(Error::NotInstalled) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: {}", Error::NotInstalled);
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let url = cluster.create_database("smoke").unwrap();
        let db = url.rsplit('/').next().unwrap();
        assert_eq!(cluster.psql(db, "SELECT 40 + 2").unwrap(), "42");
        assert_eq!(cluster.psql(db, "SHOW fsync").unwrap(), "off");
        let dir = cluster.dir.clone();
        drop(cluster);
        assert!(!dir.exists(), "the cluster's directory is removed");
    }
}
