//! The `secrets-server` binary's admin commands as an operator runs them.

use std::process::Command;

fn server(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_secrets-server"))
        .arg("--database")
        .arg(dir.join("secrets.db"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

#[test]
fn token_create_prints_only_the_token_and_list_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let created = server(dir.path(), &["token", "create", "--user", "alice"]);
    assert!(created.status.success());
    let stdout = String::from_utf8(created.stdout).unwrap();
    let token = stdout.trim();
    assert_eq!(stdout.lines().count(), 1, "stdout holds the token alone");
    assert!(token.starts_with("st_") && token.len() >= 40, "high-entropy token");

    let listed = server(dir.path(), &["token", "list"]);
    assert!(listed.status.success());
    let listing = String::from_utf8(listed.stdout).unwrap() + &String::from_utf8(listed.stderr).unwrap();
    assert!(listing.contains("alice") && !listing.contains(token), "{listing}");

    let bad = server(dir.path(), &["token", "create", "--user", "alice", "--scope", "admin"]);
    assert!(!bad.status.success());
}
