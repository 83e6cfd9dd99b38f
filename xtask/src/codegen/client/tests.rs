//! Snapshot tests of the generated client: the real spec and one small fixture per feature.

use std::path::{Path, PathBuf};

use crate::codegen::{Spec, format_file};

/// Every client snapshot this module owns; a `.snap` file not named here is a stale leftover.
/// The real spec's client is guarded by `cargo xtask codegen --check` (one committed copy); these are the fixtures.
const CASES: &[&str] = &[
    "path_and_query_params",
    "no_content_and_several_successes",
    "nested_objects_arrays_enums",
];

fn spec_path(case: &str) -> PathBuf {
    let root = crate::project_root();
    root.join(format!("xtask/src/codegen/fixtures/client/{case}.yaml"))
}

fn generate(path: &Path) -> String {
    let spec = crate::codegen::load(path).unwrap_or_else(|err| panic!("{err:#}"));
    let (_, tokens) = super::generator(&spec).unwrap_or_else(|err| panic!("{err:#}"));
    format_file(tokens).unwrap()
}

#[test]
fn client_snapshots() {
    for case in CASES {
        let output = generate(&spec_path(case));
        insta::assert_snapshot!(format!("client__{case}"), output);
    }
}

#[test]
fn output_is_deterministic() {
    for case in CASES {
        let path = spec_path(case);
        assert_eq!(generate(&path), generate(&path), "{case}: two runs differ");
    }
}

#[test]
fn no_unreferenced_snapshots() {
    crate::codegen::assert_snapshots_referenced("client", CASES.iter().copied());
}

/// (what is wrong, spec text, the error, exactly): what progenitor would panic on, refused up front.
const BAD_SPECS: &[(&str, &str, &str)] = &[
    (
        "error schemas differ",
        "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: get_a\n      responses:\n        '204': { description: ok }\n        '400': { description: bad, content: { application/json: { schema: { type: string } } } }\n        '500': { description: oops, content: { application/json: { schema: { type: integer } } } }\n",
        "bad.yaml:10: operation `get_a`: error responses 400 and 500 use different schemas; every error response of an operation must share one schema (ErrorResponse)",
    ),
    (
        "success schemas differ",
        "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: get_a\n      responses:\n        '200': { description: ok, content: { application/json: { schema: { type: string } } } }\n        '204': { description: empty }\n",
        "bad.yaml:9: operation `get_a`: success responses 200 and 204 use different schemas; every 2xx response of an operation must share one body schema",
    ),
    (
        "default beside 2xx",
        "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: get_a\n      responses:\n        '204': { description: ok }\n        default: { description: any error }\n",
        "bad.yaml:9: operation `get_a` has a `default` response beside 2xx responses; list each error status explicitly",
    ),
];

#[test]
fn specs_progenitor_cannot_take_get_one_clear_error() {
    for (what, text, expected) in BAD_SPECS {
        let spec = Spec::parse("bad.yaml", (*text).to_owned()).unwrap_or_else(|err| panic!("{what}: {err}"));
        let err = match super::generator(&spec) {
            Ok(_) => panic!("{what}: accepted"),
            Err(err) => format!("{err:#}"),
        };
        assert_eq!(&err, expected, "{what}");
    }
}
