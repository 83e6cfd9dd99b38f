//! Bad specs: each kind gets one clear error naming the file, line and what is wrong.

use super::{Spec, line_of};

const OPERATION: &str = r#"
paths:
  /things:
    post:
      operationId: make_thing
      responses:
        '201':
          description: Made.
          content: { application/json: { schema: { $ref: '#/components/schemas/Thing' } } }
"#;

/// (what is wrong, spec text, the error, exactly)
const BAD_SPECS: &[(&str, &str, &str)] = &[
    (
        "yaml syntax",
        "openapi: 3.0.3\ninfo:\n  title: [unclosed\n",
        "bad.yaml:4:1: invalid YAML: did not find expected ',' or ']'",
    ),
    (
        "openapi 3.1",
        "openapi: 3.1.0\ninfo: { title: T, version: '1' }\npaths: {}\n",
        "bad.yaml:1: `openapi: 3.1.0` is not supported; the generators read OpenAPI 3.0.x documents only",
    ),
    (
        "not openapi",
        "swagger: '2.0'\n",
        "bad.yaml:1: not an OpenAPI document (no `openapi: 3.0.x` field)",
    ),
    (
        "unresolved ref",
        "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: a\n      responses:\n        '200':\n          $ref: '#/components/responses/Nope'\n",
        "bad.yaml:8: `$ref: #/components/responses/Nope` at /paths/~1a/get/responses/200 resolves nowhere in this document",
    ),
    (
        "external ref",
        "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a:\n    $ref: 'other.yaml#/paths/a'\n",
        "bad.yaml:4: `$ref: other.yaml#/paths/a` at /paths/~1a points outside this file; only local references (#/...) are supported",
    ),
    (
        "not an openapi shape",
        "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a:\n    get:\n      operationId: 7\n      responses: {}\n",
        "bad.yaml:3: does not match the OpenAPI 3.0 schema at /paths: invalid type: integer `7`, expected a string",
    ),
];

#[test]
fn bad_specs_get_one_clear_error() {
    for (what, text, expected) in BAD_SPECS {
        let err = match Spec::parse("bad.yaml", (*text).to_owned()) {
            Ok(_) => panic!("{what}: accepted"),
            Err(err) => err.to_string(),
        };
        assert_eq!(&err, expected, "{what}");
        assert!(!err.contains('\n'), "{what}: error spans several lines");
    }
}

#[test]
fn good_spec_with_ref_is_accepted() {
    let text = format!(
        "openapi: 3.0.3\ninfo: {{ title: T, version: '1' }}\n{OPERATION}components:\n  schemas:\n    Thing: {{ type: object }}\n"
    );
    Spec::parse("ok.yaml", text).unwrap();
}

#[test]
fn line_of_follows_keys_and_items() {
    let text = "a:\n  b:\n    - x: 1\n    - y:\n        z: 2\n  'c/d': 3\n";
    for (pointer, line) in [
        ("/a", 1),
        ("/a/b", 2),
        ("/a/b/1", 4),
        ("/a/b/1/y/z", 5),
        ("/a/c~1d", 6),
        ("/nope", 1),
    ] {
        assert_eq!(line_of(text, pointer), Some(line), "{pointer}");
    }
}
