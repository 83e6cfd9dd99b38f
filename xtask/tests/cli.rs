//! The `cargo xtask codegen` command as users run it: the committed code is fresh, bad specs fail in one line.

use std::path::Path;
use std::process::Command;

fn xtask(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8(out.stderr).unwrap())
}

/// rust-analyzer's codegen test: plain `cargo test` fails when generated code is stale.
#[test]
fn generated_code_is_fresh() {
    let (ok, stderr) = xtask(&["codegen", "--check"]);
    assert!(ok, "{stderr}");
}

#[test]
fn bad_spec_fails_with_one_line_and_no_backtrace() {
    let dir = std::env::temp_dir().join(format!("xtask-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("syntax.yaml", "openapi: 3.0.3\ninfo: [\n"),
        (
            "v31.yaml",
            "openapi: 3.1.0\ninfo: { title: T, version: '1' }\npaths: {}\n",
        ),
    ];
    for (name, text) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let (ok, stderr) = xtask(&["codegen", "--check", "--spec", path.to_str().unwrap()]);
        assert!(!ok, "{name}: accepted");
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: {}:", path.display())),
            "{name}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("backtrace"),
            "{name}: {stderr}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml").exists());
}
