//! The `secrets` CLI against the real server: every operation, its exit codes, its JSON output, and a secret that
//! comes through standard input never shows in the process's arguments.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::harness::{Server, build_bin};

/// The `secrets` binary, built once per run.
fn cli_bin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build_bin("secrets-cli", "secrets")).clone()
}

/// `secrets ARGS` against `server` as `token`'s caller, with `stdin` on standard input.
fn secrets(server: &Server, token: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(cli_bin())
        .args(args)
        .env("SECRETS_URL", server.url())
        .env("SECRETS_TOKEN", token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> Value {
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn every_operation_from_the_command_line() {
    let server = Server::start();
    let token = server.token("cli-user", "write");
    let dir = tempfile::tempdir().unwrap();
    let value_file = dir.path().join("value");
    std::fs::write(&value_file, "wandb-secret-value\n").unwrap();
    let value_file = value_file.to_str().unwrap();

    let preset = json(&secrets(
        &server,
        &token,
        &[
            "create-secret-from-preset",
            "--provider",
            "openai",
            "--value-stdin",
            "--json",
        ],
        "sk-proj-cli-secret-123\n",
    ));
    assert_eq!(preset["name"], "OPENAI_API_KEY");
    let custom = json(&secrets(
        &server,
        &token,
        &[
            "create-secret",
            "--name",
            "WANDB_API_KEY",
            "--value-file",
            value_file,
            "--json",
        ],
        "",
    ));
    assert_eq!(custom["provider"], Value::Null);
    let id = preset["id"].as_str().unwrap();

    let list = json(&secrets(&server, &token, &["list-secrets", "--json"], ""));
    assert_eq!(list["total"], 2);
    let presets = json(&secrets(&server, &token, &["get-provider-presets", "--json"], ""));
    assert_eq!(presets["presets"][0]["configured"], true);
    let got = json(&secrets(
        &server,
        &token,
        &["get-secret", "--secret-id", id, "--json"],
        "",
    ));
    assert_eq!(got["masked_value"], preset["masked_value"]);
    let updated = json(&secrets(
        &server,
        &token,
        &["update-secret", "--secret-id", id, "--value-stdin", "--json"],
        "sk-proj-rotated-456",
    ));
    assert_ne!(updated["updated_at"], preset["updated_at"]);

    // For people: a table with a header and a row per secret.
    let table = secrets(&server, &token, &["list-secrets"], "");
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(table.starts_with("NAME"), "{table}");
    assert_eq!(table.lines().count(), 3, "{table}");

    // (arguments, standard input, exit code, the one line on standard error)
    let cases: [(&[&str], &str, i32, &str); 5] = [
        (&["delete-secret", "--secret-id", id], "", 0, ""),
        (
            &["delete-secret", "--secret-id", id],
            "",
            1,
            "error: 404 not_found_error: ",
        ),
        (
            &["create-secret", "--name", "WANDB_API_KEY", "--value-stdin"],
            "again",
            1,
            "error: 409 already_exists_error: ",
        ),
        (
            &["get-secret", "--secret-id", "not-a-uuid"],
            "",
            2,
            "error: invalid value 'not-a-uuid'",
        ),
        (
            &["create-secret", "--name", "NO_VALUE"],
            "",
            1,
            "error: no secret value",
        ),
    ];
    for (args, stdin, code, stderr) in cases {
        let out = secrets(&server, &token, args, stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        if stderr.is_empty() {
            assert!(err.is_empty(), "{args:?}: {err}");
        } else {
            assert!(err.starts_with(stderr), "{args:?}: {err}");
            if code == 1 {
                assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
            }
        }
    }
    let help = secrets(&server, &token, &["create-secret", "--help"], "");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--value-stdin") && help.contains("--value-file"),
        "{help}"
    );
    assert!(
        !help.contains("XXX") && !help.contains("--json-body-template"),
        "{help}"
    );

    let no_token = secrets(&server, "", &["list-secrets"], "");
    assert_eq!(no_token.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_token.stderr).contains("SECRETS_TOKEN"));
}

#[test]
fn a_value_from_standard_input_is_never_in_the_arguments() {
    let server = Server::start();
    let token = server.token("cli-argv", "write");
    let value = "sk-proj-argv-canary-987654321";
    let mut child = Command::new(cli_bin())
        .args(["create-secret-from-preset", "--provider", "anthropic", "--value-stdin"])
        .env("SECRETS_URL", server.url())
        .env("SECRETS_TOKEN", &token)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // While the CLI waits for its standard input, its arguments are what `ps` shows.
    std::thread::sleep(std::time::Duration::from_millis(200));
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
    let argv = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(argv.contains("--value-stdin"), "{argv}");
    assert!(!argv.contains(value), "{argv}");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(value.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("ANTHROPIC_API_KEY"), "{printed}");
    assert!(!printed.contains(value), "the value is never printed: {printed}");
    assert!(!server.logs().contains(value));
}
