//! Snapshot tests of the generated server stub (the real spec and one small fixture per feature), and a table of
//! specs the generator must refuse with an error naming the operation and `file:line`.

use std::path::Path;

use super::{FIXTURES, Target, fixture_stub};
use crate::codegen::{Spec, format_file};

/// The stub of the real spec, exactly as `cargo xtask codegen` writes it.
fn openapi_stub() -> String {
    let spec = Spec::load(&crate::project_root().join("openapi.yaml")).unwrap_or_else(|err| panic!("{err:#}"));
    let (generator, _) = crate::codegen::client::generator(&spec).unwrap_or_else(|err| panic!("{err:#}"));
    format_file(super::generate(&spec, &generator, &Target::STUB).unwrap_or_else(|err| panic!("{err:#}"))).unwrap()
}

fn check(case: &str) {
    let output = match case {
        "openapi" => openapi_stub(),
        fixture => fixture_stub(fixture).unwrap_or_else(|err| panic!("{fixture}: {err:#}")),
    };
    insta::assert_snapshot!(format!("server__{case}"), output);
}

fn cases() -> impl Iterator<Item = &'static str> {
    std::iter::once("openapi").chain(FIXTURES.iter().copied())
}

#[test]
fn server_snapshots() {
    for case in cases() {
        check(case);
    }
}

#[test]
fn output_is_deterministic() {
    assert_eq!(openapi_stub(), openapi_stub());
    for fixture in FIXTURES {
        assert_eq!(
            fixture_stub(fixture).unwrap(),
            fixture_stub(fixture).unwrap(),
            "{fixture}: two runs differ"
        );
    }
}

#[test]
fn every_fixture_file_is_listed() {
    let dir = crate::project_root().join("xtask/src/codegen/fixtures/server");
    let mut unlisted: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !FIXTURES.iter().any(|f| *name == format!("{f}.yaml")))
        .collect();
    unlisted.sort();
    assert!(unlisted.is_empty(), "fixtures not in FIXTURES: {unlisted:?}");
}

#[test]
fn no_unreferenced_snapshots() {
    crate::codegen::assert_snapshots_referenced("server", cases());
}

/// A one-operation spec: `operation` is the YAML of `paths./things.post`, `components` the YAML of `components`.
fn spec(operation: &str, components: &str) -> String {
    let indent = |text: &str, n: usize| {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect::<String>()
    };
    format!(
        "openapi: 3.0.3\ninfo: {{ title: Bad, version: 0.1.0 }}\npaths:\n  /things:\n    post:\n      operationId: make_thing\n{}components:\n{}",
        indent(operation, 6),
        indent(components, 2)
    )
}

const OK_RESPONSE: &str = "responses:\n  '200':\n    description: ok\n";
const THING: &str = "schemas:\n  Thing: { type: object, properties: { a: { type: string } } }\n";

#[test]
fn unsupported_constructs_fail_with_operation_and_line() {
    let multipart = format!(
        "requestBody:\n  content:\n    multipart/form-data:\n      schema: {{ $ref: '#/components/schemas/Thing' }}\n{OK_RESPONSE}"
    );
    let cookie = format!("parameters:\n  - {{ name: session, in: cookie, schema: {{ type: string }} }}\n{OK_RESPONSE}");
    let callback = format!(
        "callbacks:\n  done:\n    '{{$request.body#/url}}':\n      post:\n        responses:\n          '200': {{ description: ok }}\n{OK_RESPONSE}"
    );
    let link = "responses:\n  '200':\n    description: ok\n    links:\n      self: { operationId: make_thing }\n";
    let default_alone = "responses:\n  default:\n    description: anything\n";
    let range = "responses:\n  '200': { description: ok }\n  4XX: { description: client error }\n";
    let one_of = format!(
        "requestBody:\n  content:\n    application/json:\n      schema:\n        oneOf: [{{ type: string }}, {{ type: integer }}]\n{OK_RESPONSE}"
    );
    let inline_object = format!(
        "requestBody:\n  content:\n    application/json:\n      schema: {{ type: object, properties: {{ a: {{ type: string }} }} }}\n{OK_RESPONSE}"
    );
    let array_param = format!(
        "parameters:\n  - {{ name: ids, in: query, schema: {{ type: array, items: {{ type: string }} }} }}\n{OK_RESPONSE}"
    );
    let api_key = format!("security:\n  - key: []\n{OK_RESPONSE}");
    let api_key_components = format!("{THING}securitySchemes:\n  key: {{ type: apiKey, in: header, name: X-Key }}\n");
    let bad_pattern = format!(
        "requestBody:\n  content:\n    application/json:\n      schema: {{ $ref: '#/components/schemas/Code' }}\n{OK_RESPONSE}"
    );
    let bad_pattern_components = "schemas:\n  Code: { type: string, pattern: '(unclosed' }\n";
    let text_response = "responses:\n  '200':\n    description: ok\n    content:\n      text/plain:\n        schema: { type: string }\n";

    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "multipart",
            &multipart,
            THING,
            "bad.yaml:9: operation `make_thing`: request body media type `multipart/form-data` is not supported",
        ),
        (
            "cookie",
            &cookie,
            THING,
            "bad.yaml:8: operation `make_thing`: cookie parameter `session` is not supported",
        ),
        (
            "callback",
            &callback,
            THING,
            "bad.yaml:7: operation `make_thing`: callbacks are not supported",
        ),
        (
            "link",
            link,
            THING,
            "bad.yaml:10: operation `make_thing`: links are not supported",
        ),
        (
            "default alone",
            default_alone,
            THING,
            "operation `make_thing`: a `default` response is not supported",
        ),
        (
            "status range",
            range,
            THING,
            "operation `make_thing`: status range `4XX` is not supported",
        ),
        (
            "oneOf body",
            &one_of,
            THING,
            "operation `make_thing`: oneOf/anyOf/allOf/not in a request schema is not supported",
        ),
        (
            "inline object body",
            &inline_object,
            THING,
            "move it to components/schemas and `$ref` it",
        ),
        (
            "array query parameter",
            &array_param,
            THING,
            "parameter `ids` must have a string, integer, number or boolean schema",
        ),
        (
            "api key security",
            &api_key,
            &api_key_components,
            "security scheme `key` is not HTTP bearer",
        ),
        (
            "bad pattern",
            &bad_pattern,
            bad_pattern_components,
            "bad.yaml:16: operation `make_thing`: pattern does not compile",
        ),
        (
            "text response",
            text_response,
            THING,
            "response 200 media type `text/plain` is not supported",
        ),
    ];
    for (name, operation, components, expected) in cases {
        let text = spec(operation, components);
        let err = Spec::parse(Path::new("bad.yaml"), text.clone())
            .and_then(|spec| super::check(&spec))
            .expect_err(name);
        let message = format!("{err:#}");
        assert!(
            message.contains(expected),
            "{name}: expected `{expected}` in\n{message}\nspec:\n{text}"
        );
    }
}
