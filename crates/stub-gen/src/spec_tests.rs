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
        "openapi 4.0",
        "openapi: 4.0.0\ninfo: { title: T, version: '1' }\npaths: {}\n",
        "bad.yaml:1: `openapi: 4.0.0` is not supported; the generators read OpenAPI 3.0.x and 3.1.x documents (and 3.2.x ones that use only what 3.1 has)",
    ),
    (
        "openapi 3.1 with a construct it cannot lower",
        "openapi: 3.1.0\ninfo: { title: T, version: '1' }\ncomponents:\n  schemas:\n    Pair:\n      type: array\n      prefixItems: [{ type: string }, { type: integer }]\n",
        "bad.yaml:5: `prefixItems` in the schema at /components/schemas/Pair is not supported: OpenAPI 3.0, which the generators read, has no tuples",
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

/// A 3.1 document is read as the 3.0 it lowers to; messages about nodes the lowering moved point where they are
/// written.
#[test]
fn openapi_31_is_read_and_moved_nodes_are_located() {
    let text = "openapi: 3.1.0\ninfo: { title: T, version: '1' }\npaths:\n  /a: { $ref: '#/components/pathItems/A' }\ncomponents:\n  pathItems:\n    A:\n      get:\n        responses: { '200': { description: ok } }\n  schemas:\n    S:\n      type: object\n      properties: { d: { $ref: '#/components/schemas/S/$defs/D' } }\n      $defs:\n        D:\n          type: [string, 'null']\n";
    let spec = Spec::parse("ok.yaml", text.to_owned()).unwrap();
    assert_eq!(spec.doc.openapi, "3.0.3");
    assert!(spec.doc.paths.paths["/a"].as_item().unwrap().get.is_some());
    assert_eq!(spec.at("/paths/~1a/get/responses"), "ok.yaml:9");
    assert_eq!(spec.at("/components/schemas/D/type"), "ok.yaml:16");
    assert_eq!(spec.at("/components/schemas/S"), "ok.yaml:11");
}
