//! The generator as its users meet it: each fixture spec lowers to the IR in its snapshot (the generated Rust of
//! each fixture is committed once, under `tests/src/fixtures/`, and compiled there); every unsupported construct is
//! refused with one line naming the operation and `file:line`; output is deterministic.

use std::path::{Path, PathBuf};

use stub_gen::{Replacement, Settings, Spec, Types};

fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut list: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| (path.file_stem().unwrap().to_string_lossy().into_owned(), path))
        .collect();
    list.sort();
    list
}

fn parse(path: &Path) -> Spec {
    let text = std::fs::read_to_string(path).unwrap();
    let name = format!("tests/fixtures/{}", path.file_name().unwrap().to_string_lossy());
    Spec::parse(&name, text).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn fixtures_lower_to_their_ir() {
    for (name, path) in fixtures() {
        let api =
            stub_gen::lower::lower(&parse(&path), None, &Settings::default()).unwrap_or_else(|err| panic!("{err}"));
        insta::assert_debug_snapshot!(format!("ir__{name}"), api);
    }
}

#[test]
fn no_unreferenced_snapshots() {
    let mut expected: Vec<String> = fixtures()
        .into_iter()
        .map(|(name, _)| format!("generator__ir__{name}.snap"))
        .collect();
    expected.push("generator__refusals.snap".to_owned());
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut stale: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !expected.contains(name))
        .collect();
    stale.sort();
    assert!(
        stale.is_empty(),
        "unreferenced snapshots in {}: {stale:?}",
        dir.display()
    );
}

#[test]
fn output_is_deterministic() {
    let settings = Settings {
        replacements: vec![Replacement {
            schema: "Thing".to_owned(),
            path: "crate::Thing".to_owned(),
        }],
        ..Settings::default()
    };
    for (name, path) in fixtures() {
        let spec = parse(&path);
        let api = || stub_gen::lower::lower(&spec, None, &settings).unwrap();
        let tokens = || stub_gen::emit::emit(&api(), &settings).to_string();
        assert_eq!(api(), api(), "{name}: two lowerings differ");
        assert_eq!(tokens(), tokens(), "{name}: two emissions differ");
    }
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

/// (name, operation YAML, components YAML): each must be refused; the messages are the snapshot.
fn refusals() -> Vec<(&'static str, String, String)> {
    let body = |schema: &str| {
        format!("requestBody:\n  content:\n    application/json:\n      schema: {schema}\n{OK_RESPONSE}")
    };
    // A body in one media type whose schema is `schema`.
    let media = |media: &str, schema: &str| {
        format!("requestBody:\n  content:\n    {media}:\n      schema: {schema}\n{OK_RESPONSE}")
    };
    let thing = "{ $ref: '#/components/schemas/Thing' }";
    let param = |yaml: &str| format!("parameters:\n  - {yaml}\n{OK_RESPONSE}");
    vec![
        ("multipart/mixed body", media("multipart/mixed", thing), THING.into()),
        (
            "form body with an object in an object field",
            media("application/x-www-form-urlencoded", "{ $ref: '#/components/schemas/Outer' }"),
            "schemas:\n  Outer: { type: object, properties: { inner: { $ref: '#/components/schemas/Thing' } } }\n  Thing: { type: object, properties: { deeper: { type: object } } }\n".into(),
        ),
        (
            "form object field in the form style",
            format!(
                "requestBody:\n  content:\n    application/x-www-form-urlencoded:\n      schema: {{ $ref: '#/components/schemas/Outer' }}\n      encoding:\n        inner: {{ style: form }}\n{OK_RESPONSE}"
            ),
            "schemas:\n  Outer: { type: object, properties: { inner: { type: object } } }\n".into(),
        ),
        (
            "form body with a scalar schema",
            media("application/x-www-form-urlencoded", "{ type: string }"),
            THING.into(),
        ),
        (
            "one media type twice",
            format!(
                "requestBody:\n  content:\n    application/json:\n      schema: {thing}\n    application/json; charset=utf-8:\n      schema: {thing}\n{OK_RESPONSE}"
            ),
            THING.into(),
        ),
        ("body without media types", format!("requestBody:\n  content: {{}}\n{OK_RESPONSE}"), THING.into()),
        (
            "bad pattern",
            body("{ $ref: '#/components/schemas/Code' }"),
            "schemas:\n  Code: { type: string, pattern: '(unclosed' }\n".into(),
        ),
        (
            "keywords that fit no type",
            body("{ $ref: '#/components/schemas/Odd' }"),
            "schemas:\n  Odd: { minimum: 1, pattern: 'x' }\n".into(),
        ),
        (
            "an http scheme that is not one word",
            format!("security:\n  - odd: []\n{OK_RESPONSE}"),
            format!("{THING}securitySchemes:\n  odd: {{ type: http, scheme: 'two words' }}\n"),
        ),
        (
            "undefined security scheme",
            format!("security:\n  - nowhere: []\n{OK_RESPONSE}"),
            format!("{THING}securitySchemes:\n  bearer: {{ type: http, scheme: bearer }}\n"),
        ),
        ("label path style", param("{ name: id, in: path, required: true, style: label, schema: { type: string } }"), THING.into()),
        ("cookie object", param("{ name: filter, in: cookie, schema: { $ref: '#/components/schemas/Thing' } }"), THING.into()),
        (
            "composed parameter of objects",
            param("{ name: q, in: query, schema: { oneOf: [{ type: string }, { $ref: '#/components/schemas/Thing' }] } }"),
            THING.into(),
        ),
        (
            "header object with a nested property",
            param("{ name: X-Thing, in: header, schema: { $ref: '#/components/schemas/Nested' } }"),
            "schemas:\n  Nested: { type: object, properties: { inner: { type: object } } }\n".into(),
        ),
        ("deepObject scalar", param("{ name: q, in: query, style: deepObject, schema: { type: string } }"), THING.into()),
        (
            "deepObject nested property",
            param("{ name: q, in: query, style: deepObject, schema: { $ref: '#/components/schemas/Nested' } }"),
            "schemas:\n  Nested: { type: object, properties: { inner: { type: object } } }\n".into(),
        ),
        (
            "array of arrays parameter",
            param("{ name: m, in: query, schema: { type: array, items: { type: array, items: { type: integer } } } }"),
            THING.into(),
        ),
        (
            "exploded cookie array",
            param("{ name: ids, in: cookie, schema: { type: array, items: { type: integer } } }"),
            THING.into(),
        ),
        (
            "non-JSON parameter content",
            param("{ name: q, in: query, content: { text/plain: { schema: { type: string } } } }"),
            THING.into(),
        ),
    ]
}

#[test]
fn unsupported_constructs_are_refused_in_one_line() {
    let mut report = String::new();
    for (name, operation, components) in refusals() {
        let text = spec(&operation, &components);
        let spec = Spec::parse("bad.yaml", text.clone()).unwrap_or_else(|err| panic!("{name}: {err}"));
        let err = match stub_gen::check(&spec, &Settings::default()) {
            Ok(()) => panic!("{name}: accepted\n{text}"),
            Err(err) => err.to_string(),
        };
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("bad.yaml:"), "{name}: no file:line in {err}");
        report.push_str(&format!("{name}: {err}\n"));
        // The full generator refuses the same way.
        let full = stub_gen::generate(&spec, &Types::default(), &Settings::default())
            .map(drop)
            .unwrap_err();
        assert_eq!(full.to_string(), err, "{name}");
    }
    insta::assert_snapshot!("refusals", report);
}

#[test]
fn bad_settings_are_refused() {
    let spec = parse(&fixtures()[0].1);
    for settings in [
        Settings {
            runtime: "not a path".into(),
            ..Settings::default()
        },
        Settings {
            api_trait: "two words".into(),
            ..Settings::default()
        },
        Settings {
            replacements: vec![Replacement {
                schema: "X".into(),
                path: "::".into(),
            }],
            ..Settings::default()
        },
    ] {
        let err = stub_gen::check(&spec, &settings).unwrap_err().to_string();
        assert!(err.starts_with("settings: "), "{err}");
    }
}

/// `Accept` and `Content-Type` header parameters, and `Authorization` where a security scheme reads it, are ignored,
/// as OpenAPI says; an `Authorization` parameter of an unsecured operation stays a parameter.
#[test]
fn reserved_header_parameters_are_ignored() {
    let header = |name: &str| format!("  - {{ name: {name}, in: header, schema: {{ type: string }} }}\n");
    let cases = [
        ("", "Accept", false),
        ("", "content-type", false),
        ("security:\n  - bearer: []\n", "Authorization", false),
        ("", "Authorization", true),
        ("", "X-Trace", true),
    ];
    for (security, name, kept) in cases {
        let operation = format!("{security}parameters:\n{}{OK_RESPONSE}", header(name));
        let components = format!("{THING}securitySchemes:\n  bearer: {{ type: http, scheme: bearer }}\n");
        let spec = Spec::parse("ok.yaml", spec(&operation, &components)).unwrap();
        let api = stub_gen::lower::lower(&spec, None, &Settings::default()).unwrap();
        let params: Vec<&str> = api.operations[0].params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(params.contains(&name), kept, "{security}{name}: {params:?}");
    }
}

#[test]
fn items_lowered_without_the_type_space_are_checked_against_it() {
    let settings = Settings::default();
    for (name, path) in fixtures() {
        let spec = parse(&path);
        let api = stub_gen::lower::lower(&spec, None, &settings).unwrap();
        assert_eq!(
            stub_gen::check_type_names(&spec, &api, &api.type_refs, &settings),
            Ok(()),
            "{name}"
        );
        // Each type the items name, missing from the type space: refused as lowering with the names refuses it.
        for missing in &api.type_refs {
            let mut names = api.type_refs.clone();
            names.remove(missing);
            let err = stub_gen::check_type_names(&spec, &api, &names, &settings).unwrap_err();
            let lowered = stub_gen::lower::lower(&spec, Some(&names), &settings).unwrap_err();
            assert_eq!(err, lowered, "{name}: {missing}");
            assert!(
                err.to_string().contains(&format!("no type `{missing}`")),
                "{name}: {err}"
            );
        }
    }
}

#[test]
fn the_items_pieces_printed_in_order_are_the_items() {
    let settings = Settings::default();
    // Every fixture, and a spec of twenty operations (several pieces of operations).
    let mut specs: Vec<(String, Spec)> = fixtures()
        .into_iter()
        .map(|(name, path)| (name, parse(&path)))
        .collect();
    let paths: String = (0..20)
        .map(|i| {
            format!(
                "  /things/{i}:
    get:
      operationId: get_thing_{i}
      responses:
        '204': {{ description: none }}
"
            )
        })
        .collect();
    let text = format!("openapi: 3.0.3\ninfo: {{ title: Many, version: 0.1.0 }}\npaths:\n{paths}");
    specs.push(("twenty operations".to_owned(), Spec::parse("many.yaml", text).unwrap()));
    for (name, spec) in specs {
        let api = stub_gen::lower::lower(&spec, None, &settings).unwrap();
        let whole = prettyplease::unparse(&stub_gen::items_file(&spec, &api, &settings).unwrap());
        let pieces: String = (0..stub_gen::emit::pieces(&api))
            .map(|index| prettyplease::unparse(&stub_gen::items_piece(&spec, &api, &settings, index).unwrap()))
            .collect();
        assert_eq!(pieces, whole, "{name}");
        assert!(whole.contains("fn router<"), "{name}");
    }
}
