//! The repairs of a document as read: each table shows a schema as public specs write it and as later stages see
//! it.

use crate::Spec;

#[test]
fn deep_and_percent_encoded_refs_are_inlined() {
    let text = "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths:\n  /a/{id}:\n    get:\n      operationId: a\n      parameters:\n        - { name: id, in: path, required: true, schema: { $ref: '#/components/schemas/Thing/properties/id' } }\n      responses:\n        '200':\n          description: ok\n          content: { application/json: { schema: { $ref: '#/paths/~1a~1%7Bid%7D/get/parameters/0/schema' } } }\ncomponents:\n  schemas:\n    Thing: { type: object, properties: { id: { type: integer } } }\n";
    let spec = Spec::parse("ok.yaml", text.to_owned()).unwrap();
    let json = serde_json::to_string(&spec.doc.paths).unwrap();
    assert!(!json.contains("$ref"), "{json}");
    assert!(json.contains(r#""type":"integer""#), "{json}");
}

/// (a schema as public specs write it, the schema as the later stages see it): keywords that constrain only other
/// types go, what the declared type uses stays, and examples are left alone.
const FOREIGN_KEYWORDS: &[(&str, &str)] = &[
    (
        "{ type: array, items: { type: string }, format: list of urls }",
        r#"{"items":{"type":"string"},"type":"array"}"#,
    ),
    (
        "{ type: integer, minimum: 0, required: ['false'] }",
        r#"{"minimum":0,"type":"integer"}"#,
    ),
    (
        "{ type: array, items: { type: integer }, properties: { empty: { type: boolean } } }",
        r#"{"items":{"type":"integer"},"type":"array"}"#,
    ),
    (
        "{ type: object, format: uri-map, additionalProperties: { type: string } }",
        r#"{"additionalProperties":{"type":"string"},"type":"object"}"#,
    ),
    (
        "{ type: string, format: date, maxLength: 10, example: { type: array, format: kept } }",
        r#"{"example":{"format":"kept","type":"array"},"format":"date","maxLength":10,"type":"string"}"#,
    ),
    // An enum beside `type: array` that no array can match is the items' enum (Swagger 2.0's way of writing it).
    (
        "{ type: array, enum: [live, promotions], items: { type: string } }",
        r#"{"items":{"enum":["live","promotions"],"type":"string"},"type":"array"}"#,
    ),
    // A property may be called `default` or `example`: it is a schema like any other.
    (
        "{ type: object, properties: { default: { type: string, items: { type: string } } } }",
        r#"{"properties":{"default":{"type":"string"}},"type":"object"}"#,
    ),
    (
        "{ type: object, properties: { kind: { enum: [tag, digest] }, mixed: { enum: [true, 0] } } }",
        r#"{"properties":{"kind":{"enum":["tag","digest"],"type":"string"},"mixed":{"enum":[true,0]}},"type":"object"}"#,
    ),
    (
        "{ type: object, properties: { n: { type: number, items: { type: string }, multipleOf: 2 } } }",
        r#"{"properties":{"n":{"multipleOf":2,"type":"number"}},"type":"object"}"#,
    ),
];

#[test]
fn keywords_of_other_types_are_dropped() {
    for (written, seen) in FOREIGN_KEYWORDS {
        let text = format!(
            "openapi: 3.0.3\ninfo: {{ title: T, version: '1' }}\npaths: {{}}\ncomponents:\n  schemas:\n    S: {written}\n"
        );
        let spec = Spec::parse("ok.yaml", text).unwrap();
        let schema = serde_json::to_string(&spec.raw["components"]["schemas"]["S"]).unwrap();
        assert_eq!(&schema, seen, "{written}");
        let typed = &spec.doc.components.as_ref().unwrap().schemas["S"];
        let openapiv3::ReferenceOr::Item(typed) = typed else {
            panic!("{written}: a reference");
        };
        assert!(
            !matches!(typed.schema_kind, openapiv3::SchemaKind::Any(_)),
            "{written}: openapiv3 reads it untyped"
        );
    }
}

#[test]
fn schemas_whose_rust_names_collide_are_renamed_and_still_located() {
    let text = "openapi: 3.0.3\ninfo: { title: T, version: '1' }\npaths: {}\ncomponents:\n  schemas:\n    FileDTO:\n      type: object\n    FileDto:\n      type: object\n      properties:\n        next: { $ref: '#/components/schemas/FileDto' }\n    FileDto2: { type: string }\n";
    let spec = Spec::parse("ok.yaml", text.to_owned()).unwrap();
    // `FileDto2` is taken, by a schema of that name: the renamed one is the next free name.
    let renamed: Vec<(&str, &str)> = spec.renamed.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(renamed, [("FileDto3", "FileDto")]);
    let schemas = &spec.raw["components"]["schemas"];
    let keys: Vec<&str> = schemas.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.contains(&"FileDTO") && keys.contains(&"FileDto3") && keys.contains(&"FileDto2"));
    assert_eq!(
        schemas["FileDto3"]["properties"]["next"]["$ref"],
        "#/components/schemas/FileDto3"
    );
    // Messages about the renamed schema point at the lines where it is written.
    assert_eq!(spec.at("/components/schemas/FileDto3"), "ok.yaml:8");
    assert_eq!(spec.at("/components/schemas/FileDto3/properties/next"), "ok.yaml:11");
}
