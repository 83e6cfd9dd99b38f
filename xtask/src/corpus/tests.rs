//! The corpus harness without the npm package: manifest parsing, member manifests, cargo's messages, the table.

use std::path::Path;
use std::time::Duration;

use super::{Entry, Outcome, Row, Timings, attribute, compared_part, member_manifest, parse_manifest, render, totals};

const HEADER: &str = "name\tfile\tprovider\tformat\tlicence\turl\texercises\n";

/// The names parsed, or a piece of the error.
type Expected = Result<&'static [&'static str], &'static str>;

#[test]
fn manifest_parses_or_names_the_line() {
    let row = |name: &str| format!("{name}\tapi/a.json\ta.com\topenapi 3.0\tMIT\thttps://a.com/o.json\tforms\n");
    let cases: [(&str, String, Expected); 9] = [
        (
            "comments and blank lines are skipped",
            format!("# about\n\n{HEADER}{}# more\n{}", row("one"), row("two-2")),
            Ok(&["one", "two-2"]),
        ),
        ("no header", "# only a comment\n".to_owned(), Err("no header line")),
        (
            "wrong header",
            format!("name\tfile\n{}", row("one")),
            Err("corpus/corpus.tsv:1: the header must be"),
        ),
        ("no specs", HEADER.to_owned(), Err("no specs listed")),
        (
            "missing field",
            format!("{HEADER}one\tapi/a.json\n"),
            Err("corpus/corpus.tsv:2: 2 fields; expected 7"),
        ),
        (
            "empty field",
            format!("{HEADER}one\tapi/a.json\ta.com\t\tMIT\thttps://a\tx\n"),
            Err("corpus/corpus.tsv:2: `format` is empty"),
        ),
        (
            "bad name",
            format!("{HEADER}{}", row("Upper")),
            Err("name `Upper` must be lowercase"),
        ),
        (
            "duplicate name",
            format!("{HEADER}{}{}", row("one"), row("one")),
            Err("corpus/corpus.tsv:3: name `one` is listed twice"),
        ),
        (
            "path escaping the package",
            format!("{HEADER}one\t../a.json\ta.com\topenapi 3.0\tMIT\thttps://a\tx\n"),
            Err("file `../a.json` must be a .json path inside the package"),
        ),
    ];
    for (case, text, expected) in cases {
        let parsed = parse_manifest(&text);
        match (parsed, expected) {
            (Ok(entries), Ok(names)) => {
                let got: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
                assert_eq!(got, names, "{case}");
            }
            (Err(err), Err(needle)) => assert!(err.to_string().contains(needle), "{case}: {err}"),
            (got, expected) => panic!("{case}: got {:?}, expected {expected:?}", got.map(|e| e.len())),
        }
    }
}

#[test]
fn the_committed_manifest_parses() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/corpus.tsv")).unwrap();
    let entries = parse_manifest(&text).unwrap();
    assert!(entries.len() >= 30, "{} specs", entries.len());
}

#[test]
fn member_manifest_leaves_out_only_the_workspace_table() {
    let standalone = crate::codegen::stub::cargo_toml("corpus-x", Path::new("/runtime"));
    let member = member_manifest(&standalone).unwrap();
    assert!(
        !member.contains("[workspace]") && !member.contains("enclosing workspace"),
        "{member}"
    );
    let dropped: Vec<&str> = standalone
        .lines()
        .filter(|line| !member.lines().any(|m| m == *line))
        .collect();
    assert!(
        dropped
            .iter()
            .all(|line| line.starts_with('#') || line.contains("[workspace]")),
        "{dropped:?}"
    );
    assert!(
        member.contains("name = \"corpus-x\"") && member.contains("[dependencies]"),
        "{member}"
    );

    let cases = [
        ("[package]\nname = \"x\"\n", "no `[workspace]` table"),
        ("[workspace]\nmembers = [\"a\"]\n", "is not empty"),
    ];
    for (text, needle) in cases {
        let err = member_manifest(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{text}: {err}");
    }
}

#[test]
fn compile_errors_are_attributed_to_their_crate() {
    let crates = Path::new("/w/crates");
    let artifact = |member: &str, kind: &str| {
        format!(
            r#"{{"reason":"compiler-artifact","manifest_path":"/w/crates/{member}/Cargo.toml","target":{{"kind":["{kind}"]}}}}"#
        )
    };
    let error = |member: &str, message: &str, line: Option<u32>| {
        let spans = line.map_or(String::new(), |line| {
            format!(r#"{{"is_primary":false,"line_start":1}},{{"is_primary":true,"line_start":{line}}}"#)
        });
        format!(
            r#"{{"reason":"compiler-message","manifest_path":"/w/crates/{member}/Cargo.toml","message":{{"level":"error","message":"{message}","spans":[{spans}]}}}}"#
        )
    };
    let warning = r#"{"reason":"compiler-message","manifest_path":"/w/crates/b/Cargo.toml","message":{"level":"warning","message":"unused","spans":[{"is_primary":true,"line_start":3}]}}"#;
    let dependency =
        r#"{"reason":"compiler-artifact","manifest_path":"/registry/axum/Cargo.toml","target":{"kind":["lib"]}}"#;
    let messages = [
        dependency.to_owned(),
        artifact("a", "lib"),
        warning.to_owned(),
        error("b", "mismatched types", Some(42)),
        error("b", "second error", Some(50)),
        error("b", "aborting due to 2 previous errors", None),
        artifact("c", "custom-build"),
        "not json".to_owned(),
        r#"{"reason":"build-finished","success":false}"#.to_owned(),
    ]
    .join("\n");
    let members = ["a", "b", "c"].map(str::to_owned);
    let results = attribute(&messages, crates, &members);
    let expected: [(&str, Result<(), &str>); 3] = [
        ("a", Ok(())),
        ("b", Err("src/lib.rs:42: mismatched types")),
        ("c", Err("not built (see cargo's output)")),
    ];
    for (member, expected) in expected {
        assert_eq!(
            results[member].as_ref().map_err(String::as_str),
            expected.as_ref().map_err(|e| *e),
            "{member}"
        );
    }
}

fn row(name: &str, format: &str, outcome: Outcome) -> Row {
    Row {
        entry: Entry {
            name: name.to_owned(),
            file: format!("api/{name}.json"),
            provider: format!("{name}.com"),
            format: format.to_owned(),
            licence: "MIT | Apache".to_owned(),
            url: format!("https://{name}.com/o.json"),
            exercises: "forms".to_owned(),
        },
        lines: 120,
        operations: 3,
        outcome,
    }
}

#[test]
fn table_has_one_row_per_spec_and_totals() {
    let rows = [
        row("ok", "openapi 3.0", Outcome::Compiles),
        row(
            "old",
            "swagger 2.0",
            Outcome::Refused("old.yaml:8:7: cookie parameter `s`".to_owned()),
        ),
        row("boom", "openapi 3.0", Outcome::Panic("index out of bounds".to_owned())),
        row(
            "bad",
            "openapi 3.0",
            Outcome::FailsToCompile("src/lib.rs:9: mismatched types".to_owned()),
        ),
    ];
    let timings = Timings {
        generate: Duration::from_millis(1500),
        build: Duration::from_secs(42),
        crates: 2,
    };
    let text = render(&rows, &timings);
    let expected_lines = [
        "<!-- @generated by `cargo xtask corpus`. Do not edit: rerun it. -->",
        "| ok | [ok.com](https://ok.com/o.json) | MIT \\| Apache | 120 | 3 | compiles |  |",
        "| old | [old.com](https://old.com/o.json), converted from swagger 2.0 | MIT \\| Apache | 120 | 3 | refused | old.yaml:8:7: cookie parameter `s` |",
        "| boom | [boom.com](https://boom.com/o.json) | MIT \\| Apache | 120 | 3 | panic | index out of bounds |",
        "| bad | [bad.com](https://bad.com/o.json) | MIT \\| Apache | 120 | 3 | fails to compile | src/lib.rs:9: mismatched types |",
        "**Totals:** 4 specs: 1 compile, 1 refused, 1 panic, 1 fail to compile; 25% compile (the goal is 90%).",
    ];
    for line in expected_lines {
        assert!(text.lines().any(|l| l == line), "missing line {line:?} in\n{text}");
    }
    assert!(text.starts_with(expected_lines[0]));
    assert_eq!(text.lines().filter(|l| l.starts_with("| ")).count(), 1 + rows.len());

    // Timings are reported but not compared: two runs that differ only in time check the same.
    let compared = compared_part(&text);
    assert!(
        compared.contains("**Totals:**") && !compared.contains("42.0 s"),
        "{compared}"
    );
    assert!(text.contains("took 1.5 s") && text.contains("42.0 s"), "{text}");
    let slower = render(
        &rows,
        &Timings {
            build: Duration::from_secs(99),
            ..timings
        },
    );
    assert_eq!(compared_part(&slower), compared);
    assert_ne!(slower, text);
}

#[test]
fn totals_of_nothing_and_of_everything() {
    let cases = [
        (
            vec![],
            "0 specs: 0 compile, 0 refused, 0 panic, 0 fail to compile; 0% compile",
        ),
        (
            vec![row("a", "openapi 3.0", Outcome::Compiles); 3],
            "3 specs: 3 compile, 0 refused, 0 panic, 0 fail to compile; 100% compile",
        ),
    ];
    for (rows, needle) in cases {
        let line = totals(&rows);
        assert!(line.contains(needle), "{line}");
    }
}
