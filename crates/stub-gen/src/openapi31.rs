//! OpenAPI 3.1 (and 3.2 where it uses only what 3.1 has) lowered, where nothing is lost, to the OpenAPI 3.0 that
//! `openapiv3`, typify and progenitor read; anything else is refused in one line naming the construct and `file:line`.
//! It runs on the document as read, before the repairs ([`crate::repair`]) and before `openapiv3` parses it, so every
//! generator (client, CLI, mocks, stub) reads the one lowered document. Nodes it does not touch keep their JSON
//! pointers, so messages of later stages still point at the text as written; the few it moves (`$defs`,
//! `components.pathItems`) are recorded, and [`crate::Spec::at`] finds them where they are written.
//!
//! In a schema:
//! - `type: [T, "null"]` is `type: T, nullable: true`; several non-null types are an `anyOf` of one schema per type,
//!   each carrying its own keywords (`minLength` goes with `string`), the rest staying beside the `anyOf`; with an
//!   `enum` that implies them, the types are left out (an untyped `enum` is held to its values);
//! - `anyOf`/`oneOf` with a null option (`{type: "null"}`, pydantic's `Optional[X]`) is nullable: with one other
//!   option `X`, a `$ref` becomes `{nullable: true, allOf: [{$ref}]}` and an inline `X` is merged into its parent;
//! - `const: v` is `enum: [v]` plus [`CONST`]`: v`, which the stub's validator reads to report pydantic's
//!   `literal_error` rather than `enum`;
//! - numeric `exclusiveMinimum`/`exclusiveMaximum` are `minimum`/`maximum` with `exclusiveMinimum: true` (the tighter
//!   bound wins beside an inclusive one), which the stub reports as `greater_than`/`less_than`;
//! - `examples: [a, …]` is `example: a`; `$comment`, `$id`, `$anchor`, `$dynamicAnchor` and a `$schema` of the
//!   default dialect go;
//! - `$defs` are hoisted to `components.schemas` (under their own name, or `{name}2`, … when taken), and `$ref`s to
//!   them follow;
//! - a `$ref` with sibling annotations (`description`, `summary`, `title`, `default`, examples, …) keeps only the
//!   `$ref`, as 3.0 reads it; with sibling constraints it is `allOf: [{$ref}, {the constraints}]`, as 2020-12 reads
//!   it;
//! - `contentEncoding: base64` is `format: byte`; `contentMediaType` of anything but text or JSON is
//!   `format: binary`;
//! - `true` is `{}` and `false` is `{not: {}}`;
//! - `unevaluatedProperties` is the `additionalProperties` that says the same where the properties each member of
//!   a composition beside it evaluates are known (see [`unevaluated`]), and refused otherwise;
//! - refused: `prefixItems`, `if`/`then`/`else`, `dependentRequired`, `dependentSchemas`, `patternProperties`,
//!   `propertyNames`, `contains`, `unevaluatedItems` (unless `true`), a `const` of an object or array;
//! - `$dynamicRef` is resolved statically where the document is a generic schema and its binding sites (see
//!   [`dynamic`]), each site a copy of the generic with its binding in place; refused otherwise;
//! - a schema whose only type is `null` is `nullable: true, enum: [null]`.
//!
//! In the document: `webhooks` are accepted and not generated (requests this server would make, like callbacks);
//! path items `$ref`'d from `components.pathItems` are written in place; a document without `paths` has none;
//! `info.summary`, `license.identifier` and 3.2's `$self` go; `jsonSchemaDialect` is accepted when it is the default
//! and refused otherwise; a `mutualTLS` security scheme is an `http` one marked [`MUTUAL_TLS`] (the stub
//! cannot see the certificate, which the TLS layer before it checks: see `stub_runtime::SchemeKind::MutualTls`); an operation without `responses` gets a `default` response with an empty
//! description and no content (the implementer chooses any status). Of 3.2: a response without a `description` gets
//! an empty one; `query` and `additionalOperations` operations, `in: querystring` parameters, `itemSchema` (streamed
//! media types) and `components.mediaTypes` are refused.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::Error;
use crate::repair;
use crate::spec::{percent_decode, pointer};

mod dynamic;
mod unevaluated;

/// The extension the lowering adds beside the `enum: [v]` of a `const: v`: the stub validates it as a literal.
pub(crate) const CONST: &str = "x-stub-const";

/// The extension that marks the 3.0 stand-in of a `mutualTLS` security scheme (an `http` scheme, which no generator
/// reads as one: progenitor ignores security schemes, and the stub reads the mark).
pub(crate) const MUTUAL_TLS: &str = "x-stub-mutual-tls";

/// The dialects whose schemas are the ones lowered here.
const DEFAULT_DIALECTS: [&str; 3] = [
    "https://spec.openapis.org/oas/3.1/dialect/base",
    "https://spec.openapis.org/oas/3.1/dialect/2024-10-25",
    "https://spec.openapis.org/oas/3.2/dialect/base",
];

/// Keywords refused in a schema, each with why.
const REFUSED: [(&str, &str); 8] = [
    ("prefixItems", "OpenAPI 3.0, which the generators read, has no tuples"),
    ("if", "conditional schemas have no OpenAPI 3.0 form"),
    ("dependentRequired", "conditional requirements have no OpenAPI 3.0 form"),
    ("dependentSchemas", "conditional schemas have no OpenAPI 3.0 form"),
    (
        "patternProperties",
        "properties chosen by a pattern have no OpenAPI 3.0 form",
    ),
    (
        "propertyNames",
        "constraints on property names have no OpenAPI 3.0 form",
    ),
    ("contains", "OpenAPI 3.0 has no `contains`"),
    ("unevaluatedItems", "OpenAPI 3.0 has no `unevaluatedItems`"),
];

/// Keywords that only annotate: beside a `$ref` they are dropped, as 3.0 readers drop them.
const ANNOTATIONS: [&str; 10] = [
    "description",
    "summary",
    "title",
    "default",
    "example",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
];

/// The keywords that move to the option of type `ty` when a schema of several types is split: those that constrain
/// only that type (the repairs' table), and `discriminator`, which only an object option can use.
fn split_keywords(ty: &str) -> impl Iterator<Item = &'static str> {
    let object_only: &[&str] = if ty == "object" { &["discriminator"] } else { &[] };
    repair::type_keywords(ty).iter().chain(object_only).copied()
}

/// Lowers a 3.1 or 3.2 document (`raw`) to 3.0 in place; `at` gives `file:line` of a JSON pointer. Returns the nodes
/// it moved: (pointer prefix now, pointer prefix as written).
pub(crate) fn lower(raw: &mut Value, at: &dyn Fn(&str) -> String) -> Result<Vec<(String, String)>, Error> {
    let mut lowering = Lowering {
        at,
        hoisted: Vec::new(),
        schemas: Map::new(),
    };
    lowering.dynamic_refs(raw)?;
    if let Some(Value::Object(schemas)) = raw.pointer("/components/schemas") {
        lowering.schemas = schemas.clone();
    }
    let Value::Object(doc) = raw else {
        return Ok(Vec::new());
    };
    if let Some(dialect) = doc.remove("jsonSchemaDialect")
        && !dialect.as_str().is_some_and(|d| DEFAULT_DIALECTS.contains(&d))
    {
        return Err(lowering.fail(
            "/jsonSchemaDialect",
            format!("`jsonSchemaDialect: {dialect}` is not supported; only the OpenAPI default dialect is read"),
        ));
    }
    doc.insert("openapi".to_owned(), json!("3.0.3"));
    // Requests this server would make, like callbacks: documented, not generated.
    doc.remove("webhooks");
    doc.remove("$self");
    doc.entry("paths").or_insert_with(|| json!({}));
    if let Some(Value::Object(info)) = doc.get_mut("info") {
        info.remove("summary");
        if let Some(Value::Object(license)) = info.get_mut("license") {
            license.remove("identifier");
        }
    }
    if let Some(Value::Object(components)) = doc.get_mut("components") {
        if components.contains_key("mediaTypes") {
            return Err(lowering.fail(
                "/components/mediaTypes",
                "`components.mediaTypes` (OpenAPI 3.2) is not supported",
            ));
        }
        if let Some(Value::Object(schemes)) = components.get_mut("securitySchemes") {
            for scheme in schemes.values_mut() {
                if let Value::Object(fields) = scheme
                    && fields.get("type").and_then(Value::as_str) == Some("mutualTLS")
                {
                    fields.insert("type".to_owned(), json!("http"));
                    fields.insert("scheme".to_owned(), json!("mutual-tls"));
                    fields.insert(MUTUAL_TLS.to_owned(), json!(true));
                }
            }
        }
    }
    lowering.document(raw, &mut String::new())?;
    let mut moved = lowering.hoist_defs(raw);
    moved.extend(inline_path_items(raw));
    Ok(moved)
}

struct Lowering<'a> {
    at: &'a dyn Fn(&str) -> String,
    /// `$defs` taken out of their schemas: (pointer as written, the schema).
    hoisted: Vec<(String, Value)>,
    /// `components.schemas` as written, for following a `$ref` member beside `unevaluatedProperties`.
    schemas: Map<String, Value>,
}

/// `pointer` with one more (unescaped) segment.
fn child(pointer: &str, segment: &str) -> String {
    format!("{pointer}/{}", crate::spec::escape(segment))
}

impl Lowering<'_> {
    fn fail(&self, pointer: &str, msg: impl std::fmt::Display) -> Error {
        Error::new(format!("{}: {msg}", (self.at)(pointer)))
    }

    fn refuse(&self, pointer: &str, keyword: &str, why: &str) -> Error {
        self.fail(
            pointer,
            format!("`{keyword}` in the schema at {pointer} is not supported: {why}"),
        )
    }

    /// Everything that is not a schema: finds the schemas (under `schema`, `components.schemas`) and the 3.2
    /// constructs; examples and extensions are data.
    fn document(&mut self, node: &mut Value, at: &mut String) -> Result<(), Error> {
        match node {
            Value::Object(map) => {
                if map.get("in").and_then(Value::as_str) == Some("querystring") {
                    return Err(self.fail(at, "a parameter `in: querystring` (OpenAPI 3.2) is not supported"));
                }
                for key in ["query", "additionalOperations"] {
                    if map
                        .get(key)
                        .is_some_and(|op| op.get("responses").is_some() || key != "query")
                    {
                        return Err(self.fail(
                            &child(at, key),
                            format!("`{key}` operations (OpenAPI 3.2) are not supported"),
                        ));
                    }
                }
                if map.contains_key("itemSchema") {
                    return Err(self.fail(
                        &child(at, "itemSchema"),
                        "`itemSchema` (OpenAPI 3.2 streamed media types) is not supported",
                    ));
                }
                let in_responses = at.ends_with("/responses");
                let in_schemas = at == "/components/schemas";
                let in_path_item = is_path_item(at);
                for (key, value) in map.iter_mut() {
                    let len = at.len();
                    *at = child(at, key);
                    // OpenAPI 3.1 made an operation's `responses` optional; 3.0 requires one. A `default` response
                    // without content says what the document says: any status, no body promised.
                    if in_path_item
                        && METHODS.contains(&key.as_str())
                        && let Value::Object(operation) = value
                    {
                        operation
                            .entry("responses")
                            .or_insert_with(|| json!({ "default": { "description": "" } }));
                    }
                    match key.as_str() {
                        _ if in_schemas => self.schema(value, at)?,
                        "schema" => self.schema(value, at)?,
                        "example" | "examples" => {}
                        key if key.starts_with("x-") => {}
                        _ => {
                            // OpenAPI 3.2 made a response's description optional; 3.0 requires it.
                            if in_responses
                                && let Value::Object(response) = value
                                && !response.contains_key("$ref")
                            {
                                response.entry("description").or_insert_with(|| json!(""));
                            }
                            self.document(value, at)?;
                        }
                    }
                    at.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let len = at.len();
                    *at = child(at, &i.to_string());
                    self.document(item, at)?;
                    at.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// One schema, lowered in place: refusals first, then the null options of `anyOf`/`oneOf`, then the schemas
    /// inside it, then its own keywords.
    fn schema(&mut self, node: &mut Value, at: &str) -> Result<(), Error> {
        let map = match node {
            Value::Bool(true) => {
                *node = json!({});
                return Ok(());
            }
            Value::Bool(false) => {
                *node = json!({ "not": {} });
                return Ok(());
            }
            Value::Object(map) => map,
            _ => return Ok(()),
        };
        for (keyword, why) in REFUSED {
            if map.contains_key(keyword) && !(keyword == "unevaluatedItems" && map[keyword] == json!(true)) {
                return Err(self.refuse(at, keyword, why));
            }
        }
        self.unevaluated_properties(map, at)?;
        let nullable = strip_null_options(map);
        self.subschemas(map, at)?;
        if let Some(Value::Object(defs)) = map.remove("$defs") {
            for (name, def) in defs {
                self.hoisted.push((child(&child(at, "$defs"), &name), def));
            }
        }
        self.keywords(map, at)?;
        if let Some(key) = nullable {
            self.collapse_nullable(map, key, at)?;
        }
        Ok(())
    }

    /// The schemas inside a schema.
    fn subschemas(&mut self, map: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
        for (key, value) in map.iter_mut() {
            let at = child(at, key);
            match (key.as_str(), value) {
                ("properties" | "$defs", Value::Object(schemas)) => {
                    for (name, schema) in schemas.iter_mut() {
                        self.schema(schema, &child(&at, name))?;
                    }
                }
                ("allOf" | "anyOf" | "oneOf", Value::Array(schemas)) => {
                    for (i, schema) in schemas.iter_mut().enumerate() {
                        self.schema(schema, &child(&at, &i.to_string()))?;
                    }
                }
                // `additionalProperties: false` is 3.0 as it is.
                ("additionalProperties", value @ Value::Object(_)) | ("items" | "not", value) => {
                    self.schema(value, &at)?
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// A schema's own keywords.
    fn keywords(&self, map: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
        for key in ["$comment", "$id", "$anchor", "$dynamicAnchor"] {
            map.remove(key);
        }
        if let Some(dialect) = map.remove("$schema")
            && !dialect.as_str().is_some_and(|d| DEFAULT_DIALECTS.contains(&d))
        {
            return Err(self.refuse(at, "$schema", "only the OpenAPI default dialect is read"));
        }
        if let Some(Value::Array(examples)) = map.get("examples") {
            if let Some(first) = examples.first().cloned() {
                map.entry("example").or_insert(first);
            }
            map.remove("examples");
        }
        self.constant(map, at)?;
        for (exclusive, inclusive, tighter) in [
            ("exclusiveMinimum", "minimum", f64::ge as fn(&f64, &f64) -> bool),
            ("exclusiveMaximum", "maximum", f64::le),
        ] {
            if let Some(bound) = map.get(exclusive).filter(|b| b.is_number()).cloned() {
                map.remove(exclusive);
                let inclusive_bound = map.get(inclusive).and_then(Value::as_f64);
                if inclusive_bound.is_none_or(|i| tighter(&bound.as_f64().unwrap_or_default(), &i)) {
                    map.insert(inclusive.to_owned(), bound);
                    map.insert(exclusive.to_owned(), json!(true));
                }
            }
        }
        content_keywords(map);
        self.types(map, at)?;
        ref_siblings(map);
        Ok(())
    }

    /// `const: v` -> `enum: [v]` and [`CONST`]`: v`.
    fn constant(&self, map: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
        let Some(value) = map.remove("const") else {
            return Ok(());
        };
        match &value {
            Value::Null => return Err(self.refuse(at, "const: null", "a value that is always null has no type")),
            Value::Array(_) | Value::Object(_) => {
                return Err(self.refuse(at, "const", "only a string, number or boolean can be a constant here"));
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = map.get("enum")
            && !values.contains(&value)
        {
            return Err(self.refuse(at, "const", "its value is not in the `enum` beside it"));
        }
        map.insert("enum".to_owned(), json!([value.clone()]));
        map.insert(CONST.to_owned(), value);
        Ok(())
    }

    /// A `type` array: one type (and `nullable`), or an `anyOf` of one schema per type.
    fn types(&self, map: &mut Map<String, Value>, at: &str) -> Result<(), Error> {
        let Some(Value::Array(types)) = map.get("type") else {
            if map.get("type").and_then(Value::as_str) == Some("null") {
                return self.only_null(map, at, "type: null");
            }
            return Ok(());
        };
        let mut named: Vec<String> = Vec::new();
        for t in types.iter().filter_map(Value::as_str) {
            if !named.iter().any(|n| n == t) {
                named.push(t.to_owned());
            }
        }
        let null = named.iter().any(|t| t == "null");
        named.retain(|t| t != "null");
        map.remove("type");
        if null {
            map.insert("nullable".to_owned(), json!(true));
        }
        match named.as_slice() {
            [] => self.only_null(map, at, "type: [null]"),
            [one] => {
                map.insert("type".to_owned(), json!(one));
                Ok(())
            }
            // An enum says which values, and so which types: it alone is the schema.
            _ if map.contains_key("enum") => Ok(()),
            several => {
                let mut options = Vec::new();
                for t in several {
                    let mut option = Map::new();
                    option.insert("type".to_owned(), json!(t));
                    for keyword in split_keywords(t) {
                        if let Some(value) = map.get(keyword) {
                            option.insert(keyword.to_owned(), value.clone());
                        }
                    }
                    options.push(Value::Object(option));
                }
                for (ty, _) in repair::TYPE_KEYWORDS {
                    for keyword in split_keywords(ty) {
                        map.remove(keyword);
                    }
                }
                if map.contains_key("anyOf") {
                    let all_of = map.entry("allOf").or_insert_with(|| json!([]));
                    if let Value::Array(parts) = all_of {
                        parts.push(json!({ "anyOf": options }));
                    }
                } else {
                    map.insert("anyOf".to_owned(), Value::Array(options));
                }
                Ok(())
            }
        }
    }

    /// A schema whose only type is `null`: `nullable: true, enum: [null]`, 3.0's way to say that the value is always
    /// null (typify reads it as a unit value, the validator holds it to the enum).
    fn only_null(&self, map: &mut Map<String, Value>, at: &str, keyword: &str) -> Result<(), Error> {
        if map.contains_key("enum") {
            return Err(self.refuse(at, keyword, "beside an `enum` it has no OpenAPI 3.0 form"));
        }
        map.remove("type");
        map.insert("nullable".to_owned(), json!(true));
        map.insert("enum".to_owned(), json!([null]));
        Ok(())
    }

    /// After its null options went (`key` says from which), the rest of an `anyOf`/`oneOf`: one option is the
    /// schema, nullable; several stay, nullable.
    fn collapse_nullable(&self, map: &mut Map<String, Value>, key: &str, at: &str) -> Result<(), Error> {
        map.insert("nullable".to_owned(), json!(true));
        let Some(Value::Array(options)) = map.get(key) else {
            return Ok(());
        };
        match options.as_slice() {
            [] => Err(self.refuse(at, key, "its only option is `null`, a value that has no type")),
            [_] => {
                let Some(Value::Array(mut options)) = map.remove(key) else {
                    return Ok(());
                };
                let option = options.remove(0);
                let Value::Object(inline) = &option else {
                    return Ok(());
                };
                let clash = inline.iter().any(|(k, v)| {
                    map.get(k)
                        .is_some_and(|mine| mine != v && !ANNOTATIONS.contains(&k.as_str()))
                });
                if inline.contains_key("$ref") || clash {
                    let all_of = map.entry("allOf").or_insert_with(|| json!([]));
                    if let Value::Array(parts) = all_of {
                        parts.push(option);
                    }
                } else {
                    for (k, v) in inline {
                        // The outer annotations (pydantic writes the field's title and default there) win.
                        map.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Moves every hoisted `$defs` schema to `components.schemas` and points the `$ref`s to it there.
    fn hoist_defs(&mut self, raw: &mut Value) -> Vec<(String, String)> {
        if self.hoisted.is_empty() {
            return Vec::new();
        }
        let mut moved = Vec::new();
        let mut targets: BTreeMap<String, String> = BTreeMap::new();
        let doc = raw.as_object_mut().expect("a document is an object");
        let components = doc.entry("components").or_insert_with(|| json!({}));
        let schemas = components
            .as_object_mut()
            .map(|c| c.entry("schemas").or_insert_with(|| json!({})));
        let Some(Value::Object(schemas)) = schemas else {
            return Vec::new();
        };
        for (written, schema) in std::mem::take(&mut self.hoisted) {
            let name = crate::spec::unescape(written.rsplit('/').next().unwrap_or(""));
            let free = (1..)
                .map(|n| if n == 1 { name.clone() } else { format!("{name}{n}") })
                .find(|candidate| !schemas.contains_key(candidate))
                .unwrap_or_default();
            let now = pointer(&["components", "schemas", &free]);
            targets.insert(format!("#{written}"), format!("#{now}"));
            moved.push((now, written));
            schemas.insert(free, schema);
        }
        retarget_refs(raw, &targets);
        moved
    }
}

/// The operations of a path item, by their key.
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Whether the JSON pointer `at` is a path item: under `paths`, `components.pathItems` or a callback.
fn is_path_item(at: &str) -> bool {
    let segments: Vec<&str> = at.split('/').skip(1).collect();
    matches!(segments.as_slice(), ["paths", _] | ["components", "pathItems", _])
        || matches!(segments.as_slice(), [.., "callbacks", _, _])
}

/// Whether an `anyOf`/`oneOf` option admits only `null` (pydantic's `Optional[X]` writes `{type: 'null'}`).
fn is_null_option(option: &Value) -> bool {
    option.get("type") == Some(&json!("null"))
        || option.get("type") == Some(&json!(["null"]))
        || option.get("const") == Some(&Value::Null)
        || option.get("enum") == Some(&json!([null]))
}

/// Takes the null options out of `anyOf`/`oneOf`; returns the key when there were some.
fn strip_null_options(map: &mut Map<String, Value>) -> Option<&'static str> {
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = map.get_mut(key)
            && options.iter().any(is_null_option)
        {
            options.retain(|option| !is_null_option(option));
            return Some(key);
        }
    }
    None
}

/// `contentEncoding` / `contentMediaType` -> the 3.0 `format` of a string.
fn content_keywords(map: &mut Map<String, Value>) {
    let encoding = map.remove("contentEncoding");
    let media = map.remove("contentMediaType");
    map.remove("contentSchema");
    if encoding.is_none() && media.is_none() {
        return;
    }
    map.entry("type").or_insert_with(|| json!("string"));
    let format = match (&encoding, &media) {
        (Some(encoding), _) => matches!(encoding.as_str(), Some("base64" | "base64url")).then_some("byte"),
        (None, Some(media)) => {
            let media = media.as_str().unwrap_or("").to_ascii_lowercase();
            let text = media.starts_with("text/") || media == "application/json" || media.ends_with("+json");
            (!text).then_some("binary")
        }
        (None, None) => None,
    };
    if let Some(format) = format {
        map.entry("format").or_insert_with(|| json!(format));
    }
}

/// A `$ref` with siblings: annotations go, as 3.0 reads them; constraints apply beside the reference, as 2020-12
/// reads them.
fn ref_siblings(map: &mut Map<String, Value>) {
    if !map.contains_key("$ref") || map.len() == 1 {
        return;
    }
    map.retain(|key, _| !ANNOTATIONS.contains(&key.as_str()));
    if map.keys().all(|key| key == "$ref" || key.starts_with("x-")) {
        map.retain(|key, _| key == "$ref");
        return;
    }
    let reference = map.remove("$ref").unwrap_or_default();
    let constraints = std::mem::take(map);
    map.insert("allOf".to_owned(), json!([{ "$ref": reference }, constraints]));
}

/// Rewrites `$ref`s at or under a moved pointer (`targets`: old `#pointer` -> new `#pointer`).
fn retarget_refs(node: &mut Value, targets: &BTreeMap<String, String>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                let decoded = percent_decode(reference);
                // The longest: a `$defs` inside a hoisted `$defs` schema moved on its own.
                let target = targets
                    .iter()
                    .filter(|(old, _)| {
                        decoded == **old
                            || decoded
                                .strip_prefix(old.as_str())
                                .is_some_and(|rest| rest.starts_with('/'))
                    })
                    .max_by_key(|(old, _)| old.len());
                if let Some((old, new)) = target {
                    *reference = format!("{new}{}", &decoded[old.len()..]);
                }
            }
            map.values_mut().for_each(|value| retarget_refs(value, targets));
        }
        Value::Array(items) => items.iter_mut().for_each(|item| retarget_refs(item, targets)),
        _ => {}
    }
}

/// Path items `$ref`'d from `components.pathItems` written in place (the client's generator reads only inline path
/// items); returns where each now is and where it is written.
fn inline_path_items(raw: &mut Value) -> Vec<(String, String)> {
    let mut moved = Vec::new();
    let items = raw.pointer("/components/pathItems").cloned();
    let Some(Value::Object(paths)) = raw.get_mut("paths") else {
        return moved;
    };
    for (path, item) in paths.iter_mut() {
        let Some(target) = item.get("$ref").and_then(Value::as_str).map(percent_decode) else {
            continue;
        };
        let Some(name) = target.strip_prefix("#/components/pathItems/") else {
            continue;
        };
        let name = crate::spec::unescape(name);
        if let Some(found) = items.as_ref().and_then(|items| items.get(&name)) {
            *item = found.clone();
            moved.push((pointer(&["paths", path]), pointer(&["components", "pathItems", &name])));
        }
    }
    moved
}

#[cfg(test)]
#[path = "openapi31_tests.rs"]
mod tests;
