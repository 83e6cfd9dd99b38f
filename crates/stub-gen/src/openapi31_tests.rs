//! The lowering of OpenAPI 3.1 to 3.0, a table per construct: a schema or a document as written -> as lowered, or
//! -> the one-line refusal.

use serde_json::Value;

use crate::spec::line_of;

/// The document `text` lowered, or the refusal.
fn lower(text: &str) -> Result<(Value, Vec<(String, String)>), String> {
    let mut raw: Value = serde_yaml::from_str(text).unwrap();
    let at = |pointer: &str| format!("t.yaml:{}", line_of(text, pointer).unwrap_or(0));
    let moved = super::lower(&mut raw, &at).map_err(|err| err.to_string())?;
    Ok((raw, moved))
}

/// Object schemas beside `S`, after it (so that `S` stays on line 6): `O` and `Q` exclude each other by `kind`.
const OBJECTS: &str =
    "    O: { type: object, required: [kind], properties: { kind: { const: o }, a: { type: string } } }
    Q: { type: object, required: [kind], properties: { kind: { enum: [q] }, b: { type: integer } } }
";

/// Component schema `S` written as `schema` (YAML flow), lowered: `S` as compact JSON, or the refusal.
fn schema(schema: &str) -> String {
    let text = format!(
        "openapi: 3.1.0\ninfo: {{ title: T, version: '1' }}\ncomponents:\n  schemas:\n    T: {{ type: string }}\n    S: {schema}\n{OBJECTS}"
    );
    match lower(&text) {
        Ok((raw, _)) => raw["components"]["schemas"]["S"].to_string(),
        Err(err) => err,
    }
}

/// (what, the schema as written, as lowered or the refusal)
const SCHEMAS: &[(&str, &str, &str)] = &[
    (
        "type with null",
        "{ type: [string, 'null'], maxLength: 3 }",
        r#"{"maxLength":3,"nullable":true,"type":"string"}"#,
    ),
    ("one type in an array", "{ type: [integer] }", r#"{"type":"integer"}"#),
    (
        "several types",
        "{ type: [string, integer], minLength: 1, minimum: 0, description: d }",
        r#"{"anyOf":[{"minLength":1,"type":"string"},{"minimum":0,"type":"integer"}],"description":"d"}"#,
    ),
    (
        "several types and null",
        "{ type: [object, array, 'null'], properties: { a: { type: string } }, items: { type: integer } }",
        r#"{"anyOf":[{"properties":{"a":{"type":"string"}},"type":"object"},{"items":{"type":"integer"},"type":"array"}],"nullable":true}"#,
    ),
    (
        "several types beside anyOf",
        "{ type: [string, integer], anyOf: [{ minLength: 2 }, { minimum: 2 }] }",
        r#"{"allOf":[{"anyOf":[{"type":"string"},{"type":"integer"}]}],"anyOf":[{"minLength":2},{"minimum":2}]}"#,
    ),
    (
        "several types with an enum",
        "{ type: [string, integer, 'null'], enum: [a, 1] }",
        r#"{"enum":["a",1],"nullable":true}"#,
    ),
    (
        "pydantic Optional of a $ref",
        "{ anyOf: [{ $ref: '#/components/schemas/T' }, { type: 'null' }], description: d }",
        r##"{"allOf":[{"$ref":"#/components/schemas/T"}],"description":"d","nullable":true}"##,
    ),
    (
        "pydantic Optional of an inline schema",
        "{ anyOf: [{ type: string, maxLength: 5 }, { type: 'null' }], title: Name, default: null }",
        r#"{"default":null,"maxLength":5,"nullable":true,"title":"Name","type":"string"}"#,
    ),
    (
        "Optional whose keywords clash with the outer ones",
        "{ oneOf: [{ type: string, maxLength: 5 }, { type: 'null' }], maxLength: 3 }",
        r#"{"allOf":[{"maxLength":5,"type":"string"}],"maxLength":3,"nullable":true}"#,
    ),
    (
        "Optional of a union",
        "{ anyOf: [{ type: string }, { type: integer }, { type: 'null' }] }",
        r#"{"anyOf":[{"type":"string"},{"type":"integer"}],"nullable":true}"#,
    ),
    (
        "Optional of a type array",
        "{ anyOf: [{ type: [string, integer] }, { type: 'null' }] }",
        r#"{"anyOf":[{"type":"string"},{"type":"integer"}],"nullable":true}"#,
    ),
    (
        "const",
        "{ type: string, const: on }",
        r#"{"enum":["on"],"type":"string","x-stub-const":"on"}"#,
    ),
    (
        "const in its enum",
        "{ const: 2, enum: [1, 2] }",
        r#"{"enum":[2],"x-stub-const":2}"#,
    ),
    (
        "exclusive bounds",
        "{ type: integer, exclusiveMinimum: 0, exclusiveMaximum: 10 }",
        r#"{"exclusiveMaximum":true,"exclusiveMinimum":true,"maximum":10,"minimum":0,"type":"integer"}"#,
    ),
    (
        "an inclusive bound that is tighter",
        "{ type: number, minimum: 5, exclusiveMinimum: 1, maximum: 9, exclusiveMaximum: 9 }",
        r#"{"exclusiveMaximum":true,"maximum":9,"minimum":5,"type":"number"}"#,
    ),
    (
        "examples",
        "{ type: string, examples: [a, b] }",
        r#"{"example":"a","type":"string"}"#,
    ),
    (
        "$ref with annotations",
        "{ $ref: '#/components/schemas/T', description: d, summary: s, x-kept: 1 }",
        r##"{"$ref":"#/components/schemas/T"}"##,
    ),
    (
        "$ref with constraints",
        "{ $ref: '#/components/schemas/T', description: d, maxLength: 3 }",
        r##"{"allOf":[{"$ref":"#/components/schemas/T"},{"maxLength":3}]}"##,
    ),
    (
        "contentEncoding",
        "{ type: string, contentEncoding: base64, contentMediaType: image/png }",
        r#"{"format":"byte","type":"string"}"#,
    ),
    (
        "contentMediaType",
        "{ contentMediaType: application/octet-stream }",
        r#"{"format":"binary","type":"string"}"#,
    ),
    (
        "contentMediaType of JSON text",
        "{ type: string, contentMediaType: application/json }",
        r#"{"type":"string"}"#,
    ),
    ("boolean schema true", "true", "{}"),
    ("boolean schema false", "false", r#"{"not":{}}"#),
    (
        "boolean subschemas",
        "{ type: object, properties: { a: true, b: false }, additionalProperties: false }",
        r#"{"additionalProperties":false,"properties":{"a":{},"b":{"not":{}}},"type":"object"}"#,
    ),
    (
        "unevaluatedProperties",
        "{ type: object, properties: { a: { type: string } }, unevaluatedProperties: false }",
        r#"{"additionalProperties":false,"properties":{"a":{"type":"string"}},"type":"object"}"#,
    ),
    (
        "unevaluatedProperties true",
        "{ type: object, unevaluatedProperties: true, unevaluatedItems: true }",
        r#"{"type":"object","unevaluatedItems":true}"#,
    ),
    (
        "annotations of 2020-12",
        "{ type: object, $comment: c, $id: x, $schema: 'https://spec.openapis.org/oas/3.1/dialect/base' }",
        r#"{"type":"object"}"#,
    ),
    (
        "nested schemas",
        "{ type: array, items: { type: [number, 'null'], exclusiveMaximum: 1 } }",
        r#"{"items":{"exclusiveMaximum":true,"maximum":1,"nullable":true,"type":"number"},"type":"array"}"#,
    ),
    (
        "prefixItems",
        "{ type: array, prefixItems: [{ type: string }] }",
        "t.yaml:6: `prefixItems` in the schema at /components/schemas/S is not supported: OpenAPI 3.0, which the generators read, has no tuples",
    ),
    (
        "if/then/else",
        "{ if: { required: [a] }, then: { required: [b] } }",
        "t.yaml:6: `if` in the schema at /components/schemas/S is not supported: conditional schemas have no OpenAPI 3.0 form",
    ),
    (
        "dependentRequired",
        "{ type: object, dependentRequired: { a: [b] } }",
        "t.yaml:6: `dependentRequired` in the schema at /components/schemas/S is not supported: conditional requirements have no OpenAPI 3.0 form",
    ),
    (
        "patternProperties",
        "{ type: object, properties: { p: { patternProperties: { '^x': { type: string } } } } }",
        "t.yaml:6: `patternProperties` in the schema at /components/schemas/S/properties/p is not supported: properties chosen by a pattern have no OpenAPI 3.0 form",
    ),
    (
        "unevaluatedProperties beside an own additionalProperties",
        "{ allOf: [{ $ref: '#/components/schemas/O' }], additionalProperties: true, unevaluatedProperties: false }",
        r##"{"additionalProperties":true,"allOf":[{"$ref":"#/components/schemas/O"}]}"##,
    ),
    (
        "unevaluatedProperties beside a $ref",
        "{ $ref: '#/components/schemas/O', unevaluatedProperties: false }",
        r##"{"allOf":[{"$ref":"#/components/schemas/O"},{"additionalProperties":false,"properties":{"a":{},"kind":{}}}]}"##,
    ),
    (
        "unevaluatedProperties (a schema) beside allOf and own properties",
        "{ allOf: [{ $ref: '#/components/schemas/O' }, { properties: { b: { type: integer } } }], properties: { c: { type: string } }, unevaluatedProperties: { type: string } }",
        r##"{"allOf":[{"$ref":"#/components/schemas/O"},{"properties":{"b":{"type":"integer"}}},{"additionalProperties":{"type":"string"},"properties":{"a":{},"b":{},"c":{},"kind":{}}}],"properties":{"c":{"type":"string"}}}"##,
    ),
    (
        "unevaluatedProperties beside oneOf options that exclude each other",
        "{ oneOf: [{ $ref: '#/components/schemas/O' }, { $ref: '#/components/schemas/Q' }], unevaluatedProperties: false }",
        r#"{"oneOf":[{"additionalProperties":false,"properties":{"a":{"type":"string"},"kind":{"enum":["o"],"x-stub-const":"o"}},"required":["kind"],"type":"object"},{"additionalProperties":false,"properties":{"b":{"type":"integer"},"kind":{"enum":["q"]}},"required":["kind"],"type":"object"}]}"#,
    ),
    (
        "unevaluatedProperties beside anyOf options that may overlap",
        "{ anyOf: [{ properties: { a: { type: string } } }, { properties: { b: { type: string } } }], unevaluatedProperties: false }",
        r#"{"anyOf":[{"additionalProperties":false,"properties":{"a":{"type":"string"}}},{"additionalProperties":false,"properties":{"b":{"type":"string"}}},{"allOf":[{"properties":{"a":{"type":"string"}}},{"properties":{"b":{"type":"string"}}},{"additionalProperties":false,"properties":{"a":{},"b":{}}}]}]}"#,
    ),
    (
        "unevaluatedProperties beside pydantic's Optional of a $ref",
        "{ anyOf: [{ $ref: '#/components/schemas/O' }, { type: 'null' }], unevaluatedProperties: false }",
        r#"{"additionalProperties":false,"nullable":true,"properties":{"a":{"type":"string"},"kind":{"enum":["o"],"x-stub-const":"o"}},"required":["kind"],"type":"object"}"#,
    ),
    (
        "unevaluatedProperties beside oneOf options that may overlap",
        "{ oneOf: [{ properties: { a: { type: string } } }, { properties: { b: { type: string } } }], unevaluatedProperties: false }",
        "t.yaml:6: `unevaluatedProperties` in the schema at /components/schemas/S is not supported: beside `oneOf` options that may overlap it has no OpenAPI 3.0 form (served for options that exclude each other by a required property's `enum`/`const`, or an `anyOf` of at most 3)",
    ),
    (
        "unevaluatedProperties beside a member that composes",
        "{ allOf: [{ anyOf: [{ $ref: '#/components/schemas/O' }] }], unevaluatedProperties: false }",
        "t.yaml:6: `unevaluatedProperties` in the schema at /components/schemas/S is not supported: a member of the composition beside it has `anyOf`, so which properties it evaluates is not known here",
    ),
    (
        "unevaluatedItems",
        "{ type: array, unevaluatedItems: false }",
        "t.yaml:6: `unevaluatedItems` in the schema at /components/schemas/S is not supported: OpenAPI 3.0 has no `unevaluatedItems`",
    ),
    (
        "const of an object",
        "{ const: { a: 1 } }",
        "t.yaml:6: `const` in the schema at /components/schemas/S is not supported: only a string, number or boolean can be a constant here",
    ),
    (
        "null alone",
        "{ type: 'null', description: d }",
        r#"{"description":"d","enum":[null],"nullable":true}"#,
    ),
    (
        "null alone in an array",
        "{ type: ['null'] }",
        r#"{"enum":[null],"nullable":true}"#,
    ),
    (
        "null alone beside an enum",
        "{ type: 'null', enum: [a] }",
        "t.yaml:6: `type: null` in the schema at /components/schemas/S is not supported: beside an `enum` it has no OpenAPI 3.0 form",
    ),
    (
        "only a null option",
        "{ anyOf: [{ type: 'null' }] }",
        "t.yaml:6: `anyOf` in the schema at /components/schemas/S is not supported: its only option is `null`, a value that has no type",
    ),
    (
        "another dialect",
        "{ $schema: 'http://json-schema.org/draft-07/schema#', type: string }",
        "t.yaml:6: `$schema` in the schema at /components/schemas/S is not supported: only the OpenAPI default dialect is read",
    ),
];

#[test]
fn schemas_are_lowered_or_refused_in_one_line() {
    for (what, written, lowered) in SCHEMAS {
        assert_eq!(schema(written), *lowered, "{what}");
    }
}

#[test]
fn defs_are_hoisted_and_refs_follow() {
    let text = "openapi: 3.1.0
info: { title: T, version: '1' }
components:
  schemas:
    A: { type: integer }
    S:
      type: object
      properties:
        a: { $ref: '#/components/schemas/S/$defs/A' }
        b: { $ref: '#/components/schemas/S/$defs/B/properties/c' }
      $defs:
        A: { type: [string, 'null'] }
        B:
          type: object
          properties: { c: { $ref: '#/components/schemas/S/$defs/B/$defs/C' } }
          $defs:
            C: { const: 1 }
";
    let (raw, moved) = lower(text).unwrap();
    let schemas = &raw["components"]["schemas"];
    assert_eq!(
        schemas["S"].to_string(),
        r##"{"properties":{"a":{"$ref":"#/components/schemas/A2"},"b":{"$ref":"#/components/schemas/B/properties/c"}},"type":"object"}"##
    );
    assert_eq!(schemas["A2"].to_string(), r#"{"nullable":true,"type":"string"}"#);
    assert_eq!(
        schemas["B"].to_string(),
        r##"{"properties":{"c":{"$ref":"#/components/schemas/C"}},"type":"object"}"##
    );
    assert_eq!(schemas["C"].to_string(), r#"{"enum":[1],"x-stub-const":1}"#);
    let moved: Vec<(&str, &str)> = moved.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(
        moved,
        [
            ("/components/schemas/C", "/components/schemas/S/$defs/B/$defs/C"),
            ("/components/schemas/A2", "/components/schemas/S/$defs/A"),
            ("/components/schemas/B", "/components/schemas/S/$defs/B"),
        ]
    );
}

const INFO: &str = "info: { title: T, version: '1' }\n";

/// A generic component schema `G`: items of `$dynamicRef: '#t'`, none by default.
const GENERIC: &str = "    G:
      $id: g
      $defs: { t: { $dynamicAnchor: t, not: {} } }
      type: object
      properties: { items: { type: array, items: { $dynamicRef: '#t' } } }
";

/// (what, the document as written after `openapi:` and `info:`, the pointer looked at, it lowered or the refusal)
fn documents() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let op = "get: { responses: { '200': { description: ok } } }";
    vec![
        (
            "no paths, webhooks, info.summary, license.identifier, the default dialect",
            "info: { title: T, version: '1', summary: s, license: { name: MIT, identifier: MIT } }\njsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base'\nwebhooks:\n  ping: { post: { responses: { '200': { description: ok } } } }\n".to_owned(),
            "",
            r#"{"info":{"license":{"name":"MIT"},"title":"T","version":"1"},"openapi":"3.0.3","paths":{}}"#,
        ),
        (
            "another dialect",
            format!("{INFO}jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema'\n"),
            "",
            r#"t.yaml:3: `jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema"` is not supported; only the OpenAPI default dialect is read"#,
        ),
        (
            "components.pathItems",
            format!("{INFO}paths:\n  /a: {{ $ref: '#/components/pathItems/A' }}\ncomponents:\n  pathItems:\n    A: {{ {op} }}\n"),
            "/paths",
            r#"{"/a":{"get":{"responses":{"200":{"description":"ok"}}}}}"#,
        ),
        (
            "schemas of parameters, bodies and responses",
            format!("{INFO}paths:\n  /a:\n    parameters: [{{ name: q, in: query, schema: {{ type: [integer, 'null'] }} }}]\n    post:\n      requestBody: {{ content: {{ application/json: {{ schema: {{ const: x }} }} }} }}\n      responses: {{ '200': {{ description: ok, content: {{ application/json: {{ schema: {{ examples: [1], type: integer }}, examples: {{ one: {{ value: 1 }} }} }} }} }} }}\n"),
            "/paths/~1a",
            r#"{"parameters":[{"in":"query","name":"q","schema":{"nullable":true,"type":"integer"}}],"post":{"requestBody":{"content":{"application/json":{"schema":{"enum":["x"],"x-stub-const":"x"}}}},"responses":{"200":{"content":{"application/json":{"examples":{"one":{"value":1}},"schema":{"example":1,"type":"integer"}}},"description":"ok"}}}}"#,
        ),
        (
            "an operation without responses, and one in a callback",
            format!("{INFO}paths:\n  /a:\n    post:\n      callbacks: {{ done: {{ '{{$url}}': {{ post: {{}} }} }} }}\n"),
            "/paths/~1a/post",
            r#"{"callbacks":{"done":{"{$url}":{"post":{"responses":{"default":{"description":""}}}}}},"responses":{"default":{"description":""}}}"#,
        ),
        (
            "an operation with responses keeps them",
            format!("{INFO}paths:\n  /a:\n    {op}\n    parameters: []\n"),
            "/paths/~1a",
            r#"{"get":{"responses":{"200":{"description":"ok"}}},"parameters":[]}"#,
        ),
        (
            "$dynamicRef: a generic, its default and a binding site",
            format!("{INFO}components:\n  schemas:\n    T: {{ type: string }}\n{GENERIC}    P:\n      $id: p\n      $ref: '#/components/schemas/G'\n      $defs: {{ t: {{ $dynamicAnchor: t, $ref: '#/components/schemas/T' }} }}\n      description: d\n"),
            "/components/schemas",
            r##"{"G":{"properties":{"items":{"items":{"not":{}},"type":"array"}},"type":"object"},"P":{"description":"d","properties":{"items":{"items":{"$ref":"#/components/schemas/T"},"type":"array"}},"type":"object"},"T":{"type":"string"}}"##,
        ),
        (
            "$dynamicRef in a generic without $id",
            format!("{INFO}components:\n  schemas:\n{}", GENERIC.replace("      $id: g\n", "")),
            "",
            "t.yaml:8: `$dynamicRef` in the schema at /components/schemas/G/properties/items/items is not supported: /components/schemas/G has no `$id`, so its anchor belongs to the whole document and no binding can be told apart",
        ),
        (
            "$dynamicRef whose binding reaches the generic again",
            format!("{INFO}components:\n  schemas:\n{GENERIC}    P:\n      $id: p\n      $ref: '#/components/schemas/G'\n      $defs: {{ t: {{ $dynamicAnchor: t, $ref: '#/components/schemas/P' }} }}\n"),
            "",
            "t.yaml:9: `$dynamicRef` in the schema at /components/schemas/G/properties/items/items is not supported: /components/schemas/G or one of its bindings reaches /components/schemas/G again through `$ref`, which makes the dynamic scope deeper than one binding",
        ),
        (
            "$dynamicRef to an anchor that is not a binding site",
            format!("{INFO}components:\n  schemas:\n{GENERIC}    P: {{ $defs: {{ t: {{ $dynamicAnchor: t, type: string }} }}, type: object }}\n"),
            "",
            "t.yaml:9: `$dynamicRef` in the schema at /components/schemas/G/properties/items/items is not supported: the anchor `t` at /components/schemas/P/$defs/t is not a binding site (a schema with its own `$id` that is only `$ref: '#/components/schemas/G'` beside `$defs`)",
        ),
        (
            "mutualTLS",
            format!("{INFO}components:\n  securitySchemes:\n    tls: {{ type: mutualTLS, description: d }}\n"),
            "/components/securitySchemes/tls",
            r#"{"description":"d","scheme":"mutual-tls","type":"http","x-stub-mutual-tls":true}"#,
        ),
        (
            "3.2: a response without a description",
            format!("{INFO}paths:\n  /a:\n    get: {{ responses: {{ '204': {{}} }} }}\n"),
            "/paths/~1a/get/responses",
            r#"{"204":{"description":""}}"#,
        ),
        (
            "3.2: a query operation",
            format!("{INFO}paths:\n  /a:\n    query: {{ responses: {{ '200': {{ description: ok }} }} }}\n"),
            "",
            "t.yaml:5: `query` operations (OpenAPI 3.2) are not supported",
        ),
        (
            "3.2: a querystring parameter",
            format!("{INFO}paths:\n  /a:\n    parameters:\n      - {{ name: q, in: querystring, content: {{ application/json: {{}} }} }}\n"),
            "",
            "t.yaml:6: a parameter `in: querystring` (OpenAPI 3.2) is not supported",
        ),
        (
            "3.2: itemSchema",
            format!("{INFO}paths:\n  /a:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/jsonl:\n              itemSchema: {{ type: object }}\n"),
            "",
            "t.yaml:11: `itemSchema` (OpenAPI 3.2 streamed media types) is not supported",
        ),
        (
            "3.2: components.mediaTypes",
            format!("{INFO}components:\n  mediaTypes:\n    Json: {{}}\n"),
            "",
            "t.yaml:4: `components.mediaTypes` (OpenAPI 3.2) is not supported",
        ),
    ]
}

#[test]
fn documents_are_lowered_or_refused_in_one_line() {
    for (what, rest, pointer, expected) in documents() {
        let version = if what.starts_with("3.2") { "3.2.0" } else { "3.1.0" };
        let text = format!("openapi: {version}\n{rest}");
        let got = match lower(&text) {
            Ok((raw, _)) => raw.pointer(pointer).unwrap().to_string(),
            Err(err) => err,
        };
        assert_eq!(got, expected, "{what}");
    }
}
