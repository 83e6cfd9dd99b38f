//! The corpus harness without the npm package: manifest parsing, member manifests, cargo's messages, the table, the
//! kinds of a spec and the drive files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::drive::{self, Drive, driven_manifest, failing_tests, parse_kinds, problems};
use super::kinds::{Kind, spec_kinds};
use super::{
    Entry, Origin, Outcome, Row, Timings, attribute, compared_part, member_manifest, parse_manifest, render, sources,
    totals,
};

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
fn manifest_31_parses_each_source_or_names_the_line() {
    const HEADER_31: &str = "name\tsource\tfile\tlicence\texercises\n";
    let lock = r#"{"packages": {"node_modules/@a/examples": {"version": "1.2.3"}, "node_modules/plain": {"version": "4.0.0"}}}"#;
    let sdist = "# pinned\nfastapi==0.9.1 --hash=sha256:00ff\n";
    let npm = Origin::Npm {
        package: "@a/examples".to_owned(),
        version: "1.2.3".to_owned(),
    };
    let ok = format!(
        "# about\n{HEADER_31}pets\tnpm @a/examples\t3.1/pets.yaml\tMIT\tx\n\
         plain\tnpm plain\tdist/api.json\tISC\tx\n\
         docs\tfastapi docs\tdocs_src/a/tutorial001.py\tMIT\tx\n\
         own\tfastapi app\ttickets.py\tMIT\tx\n"
    );
    let entries = sources::parse_manifest(&ok, lock, sdist).unwrap();
    let origins: Vec<&Origin> = entries.iter().map(|entry| &entry.origin).collect();
    assert_eq!(
        origins,
        [
            &npm,
            &Origin::Npm {
                package: "plain".to_owned(),
                version: "4.0.0".to_owned()
            },
            &Origin::FastApiDocs {
                version: "0.9.1".to_owned()
            },
            &Origin::FastApiApp,
        ]
    );
    assert_eq!(entries[0].file, "3.1/pets.yaml");

    let line = |source: &str, file: &str| format!("{HEADER_31}one\t{source}\t{file}\tMIT\tx\n");
    let cases = [
        (
            "unknown source",
            line("pip x", "a.json"),
            sdist,
            "source `pip x` must be",
        ),
        (
            "package not locked",
            line("npm other", "a.json"),
            sdist,
            "pins no `other`",
        ),
        (
            "npm file not a document",
            line("npm plain", "a.txt"),
            sdist,
            "must be a .json or .yaml or .yml path",
        ),
        (
            "app that is not Python",
            line("fastapi app", "app.json"),
            sdist,
            "must be a .py path",
        ),
        (
            "escaping the package",
            line("npm plain", "../a.json"),
            sdist,
            "inside its source",
        ),
        (
            "sdist without a hash",
            line("fastapi docs", "a.py"),
            "fastapi==0.9.1\n",
            "is not `fastapi==VERSION",
        ),
        (
            "two sdists",
            line("fastapi docs", "a.py"),
            "fastapi==1 --hash=sha256:0\nx==2\n",
            "2 requirements",
        ),
        (
            "old header",
            format!("{HEADER}x\n"),
            sdist,
            "corpus/corpus-3.1.tsv:1: the header must be",
        ),
    ];
    for (case, text, sdist, needle) in cases {
        let err = sources::parse_manifest(&text, lock, sdist).unwrap_err().to_string();
        assert!(err.contains(needle), "{case}: {err}");
    }
}

#[test]
fn the_committed_manifest_31_parses_with_three_sources_or_more() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |file: &str| std::fs::read_to_string(root.join(file)).unwrap();
    let entries = sources::parse_manifest(
        &read(sources::MANIFEST),
        &read("corpus/package-lock.json"),
        &read("corpus/fastapi/sdist.txt"),
    )
    .unwrap();
    assert!(entries.len() >= 30, "{} specs", entries.len());
    let sources: BTreeSet<String> = entries
        .iter()
        .map(|entry| match &entry.origin {
            Origin::Npm { package, .. } => package.clone(),
            origin => format!("{origin:?}"),
        })
        .collect();
    assert!(sources.len() >= 3, "{sources:?}");
    assert!(
        entries.iter().any(|entry| entry.origin == Origin::FastApiApp),
        "no FastAPI app of our own"
    );
    let names_30: BTreeSet<String> = parse_manifest(&read("corpus/corpus.tsv"))
        .unwrap()
        .into_iter()
        .map(|entry| entry.name)
        .collect();
    let both: Vec<&str> = entries
        .iter()
        .filter(|entry| names_30.contains(&entry.name))
        .map(|entry| entry.name.as_str())
        .collect();
    assert!(both.is_empty(), "listed in both manifests: {both:?}");
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
            format!(
                r#"{{"is_primary":false,"line_start":1}},{{"is_primary":true,"line_start":{line},"file_name":"crates/{member}/src/lib.rs"}}"#
            )
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
    let results = attribute(&messages, crates, &members, "lib");
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

#[test]
fn drive_test_errors_are_attributed_by_file() {
    let crates = Path::new("/w/crates");
    let messages = [
        // The library built for the test is not the test.
        r#"{"reason":"compiler-artifact","manifest_path":"/w/crates/a/Cargo.toml","target":{"kind":["lib"]}}"#,
        r#"{"reason":"compiler-artifact","manifest_path":"/w/crates/b/Cargo.toml","target":{"kind":["test"]},"executable":"/t/drive-1"}"#,
        r#"{"reason":"compiler-message","manifest_path":"/w/crates/a/Cargo.toml","message":{"level":"error","message":"no method `svg`","spans":[{"is_primary":true,"line_start":7,"file_name":"crates/a/tests/drive/main.rs"}]}}"#,
    ]
    .join("\n");
    let members = ["a", "b"].map(str::to_owned);
    let results = attribute(&messages, crates, &members, "test");
    assert_eq!(results["a"], Err("tests/drive/main.rs:7: no method `svg`".to_owned()));
    assert_eq!(results["b"], Ok(()));
}

fn row(name: &str, format: &str, outcome: Outcome) -> Row {
    Row {
        entry: Entry {
            name: name.to_owned(),
            file: format!("api/{name}.json"),
            origin: Origin::Directory {
                provider: format!("{name}.com"),
                format: format.to_owned(),
                url: format!("https://{name}.com/o.json"),
            },
            licence: "MIT | Apache".to_owned(),
            exercises: "forms".to_owned(),
        },
        oas: "3.0".to_owned(),
        lines: 120,
        operations: 3,
        kinds: BTreeSet::new(),
        driven: false,
        outcome,
    }
}

fn row_31(name: &str, file: &str, origin: Origin) -> Row {
    let mut row = row(name, "openapi 3.0", Outcome::Compiles);
    row.entry.file = file.to_owned();
    row.entry.origin = origin;
    row.entry.licence = "MIT".to_owned();
    row.oas = "3.1".to_owned();
    row
}

#[test]
fn table_has_one_row_per_spec_and_totals() {
    let driven = Row {
        kinds: BTreeSet::from([Kind::HttpBasic, Kind::FormBody]),
        driven: true,
        ..row("ok", "openapi 3.0", Outcome::Compiles)
    };
    let rows = [
        driven,
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
        row_31(
            "pets",
            "3/pets.yaml",
            Origin::Npm {
                package: "@a/examples".to_owned(),
                version: "1.2.3".to_owned(),
            },
        ),
        row_31(
            "docs-enum",
            "docs_src/enum.py",
            Origin::FastApiDocs {
                version: "0.1.0".to_owned(),
            },
        ),
        Row {
            outcome: Outcome::Refused("own.yaml:3: `not` is not supported".to_owned()),
            ..row_31("own", "own.py", Origin::FastApiApp)
        },
    ];
    let timings = Timings {
        export: Duration::from_millis(2500),
        generate: Duration::from_millis(1500),
        build: Duration::from_secs(42),
        crates: 2,
        drive: Duration::from_secs(7),
        driven: 1,
    };
    let text = render(&rows, &timings);
    let expected_lines = [
        "<!-- @generated by `cargo xtask corpus`. Do not edit: rerun it. -->",
        "## OpenAPI 3.0",
        "## OpenAPI 3.1",
        "| pets | npm `@a/examples` 1.2.3: `3/pets.yaml` | MIT | 120 | 3 |  |  | compiles |  |",
        "| docs-enum | `app.openapi()` of `docs_src/enum.py` in the fastapi 0.1.0 sdist | MIT | 120 | 3 |  |  | compiles |  |",
        "| own | `app.openapi()` of [`own.py`](../corpus/fastapi/own.py) | MIT | 120 | 3 |  |  | refused | own.yaml:3: `not` is not supported |",
        "**Totals:** 3 specs: 2 compile, 1 refused, 0 panic, 0 fail to compile; 67% compile (the goal is 90%).",
        "**Driven:** none.",
        "| ok | [ok.com](https://ok.com/o.json) | MIT \\| Apache | 120 | 3 | form body, http basic | [driven](../corpus/drive/ok.rs) | compiles |  |",
        "| old | [old.com](https://old.com/o.json), converted from swagger 2.0 | MIT \\| Apache | 120 | 3 |  |  | refused | old.yaml:8:7: cookie parameter `s` |",
        "| boom | [boom.com](https://boom.com/o.json) | MIT \\| Apache | 120 | 3 |  |  | panic | index out of bounds |",
        "| bad | [bad.com](https://bad.com/o.json) | MIT \\| Apache | 120 | 3 |  |  | fails to compile | src/lib.rs:9: mismatched types |",
        "**Totals:** 4 specs: 1 compile, 1 refused, 1 panic, 1 fail to compile; 25% compile (the goal is 90%).",
        "**Driven:** 1 of 4 specs: ok.",
    ];
    for line in expected_lines {
        assert!(text.lines().any(|l| l == line), "missing line {line:?} in\n{text}");
    }
    assert!(text.starts_with(expected_lines[0]));
    // One header line per version's table; each version's rows below its heading.
    assert_eq!(text.lines().filter(|l| l.starts_with("| ")).count(), 2 + rows.len());
    let (v30, v31) = text.split_once("## OpenAPI 3.1").unwrap();
    assert!(
        v30.contains("| bad |") && !v30.contains("| pets |") && v31.contains("| pets |"),
        "{text}"
    );

    // Timings are reported but not compared: two runs that differ only in time check the same.
    let compared = compared_part(&text);
    assert!(
        compared.contains("**Totals:**") && !compared.contains("42.0 s"),
        "{compared}"
    );
    assert!(
        text.contains("exports took 2.5 s")
            && text.contains("took 1.5 s")
            && text.contains("42.0 s")
            && text.contains("driven (1) took 7.0 s"),
        "{text}"
    );
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

#[test]
fn kinds_of_a_spec_are_what_its_operations_contain() {
    let schemes = json!({
        "bearer": { "type": "http", "scheme": "Bearer" },
        "basic": { "type": "http", "scheme": "basic" },
        "digest": { "type": "http", "scheme": "Digest" },
        "header": { "type": "apiKey", "in": "header", "name": "X-Key" },
        "query": { "type": "apiKey", "in": "query", "name": "key" },
        "cookie": { "type": "apiKey", "in": "cookie", "name": "sid" },
        "oauth": { "type": "oauth2", "flows": {} },
        "oidc": { "type": "openIdConnect", "openIdConnectUrl": "https://a/.well-known" },
        "tls": { "type": "mutualTLS" },
        "shared": { "$ref": "#/components/securitySchemes/basic" },
    });
    let spec = |paths: serde_json::Value, security: Option<serde_json::Value>| {
        let mut doc = json!({
            "paths": paths,
            "components": {
                "securitySchemes": schemes,
                "requestBodies": { "Form": { "content": { "application/x-www-form-urlencoded": {} } } },
            },
        });
        if let Some(security) = security {
            doc["security"] = security;
        }
        doc
    };
    let op =
        |body: serde_json::Value, responses: serde_json::Value| json!({ "requestBody": body, "responses": responses });
    let cases: [(&str, serde_json::Value, &[Kind]); 9] = [
        (
            "nothing",
            spec(json!({ "/a": { "get": op(json!({}), json!({ "200": {} })) } }), None),
            &[],
        ),
        (
            "a form body by reference, a multipart body",
            spec(
                json!({
                    "/a": { "post": op(json!({ "$ref": "#/components/requestBodies/Form" }), json!({})) },
                    "/b": { "put": op(json!({ "content": { "multipart/mixed": {} } }), json!({})) },
                }),
                None,
            ),
            &[Kind::FormBody, Kind::MultipartBody],
        ),
        (
            "range and default responses",
            spec(
                json!({ "/a": { "get": op(json!({}), json!({ "4XX": {}, "5xx": {}, "default": {}, "200": {} })) } }),
                None,
            ),
            &[Kind::RangeStatus, Kind::DefaultResponse],
        ),
        (
            "the document's security applies to operations without their own",
            spec(
                json!({ "/a": { "get": {} } }),
                Some(json!([{ "bearer": [] }, { "header": [], "query": [] }])),
            ),
            &[Kind::HttpBearer, Kind::ApiKeyHeader, Kind::ApiKeyQuery],
        ),
        (
            "an operation's own security replaces the document's",
            spec(
                json!({ "/a": { "get": { "security": [{ "cookie": [] }] } } }),
                Some(json!([{ "bearer": [] }])),
            ),
            &[Kind::ApiKeyCookie],
        ),
        (
            "security: [] requires nothing",
            spec(
                json!({ "/a": { "get": { "security": [] } } }),
                Some(json!([{ "bearer": [] }])),
            ),
            &[],
        ),
        (
            "other HTTP schemes, oauth2, openIdConnect, mutualTLS, a scheme by reference",
            spec(
                json!({
                    "/a": { "get": { "security": [{ "digest": [], "oauth": ["read"] }, { "oidc": [] }, { "tls": [] }, { "shared": [] }] } },
                }),
                None,
            ),
            &[
                Kind::HttpBasic,
                Kind::HttpOther,
                Kind::OAuth2,
                Kind::OpenIdConnect,
                Kind::MutualTls,
            ],
        ),
        (
            "defined schemes that no operation requires",
            spec(json!({ "/a": { "get": { "responses": { "200": {} } } } }), None),
            &[],
        ),
        (
            "only operations count, not other keys of a path item",
            spec(
                json!({ "/a": { "parameters": [], "summary": "x" } }),
                Some(json!([{ "bearer": [] }])),
            ),
            &[],
        ),
    ];
    for (case, doc, expected) in cases {
        let got: Vec<Kind> = spec_kinds(&doc).into_iter().collect();
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(got, expected, "{case}");
    }
}

#[test]
fn the_kinds_line_of_a_drive_file() {
    let cases: [(&str, Result<&[Kind], &str>); 5] = [
        (
            "//! Drives it.\n//!\n//! Kinds: http basic, form body\n\nmod support;\n",
            Ok(&[Kind::FormBody, Kind::HttpBasic]),
        ),
        ("//! Kinds: other http scheme", Ok(&[Kind::HttpOther])),
        ("//! Drives it.\n", Err("d.rs: 0 `//! Kinds:` lines")),
        (
            "//! Kinds: oauth2\n//! Kinds: oauth2\n",
            Err("d.rs: 2 `//! Kinds:` lines"),
        ),
        (
            "//! Kinds: form, oauth2\n",
            Err("unknown kind `form`; the kinds are: form body,"),
        ),
    ];
    for (source, expected) in cases {
        match (parse_kinds("d.rs", source), expected) {
            (Ok(got), Ok(kinds)) => assert_eq!(got, kinds.iter().copied().collect(), "{source}"),
            (Err(err), Err(needle)) => assert!(format!("{err:#}").contains(needle), "{source}: {err:#}"),
            (got, expected) => panic!("{source}: got {got:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn drives_must_match_a_listed_spec_that_compiles_and_its_kinds() {
    let with_kinds = |name: &str, outcome: Outcome, kinds: &[Kind]| Row {
        kinds: kinds.iter().copied().collect(),
        ..row(name, "openapi 3.0", outcome)
    };
    let rows = [
        with_kinds("fine", Outcome::Compiles, &[Kind::FormBody, Kind::HttpBasic]),
        with_kinds("grew", Outcome::Compiles, &[Kind::FormBody, Kind::RangeStatus]),
        with_kinds("shrank", Outcome::Compiles, &[]),
        with_kinds("refused", Outcome::Refused("refused.yaml:3: no".to_owned()), &[]),
        with_kinds("boom", Outcome::Panic("oops".to_owned()), &[]),
    ];
    let drive = |kinds: &[Kind]| Drive {
        source: String::new(),
        kinds: kinds.iter().copied().collect(),
    };
    let drives = BTreeMap::from([
        ("fine".to_owned(), drive(&[Kind::HttpBasic, Kind::FormBody])),
        ("grew".to_owned(), drive(&[Kind::FormBody])),
        ("shrank".to_owned(), drive(&[Kind::OAuth2])),
        ("refused".to_owned(), drive(&[])),
        ("boom".to_owned(), drive(&[])),
        ("gone".to_owned(), drive(&[])),
    ]);
    let expected = [
        "gone.rs drives `gone`, which neither corpus/corpus.tsv nor corpus/corpus-3.1.tsv lists",
        "grew: the spec has range status but corpus/drive/grew.rs sends no request of it",
        "refused: driven by corpus/drive/refused.rs, but refused: refused.yaml:3: no",
        "shrank: corpus/drive/shrank.rs declares oauth2, which the spec does not have",
    ];
    let got = problems(&rows, &drives);
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (got, needle) in got.iter().zip(expected) {
        assert!(got.contains(needle), "{got}\nshould contain {needle}");
    }
}

#[test]
fn the_committed_drives_parse_and_name_listed_specs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let drives = drive::read(&root).unwrap();
    let read = |file: &str| std::fs::read_to_string(root.join(file)).unwrap();
    let mut manifest = parse_manifest(&read("corpus/corpus.tsv")).unwrap();
    manifest.extend(
        sources::parse_manifest(
            &read(sources::MANIFEST),
            &read("corpus/package-lock.json"),
            &read("corpus/fastapi/sdist.txt"),
        )
        .unwrap(),
    );
    assert!(drives.specs.len() >= 5, "{} drives", drives.specs.len());
    for (name, drive) in &drives.specs {
        assert!(manifest.iter().any(|entry| entry.name == *name), "{name} is not listed");
        assert!(!drive.kinds.is_empty(), "{name} declares no kind");
        assert!(
            drive.source.contains("\nmod support;\n"),
            "{name} does not use the support module"
        );
    }
}

#[test]
fn driven_manifests_gain_the_dev_dependencies() {
    let member = member_manifest(&crate::codegen::stub::cargo_toml("corpus-x", Path::new("/runtime"))).unwrap();
    let driven = driven_manifest(&member).unwrap();
    assert!(driven.starts_with(&member), "{driven}");
    let added = &driven[member.len()..];
    for needle in [
        "[dev-dependencies]",
        "tokio = ",
        "tower = ",
        "http-body-util = ",
        "base64 = ",
    ] {
        assert!(added.contains(needle), "{needle} missing in {added}");
    }
    let err = driven_manifest("[package]\n[dev-dependencies]\nx = \"1\"\n").unwrap_err();
    assert!(err.to_string().contains("already has `[dev-dependencies]`"), "{err}");
}

#[test]
fn failing_tests_are_named_from_libtest_output() {
    let output = "running 2 tests\ntest a ... FAILED\ntest b ... ok\n\nfailures:\n\n---- a stdout ----\npanicked\n\n\
                  ---- c::d stdout ----\nx\n\nfailures:\n    a\n";
    assert_eq!(failing_tests(output).as_deref(), Some("a, c::d"));
    assert_eq!(failing_tests("test result: ok. 2 passed"), None);
}
