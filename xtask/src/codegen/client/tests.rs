//! Snapshot tests of the generated client: the real spec and one small fixture per feature.

use std::path::{Path, PathBuf};

use crate::codegen::{Spec, format_file};

/// Every client snapshot this module owns; a `.snap` file not named here is a stale leftover.
const CASES: &[&str] = &[
    "openapi",
    "path_and_query_params",
    "no_content_and_several_successes",
    "nested_objects_arrays_enums",
];

fn spec_path(case: &str) -> PathBuf {
    let root = crate::project_root();
    match case {
        "openapi" => root.join("openapi.yaml"),
        fixture => root.join(format!("xtask/src/codegen/fixtures/client/{fixture}.yaml")),
    }
}

fn generate(path: &Path) -> String {
    let spec = Spec::load(path).unwrap_or_else(|err| panic!("{err:#}"));
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
