//! The intermediate representation between reading and emitting: plain data about operations, parameters, bodies,
//! responses and the checks their schemas imply. Lowering ([`crate::lower`]) builds it and does every refusal;
//! emitting ([`crate::emit`]) turns it into tokens and cannot fail.

use std::collections::{BTreeMap, BTreeSet};

/// Everything the stub of one spec needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// In spec order (paths, then methods in `openapiv3`'s order).
    pub operations: Vec<Operation>,
    /// The validators of the component schemas that requests reach, by component name.
    pub validators: BTreeMap<String, Check>,
    /// Inline schemas that need a type name, by the name progenitor gives them (`{operationId}-body`,
    /// `-response`, …, sanitized): the type space must define each (see [`crate::type_document`]).
    pub inline_types: Vec<(String, openapiv3::Schema)>,
    /// typify's names of the schema types the stub refers to (components and hoisted inline schemas): the type
    /// space must define each (see [`crate::check_type_names`]).
    pub type_refs: BTreeSet<String>,
}

/// One operation.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    /// The operationId; the trait method is its snake case.
    pub id: String,
    /// The axum route (`/things/{id}`).
    pub path: String,
    /// The HTTP method.
    pub method: Method,
    /// Summary and description, for the trait method's docs.
    pub doc: String,
    /// Who may call it; `None` when no credentials are read (`authenticate` does not run).
    pub security: Option<Security>,
    /// Path, query, header and cookie parameters; operation-level ones override path-level ones.
    pub params: Vec<Param>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// The documented answers that are variants of the operation's response enum.
    pub responses: Vec<Response>,
    /// Documented statuses whose body is the envelope: answered by returning a `Rejection`.
    pub rejections: Vec<Status>,
}

/// An HTTP method that an OpenAPI 3.0 path item can hold an operation for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Put,
    Post,
    Delete,
    Options,
    Head,
    Patch,
    Trace,
}

impl Method {
    /// Every method, in the order of a path item's fields (`openapiv3`'s, so operations keep the order they had).
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// Its key in a path item, lower case (`get`): also its name in JSON pointers and default operationIds.
    pub fn key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Put => "put",
            Method::Post => "post",
            Method::Delete => "delete",
            Method::Options => "options",
            Method::Head => "head",
            Method::Patch => "patch",
            Method::Trace => "trace",
        }
    }

    /// The path item's operation for this method.
    pub fn operation(self, item: &openapiv3::PathItem) -> Option<&openapiv3::Operation> {
        self.slot(item).as_ref()
    }

    /// The path item's field for this method.
    pub fn slot(self, item: &openapiv3::PathItem) -> &Option<openapiv3::Operation> {
        match self {
            Method::Get => &item.get,
            Method::Put => &item.put,
            Method::Post => &item.post,
            Method::Delete => &item.delete,
            Method::Options => &item.options,
            Method::Head => &item.head,
            Method::Patch => &item.patch,
            Method::Trace => &item.trace,
        }
    }

    /// The path item's field for this method, to fill in.
    pub fn slot_mut(self, item: &mut openapiv3::PathItem) -> &mut Option<openapiv3::Operation> {
        match self {
            Method::Get => &mut item.get,
            Method::Put => &mut item.put,
            Method::Post => &mut item.post,
            Method::Delete => &mut item.delete,
            Method::Options => &mut item.options,
            Method::Head => &mut item.head,
            Method::Patch => &mut item.patch,
            Method::Trace => &mut item.trace,
        }
    }
}

/// The security requirements of an operation, as alternatives.
#[derive(Clone, Debug, PartialEq)]
pub struct Security {
    /// In spec order: the first whose credentials are all present is used. Each names one or more schemes, and
    /// needs every one of them.
    pub requirements: Vec<Vec<Scheme>>,
    /// `{}` is among the alternatives: a request that satisfies none is served without a caller.
    pub optional: bool,
}

/// One security scheme of a requirement.
#[derive(Clone, Debug, PartialEq)]
pub struct Scheme {
    /// Its name under `components/securitySchemes`.
    pub name: String,
    /// Where its credential is read from.
    pub kind: SchemeKind,
    /// The scopes the requirement lists (oauth2 and openIdConnect; roles for others).
    pub scopes: Vec<String>,
}

/// How a scheme's credential is carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer <token>`: HTTP bearer, oauth2 and openIdConnect.
    Bearer,
    /// `Authorization: Basic <base64 of user:password>`.
    Basic,
    /// `Authorization: <auth_scheme> <credentials>`: any other HTTP authentication scheme.
    Http { auth_scheme: String },
    /// An API key in a header, query parameter or cookie of this name.
    ApiKey { location: Location, name: String },
    /// A TLS client certificate (`mutualTLS`): TLS ends before the router, which reads nothing and counts it
    /// presented; requirements naming it are tried after the others.
    MutualTls,
}

/// Where a parameter is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Location {
    /// A path segment.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie of the `Cookie` header.
    Cookie,
}

/// The JSON type a parameter's text is converted to before validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarKind {
    /// Kept as text.
    String,
    /// An integer.
    Integer,
    /// A number.
    Number,
    /// `true` / `false`.
    Boolean,
    /// An untyped `enum` whose values have several JSON types (`enum: [true, false, 0, 1]`): `true` / `false`, else
    /// a number, else text.
    Any,
}

/// How a parameter's text becomes a JSON value (its style, in OpenAPI's terms).
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    /// One scalar.
    Scalar(ScalarKind),
    /// An array of scalars: one value split on `delimiter` (`form` with `explode: false`, `simple`, and the
    /// space- and pipe-delimited styles), or the key repeated (`delimiter: None`: `form` with `explode: true`).
    Array { items: ScalarKind, delimiter: Option<char> },
    /// A `deepObject` query object (`name[key]=value`): the listed properties are converted to their scalar type,
    /// any other key stays text.
    Object { properties: Vec<(String, ScalarKind)> },
    /// A query object in the `form` style: exploded, each declared property is a key of its own (`color=red&size=3`);
    /// else one value of alternating keys and values (`filter=color,red,size,3`). Properties convert as in `Object`.
    FormObject {
        properties: Vec<(String, ScalarKind)>,
        explode: bool,
    },
    /// A header or path object in the `simple` style: one value of alternating keys and values (`color,red,size,3`),
    /// exploded `key=value` pairs (`color=red,size=3`). Properties convert as in `Object`.
    SimpleObject {
        properties: Vec<(String, ScalarKind)>,
        explode: bool,
    },
    /// A composition of scalars and arrays (`oneOf: [string, array of strings]`): one value is the scalar, several
    /// (the key repeated, `delimiter: None`, or one value split on `delimiter`) are the array.
    OneOrMany {
        scalar: ScalarKind,
        items: ScalarKind,
        delimiter: Option<char>,
    },
    /// `content: application/json`: the text is a JSON document.
    Json,
}

/// One parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The name on the wire.
    pub name: String,
    /// Its field in the operation's struct for its location: the name in snake case, with a suffix when another
    /// parameter there has that field already (`maxResults` and `MaxResults` -> `max_results`, `max_results_2`).
    pub field: String,
    /// Where it is read from.
    pub location: Location,
    /// Path parameters are always required.
    pub required: bool,
    /// Its Rust type (before `Option` for optional parameters).
    pub ty: TypeRef,
    /// How its text becomes the JSON value that is validated and typed.
    pub shape: Shape,
    /// What its schema requires.
    pub check: Check,
    /// Its description.
    pub doc: Option<String>,
}

/// The request body.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    /// Whether an empty body is refused.
    pub required: bool,
    /// One per documented media type, sorted by media range (as the parsed document keeps them); the request's
    /// `Content-Type` chooses. With several, the trait receives an enum with one variant each.
    pub content: Vec<BodyContent>,
}

/// One media type of a request body.
#[derive(Clone, Debug, PartialEq)]
pub struct BodyContent {
    /// The media range, lower case, without parameters (`application/json`, `image/*`).
    pub media: String,
    /// The variant of the operation's body enum (used when there are several media types).
    pub variant: String,
    /// How the body is read and what the implementer receives.
    pub decode: Decode,
}

/// How a body of one media type is read.
#[derive(Clone, Debug, PartialEq)]
pub enum Decode {
    /// JSON (`application/json`, `application/*+json`) into its type.
    Json {
        /// Its Rust type.
        ty: TypeRef,
        /// What its schema requires.
        check: Check,
    },
    /// `application/x-www-form-urlencoded`: fields converted by their property schemas, then validated and typed
    /// like JSON.
    Form {
        /// Its Rust type (an object schema's).
        ty: TypeRef,
        /// What its schema requires.
        check: Check,
        /// The declared properties and how their text converts.
        fields: Vec<FormField>,
    },
    /// `multipart/form-data`: a stream of parts.
    Multipart,
    /// Any other bytes (`application/octet-stream`, `image/*`, `*/*`, `format: binary`).
    Binary,
    /// `text/*`: UTF-8 text, checked against its string schema.
    Text {
        /// What its schema requires (nothing but a string when it has none).
        check: Check,
    },
}

/// A property of a form body.
#[derive(Clone, Debug, PartialEq)]
pub struct FormField {
    /// The key on the wire.
    pub name: String,
    /// What its text (each item's, when `repeated`) is converted to.
    pub kind: ScalarKind,
    /// An array property: one item per occurrence of the key.
    pub repeated: bool,
    /// An object property, read in the `deepObject` style (`name[key]=value`): its declared properties and how their
    /// text converts (any other key stays text).
    pub properties: Option<Vec<(String, ScalarKind)>>,
}

/// Which statuses a documented answer covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// One status.
    Code(u16),
    /// A range, `1XX`–`5XX` (the hundreds digit).
    Range(u16),
    /// `default`: any status no other answer documents.
    Default,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Code(code) => write!(f, "{code}"),
            Status::Range(hundreds) => write!(f, "{hundreds}XX"),
            Status::Default => f.write_str("default"),
        }
    }
}

/// How a body of one media type is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    /// JSON (`application/json`, `+json`): the schema's type.
    Json,
    /// Text (`text/*`): a `String`.
    Text,
    /// Anything else (`application/octet-stream`, images, XML, …): the raw bytes.
    Binary,
}

/// A response body in one media type.
#[derive(Clone, Debug, PartialEq)]
pub struct Content {
    /// The media type as documented (the `Content-Type` of the answer).
    pub media: String,
    /// How it is carried.
    pub kind: MediaKind,
    /// The Rust type of the body.
    pub ty: TypeRef,
}

/// One documented answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The statuses it covers.
    pub status: Status,
    /// The body in each documented media type (empty: no body).
    pub content: Vec<Content>,
    /// Documented headers.
    pub headers: Vec<ResponseHeader>,
    /// The response's description.
    pub doc: String,
}

/// A documented response header.
#[derive(Clone, Debug, PartialEq)]
pub struct ResponseHeader {
    /// The header's name, lower case.
    pub name: String,
    /// Its Rust type (before `Option` when not required).
    pub ty: TypeRef,
    /// Whether the implementation must set it.
    pub required: bool,
    /// Its description.
    pub doc: Option<String>,
}

/// A Rust type as the stub names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeRef {
    /// A type of the shared type space, by typify's name (`types::Name`).
    Named(String),
    /// A replacement type from the settings, by path.
    Replaced(String),
    /// `String`.
    String,
    /// `chrono::DateTime<Utc>`.
    DateTime,
    /// `chrono::NaiveDate`.
    Date,
    /// `uuid::Uuid`.
    Uuid,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `Vec<T>`.
    Vec(Box<TypeRef>),
    /// `Option<T>` (a nullable schema).
    Option(Box<TypeRef>),
    /// `serde_json::Value`: a schema without a type.
    Value,
    /// `serde_json::Map<String, Value>`: a free-form object.
    Map,
    /// `HashMap<String, T>`: an object with `additionalProperties` only.
    HashMap(Box<TypeRef>),
    /// Raw bytes (`bytes::Bytes`).
    Bytes,
}

/// What a schema requires of a JSON value; the validators are generated from it.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// The component schema's validator.
    Ref(String),
    /// No type: only `null` is checked.
    Any { nullable: bool },
    /// `type: string`.
    String {
        nullable: bool,
        values: Vec<String>,
        min_length: Option<usize>,
        max_length: Option<usize>,
        pattern: Option<String>,
        format: Option<StringFormat>,
    },
    /// `type: integer`.
    Integer {
        nullable: bool,
        values: Vec<i128>,
        minimum: Option<(i128, bool)>,
        maximum: Option<(i128, bool)>,
        multiple_of: Option<f64>,
    },
    /// `type: number`.
    Number {
        nullable: bool,
        values: Vec<f64>,
        minimum: Option<(f64, bool)>,
        maximum: Option<(f64, bool)>,
        multiple_of: Option<f64>,
    },
    /// `type: boolean`.
    Boolean { nullable: bool, values: Vec<bool> },
    /// OpenAPI 3.1's `const`: the value must be this one scalar (reported as pydantic's `literal_error`).
    Const { nullable: bool, value: serde_json::Value },
    /// An untyped `enum` of scalars of several JSON types (`[true, false, 0, 1]`).
    Enum {
        nullable: bool,
        values: Vec<serde_json::Value>,
    },
    /// `type: object`.
    Object {
        nullable: bool,
        required: Vec<String>,
        properties: Vec<(String, Check)>,
        additional: Additional,
        min_properties: Option<usize>,
        max_properties: Option<usize>,
    },
    /// `type: array`.
    Array {
        nullable: bool,
        min_items: Option<usize>,
        max_items: Option<usize>,
        unique_items: bool,
        items: Option<Box<Check>>,
    },
    /// `allOf: [one]`, how 3.0 attaches `nullable` to a reference.
    Wrapped { nullable: bool, inner: Box<Check> },
    /// `allOf`: every part.
    AllOf { nullable: bool, parts: Vec<Check> },
    /// `oneOf`: exactly one option, or the option the discriminator names.
    OneOf {
        nullable: bool,
        options: Vec<Check>,
        discriminator: Option<Discriminator>,
    },
    /// `anyOf`: at least one option.
    AnyOf { nullable: bool, options: Vec<Check> },
    /// `not`: the value must not match.
    Not { nullable: bool, inner: Box<Check> },
}

/// A `discriminator`: the property whose value names the schema to validate against.
#[derive(Clone, Debug, PartialEq)]
pub struct Discriminator {
    /// The property.
    pub property: String,
    /// Its values and the check each selects.
    pub mapping: Vec<(String, Check)>,
}

/// A string `format` the validators check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringFormat {
    /// RFC 3339 date-time.
    DateTime,
    /// RFC 3339 full-date.
    Date,
    /// A UUID.
    Uuid,
}

/// What an object allows beside its properties.
#[derive(Clone, Debug, PartialEq)]
pub enum Additional {
    /// Anything (`additionalProperties` absent or `true`).
    Any,
    /// Nothing (`additionalProperties: false`).
    None,
    /// Values of this schema.
    Schema(Box<Check>),
}
