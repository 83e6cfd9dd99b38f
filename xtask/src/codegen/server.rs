//! Our server-stub generator (progenitor makes clients only): from the spec and the client's type space, the API
//! trait, one response enum per operation, parameter structs, schema validators and the axum router.
//!
//! Everything the router does at run time lives in the hand-written runtime module, reached through one path
//! ([`Target::runtime`]); the generated code only wires the spec's operations to it. What this generator cannot
//! express correctly is an error naming the operation and `file:line`, never approximate code.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::path::PathBuf;

use anyhow::{Result, anyhow, bail};
use heck::{ToPascalCase, ToSnakeCase};
use openapiv3::{
    AdditionalProperties, Components, Header, IntegerFormat, Operation, Parameter, ParameterData,
    ParameterSchemaOrContent, ReferenceOr, RequestBody, Response, Schema, SchemaKind, SecurityScheme, StatusCode,
    StringFormat, Type, VariantOrUnknownOrEmpty,
};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::client::SECRET_SCHEMA;
use super::spec::pointer;
use super::{Output, Spec};

/// Where the generated stub is compiled: which path reaches the runtime module, and what the trait is called.
pub(crate) struct Target {
    pub(crate) runtime: &'static str,
    pub(crate) api_trait: &'static str,
}

impl Target {
    /// `crates/secrets-server-stub`; the handler crate implements `SecretsApi`.
    pub(crate) const STUB: Target = Target {
        runtime: "crate::runtime",
        api_trait: "SecretsApi",
    };
    /// A fixture's stub, compiled in the `tests` crate against the stub crate's runtime.
    pub(crate) const FIXTURE: Target = Target {
        runtime: "::secrets_server_stub::runtime",
        api_trait: "Api",
    };
}

/// Fixture specs under `xtask/src/codegen/fixtures/server/`, each named for what it exercises. Their stubs are
/// snapshot-tested and written to `tests/src/fixtures/` so that `cargo build` proves they compile.
pub(crate) const FIXTURES: &[&str] = &[
    "params_path_query_header",
    "no_body_and_optional_body",
    "no_content_and_several_successes",
    "nested_objects_arrays_enums",
    "optional_and_nullable_fields",
    "refd_parameters_bodies_responses",
    "unsecured_operation",
    "string_formats_and_bounds",
];

/// The allows for a generated stub module: typify's and our output trip these; nothing broader.
pub(crate) const ALLOWS: &str = "missing_docs, clippy::all, unused_qualifications, unused_imports, dead_code";

/// The path of a fixture spec, relative to the workspace root.
pub(crate) fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(format!("xtask/src/codegen/fixtures/server/{name}.yaml"))
}

/// A fixture's stub as the `tests` crate compiles it.
pub(crate) fn fixture_stub(name: &str) -> Result<String> {
    let path = fixture_path(name);
    let spec = Spec::load(&crate::project_root().join(&path))?;
    check(&spec)?;
    let (generator, _) = super::client::generator(&spec)?;
    let stub = generate(&spec, &generator, &Target::FIXTURE)?;
    let doc = format!(" The server stub of the fixture `{}`.", path.display());
    super::format_file(quote! { #![doc = #doc] #stub })
}

/// Every fixture's stub under `tests/src/fixtures/`, and the module that declares them.
pub(crate) fn fixture_outputs() -> Result<Vec<Output>> {
    // Independent of each other: one thread each (most of `cargo xtask codegen`'s time is here).
    let stubs: Vec<Result<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = FIXTURES
            .iter()
            .map(|name| scope.spawn(move || fixture_stub(name)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("fixture generator panicked"))))
            .collect()
    });
    let mut outputs = Vec::new();
    for (name, stub) in FIXTURES.iter().zip(stubs) {
        outputs.push(Output {
            path: PathBuf::from(format!("tests/src/fixtures/{name}.rs")),
            contents: stub?,
        });
    }
    let allows: TokenStream = ALLOWS.parse().map_err(|_| anyhow!("bad allow list"))?;
    let modules = FIXTURES.iter().map(|name| format_ident!("{name}"));
    let list = quote! {
        //! Server stubs generated from the fixture specs in `xtask/src/codegen/fixtures/server/`; building this
        //! crate proves that each one compiles.
        #(#[allow(#allows)] pub mod #modules;)*
    };
    outputs.push(Output {
        path: PathBuf::from("tests/src/fixtures.rs"),
        contents: super::format_file(list)?,
    });
    Ok(outputs)
}

/// Generates the stub for one spec. `generator` is the progenitor generator that already produced the client, so
/// the stub's `types` module is the client's, type for type.
pub(crate) fn generate(spec: &Spec, generator: &progenitor::Generator, target: &Target) -> Result<TokenStream> {
    build(spec, Some(generator), target)
}

/// Everything the generator would refuse, without running progenitor: called before the client is generated so
/// that an unsupported construct is reported by operation and line rather than by progenitor's message.
pub(crate) fn check(spec: &Spec) -> Result<()> {
    build(spec, None, &Target::FIXTURE).map(drop)
}

fn build(spec: &Spec, generator: Option<&progenitor::Generator>, target: &Target) -> Result<TokenStream> {
    let named = generator.map(|g| g.get_type_space().iter_types().map(|t| (t.name(), t.ident())).collect());
    let runtime: TokenStream = target.runtime.parse().map_err(|_| anyhow!("bad runtime path"))?;
    let mut stub = Stub {
        spec,
        rt: runtime,
        named,
        validators: BTreeMap::new(),
        op: String::new(),
    };
    let mut ops = Vec::new();
    for (path, item) in &spec.doc.paths.paths {
        let ReferenceOr::Item(item) = item else {
            unreachable!("spec.rs rejects path-item $refs")
        };
        for (method, op) in item.iter() {
            ops.push(stub.operation(path, method, op, &item.parameters)?);
        }
    }
    let types = generator.map(|g| g.get_type_space().to_stream()).unwrap_or_default();
    let api = format_ident!("{}", target.api_trait);
    let rt = &stub.rt;
    let title = &spec.doc.info.title;
    let trait_doc = format!(
        "The operations of {title} (`openapi.yaml` version {}): implement this on your state and pass it to [`router`].",
        spec.doc.info.version
    );
    let methods = ops.iter().map(|op| op.trait_method(rt));
    let items = ops.iter().map(|op| op.items(rt, &api));
    let routes = routes(&ops);
    let validators = stub.validators.values();
    Ok(quote! {
        /// Types used as operation parameters and responses, shared with the client.
        #[allow(clippy::all)]
        pub mod types {
            #types
        }

        #[doc = #trait_doc]
        pub trait #api: Send + Sync + 'static {
            /// What `authenticate` returns; passed to every operation that has security requirements.
            type Caller: Send + Sync + 'static;

            /// Bearer token (already extracted; scheme matched case-insensitively) -> caller, or a rejection
            /// (401/403/429, or a 5xx naming `request_id` when the token store fails). Runs before the body is read.
            fn authenticate(&self, token: &str, request_id: &#rt::RequestId)
                -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, #rt::Rejection>> + Send;

            #(#methods)*
        }

        #(#items)*

        type Shared<A> = (::std::sync::Arc<A>, ::std::sync::Arc<#rt::RouterConfig>);

        /// The axum router for every operation: it owns extraction, authentication, validation and every
        /// rejection (404, 405 with `Allow`, 400, 401, 413, 422, 426, a caught panic as 500), all in the envelope,
        /// and sets `x-request-id` on every response.
        pub fn router<A: #api>(api: ::std::sync::Arc<A>, config: #rt::RouterConfig) -> ::axum::Router {
            let state: Shared<A> = (api, ::std::sync::Arc::new(config));
            let routes = ::axum::Router::new()
                #(#routes)*
                .method_not_allowed_fallback(#rt::method_not_allowed)
                .fallback(#rt::not_found)
                .with_state(state);
            #rt::layers(routes)
        }

        #(#validators)*
    })
}

/// `.route(path, get(handler).post(handler))` per path, in spec order.
fn routes(ops: &[Op]) -> Vec<TokenStream> {
    let mut by_path: Vec<(&str, Vec<&Op>)> = Vec::new();
    for op in ops {
        match by_path.iter_mut().find(|(path, _)| *path == op.path) {
            Some((_, list)) => list.push(op),
            None => by_path.push((&op.path, vec![op])),
        }
    }
    by_path
        .into_iter()
        .map(|(path, list)| {
            let mut chain = TokenStream::new();
            for (i, op) in list.iter().enumerate() {
                let method = format_ident!("{}", op.method);
                let handler = op.handler();
                chain.extend(if i == 0 {
                    quote! { ::axum::routing::#method(#handler::<A>) }
                } else {
                    quote! { .#method(#handler::<A>) }
                });
            }
            quote! { .route(#path, #chain) }
        })
        .collect()
}

struct Stub<'a> {
    spec: &'a Spec,
    rt: TokenStream,
    /// typify's name of every type in the shared type space -> its path (`types::Name`); `None` in [`check`].
    named: Option<HashMap<String, TokenStream>>,
    /// Component schema name -> its validator function (empty while being generated, for recursion).
    validators: BTreeMap<String, TokenStream>,
    /// The operation being generated, for error messages.
    op: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Location {
    Path,
    Query,
    Header,
}

struct Param {
    name: String,
    location: Location,
    required: bool,
    field: Ident,
    ty: TokenStream,
    kind: Ident,
    check: TokenStream,
    doc: Option<String>,
}

struct Body {
    ty: TokenStream,
    required: bool,
    object: bool,
    check: TokenStream,
}

struct ResponseHeader {
    name: String,
    field: Ident,
    ty: TokenStream,
    required: bool,
    doc: Option<String>,
}

struct Variant {
    code: u16,
    name: Ident,
    body: Option<TokenStream>,
    headers: Vec<ResponseHeader>,
    doc: String,
}

struct Op {
    id: String,
    pascal: String,
    path: String,
    method: String,
    doc: String,
    secured: bool,
    params: Vec<Param>,
    body: Option<Body>,
    variants: Vec<Variant>,
}

impl<'a> Stub<'a> {
    fn fail(&self, at: &str, msg: impl Display) -> anyhow::Error {
        anyhow!("{}: operation `{}`: {msg}", self.spec.at(at), self.op)
    }

    fn components(&self, at: &str) -> Result<&'a Components> {
        let spec: &'a Spec = self.spec;
        spec.doc
            .components
            .as_ref()
            .ok_or_else(|| self.fail(at, "`$ref` used but the spec has no components"))
    }

    /// Follows `$ref`s into `#/components/<section>/`; returns the item and the pointer where it is written.
    fn resolve<T>(
        &self,
        mut item: &'a ReferenceOr<T>,
        mut at: String,
        section: &str,
        lookup: for<'c> fn(&'c Components, &str) -> Option<&'c ReferenceOr<T>>,
    ) -> Result<(&'a T, String)> {
        for _ in 0..16 {
            match item {
                ReferenceOr::Item(found) => return Ok((found, at)),
                ReferenceOr::Reference { reference } => {
                    let prefix = format!("#/components/{section}/");
                    let Some(name) = reference.strip_prefix(&prefix) else {
                        bail!(self.fail(&at, format!("`$ref: {reference}` must point into {prefix}")));
                    };
                    let components = self.components(&at)?;
                    item = lookup(components, name)
                        .ok_or_else(|| self.fail(&at, format!("`$ref: {reference}` resolves nowhere")))?;
                    at = pointer(&["components", section, name]);
                }
            }
        }
        Err(self.fail(&at, "`$ref` chain too long (a cycle?)"))
    }

    fn schema(&self, schema: &'a ReferenceOr<Schema>, at: &str) -> Result<(&'a Schema, String)> {
        self.resolve(schema, at.to_owned(), "schemas", |c, n| c.schemas.get(n))
    }

    fn operation(
        &mut self,
        path: &str,
        method: &str,
        op: &'a Operation,
        shared_params: &'a [ReferenceOr<Parameter>],
    ) -> Result<Op> {
        let at = pointer(&["paths", path, method]);
        self.op = op.operation_id.clone().expect("spec.rs requires an operationId");
        if !op.callbacks.is_empty() {
            bail!(self.fail(
                &format!("{at}/callbacks"),
                "callbacks are not supported by the server stub"
            ));
        }
        let secured = self.secured(op, &at)?;

        // Operation-level parameters override path-level ones of the same name and location.
        let mut params: Vec<Param> = Vec::new();
        let all = shared_params
            .iter()
            .enumerate()
            .map(|(i, p)| (p, pointer(&["paths", path, "parameters", &i.to_string()])))
            .chain(
                op.parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p, format!("{at}/parameters/{i}"))),
            );
        for (param, param_at) in all {
            let param = self.parameter(param, param_at)?;
            params.retain(|p| !(p.name == param.name && p.location == param.location));
            params.push(param);
        }

        let body = match &op.request_body {
            None => None,
            Some(body) => Some(self.request_body(body, format!("{at}/requestBody"))?),
        };

        let mut variants = Vec::new();
        if op.responses.default.is_some() {
            bail!(self.fail(
                &format!("{at}/responses/default"),
                "a `default` response is not supported by the server stub; list each status explicitly"
            ));
        }
        for (code, response) in &op.responses.responses {
            let StatusCode::Code(code) = code else {
                bail!(self.fail(
                    &format!("{at}/responses/{code}"),
                    format!("status range `{code}` is not supported; list each status explicitly")
                ));
            };
            variants.push(self.response(*code, response, format!("{at}/responses/{code}"))?);
        }
        if !variants.iter().any(|v| (200..300).contains(&v.code)) {
            bail!(self.fail(&format!("{at}/responses"), "no 2xx response is documented"));
        }

        let summary = op.summary.as_deref().unwrap_or("");
        let description = op.description.as_deref().unwrap_or("");
        let doc = format!("`{} {path}`: {summary}\n\n{description}", method.to_uppercase())
            .trim()
            .to_owned();
        Ok(Op {
            id: self.op.clone(),
            pascal: self.op.to_pascal_case(),
            path: path.to_owned(),
            method: method.to_owned(),
            doc,
            secured,
            params,
            body,
            variants,
        })
    }

    /// Whether the operation needs a bearer token; other schemes and optional security cannot be generated.
    fn secured(&self, op: &Operation, at: &str) -> Result<bool> {
        let requirements = op.security.as_ref().or(self.spec.doc.security.as_ref());
        let Some(requirements) = requirements.filter(|r| !r.is_empty()) else {
            return Ok(false);
        };
        let at = if op.security.is_some() {
            format!("{at}/security")
        } else {
            "/security".to_owned()
        };
        for requirement in requirements {
            if requirement.is_empty() {
                bail!(self.fail(&at, "optional security (`{}` beside a requirement) is not supported"));
            }
            for name in requirement.keys() {
                let scheme = self
                    .components(&at)?
                    .security_schemes
                    .get(name)
                    .ok_or_else(|| self.fail(&at, format!("security scheme `{name}` is not defined")))?;
                let (scheme, _) = self.resolve(
                    scheme,
                    pointer(&["components", "securitySchemes", name]),
                    "securitySchemes",
                    |c, n| c.security_schemes.get(n),
                )?;
                match scheme {
                    SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {}
                    _ => bail!(self.fail(
                        &at,
                        format!("security scheme `{name}` is not HTTP bearer; only bearer tokens are supported")
                    )),
                }
            }
        }
        Ok(true)
    }

    fn parameter(&mut self, param: &'a ReferenceOr<Parameter>, at: String) -> Result<Param> {
        let (param, at) = self.resolve(param, at, "parameters", |c, n| c.parameters.get(n))?;
        let (data, location) = match param {
            Parameter::Path { parameter_data, .. } => (parameter_data, Location::Path),
            Parameter::Query { parameter_data, .. } => (parameter_data, Location::Query),
            Parameter::Header { parameter_data, .. } => (parameter_data, Location::Header),
            Parameter::Cookie { parameter_data, .. } => bail!(self.fail(
                &at,
                format!("cookie parameter `{}` is not supported", parameter_data.name)
            )),
        };
        let ParameterData {
            name,
            description,
            required,
            format,
            ..
        } = data;
        if location == Location::Header
            && ["accept", "content-type", "authorization"].contains(&name.to_ascii_lowercase().as_str())
        {
            bail!(self.fail(
                &at,
                format!("header parameter `{name}` is reserved by OpenAPI; remove it")
            ));
        }
        let ParameterSchemaOrContent::Schema(schema) = format else {
            bail!(self.fail(
                &at,
                format!("parameter `{name}` uses `content`; only `schema` is supported")
            ));
        };
        let schema_at = format!("{at}/schema");
        let kind = self.scalar_kind(schema, &schema_at, &format!("parameter `{name}`"))?;
        let ty = self.value_type(schema, &schema_at)?;
        let check = self.check(schema, &schema_at)?;
        let field = field_ident(name);
        Ok(Param {
            name: name.clone(),
            location,
            required: *required || location == Location::Path,
            field,
            ty,
            kind: format_ident!("{kind}"),
            check,
            doc: description.clone(),
        })
    }

    /// The JSON type a parameter's text is converted to; only scalars can be parameters here.
    fn scalar_kind(&self, schema: &'a ReferenceOr<Schema>, at: &str, what: &str) -> Result<&'static str> {
        let (schema, at) = self.schema(schema, at)?;
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(_)) => Ok("String"),
            SchemaKind::Type(Type::Integer(_)) => Ok("Integer"),
            SchemaKind::Type(Type::Number(_)) => Ok("Number"),
            SchemaKind::Type(Type::Boolean(_)) => Ok("Boolean"),
            _ => Err(self.fail(
                &at,
                format!("{what} must have a string, integer, number or boolean schema"),
            )),
        }
    }

    fn request_body(&mut self, body: &'a ReferenceOr<RequestBody>, at: String) -> Result<Body> {
        let (body, at) = self.resolve(body, at, "requestBodies", |c, n| c.request_bodies.get(n))?;
        let mut entries = body.content.iter();
        let (Some((media, content)), None) = (entries.next(), entries.next()) else {
            bail!(self.fail(&at, "a request body must have exactly one media type, application/json"));
        };
        let content_at = format!("{at}/content/{}", media.replace('~', "~0").replace('/', "~1"));
        if !is_json(media) {
            bail!(self.fail(
                &content_at,
                format!("request body media type `{media}` is not supported; only application/json is")
            ));
        }
        if !content.encoding.is_empty() {
            bail!(self.fail(&content_at, "`encoding` is not supported"));
        }
        let schema = content
            .schema
            .as_ref()
            .ok_or_else(|| self.fail(&content_at, "the request body has no schema"))?;
        let schema_at = format!("{content_at}/schema");
        let (resolved, _) = self.schema(schema, &schema_at)?;
        let object = matches!(resolved.schema_kind, SchemaKind::Type(Type::Object(_)));
        let check = self.check(schema, &schema_at)?;
        Ok(Body {
            ty: self.value_type(schema, &schema_at)?,
            required: body.required,
            object,
            check,
        })
    }

    fn response(&mut self, code: u16, response: &'a ReferenceOr<Response>, at: String) -> Result<Variant> {
        if !(200..600).contains(&code) {
            bail!(self.fail(&at, format!("status {code} is not supported")));
        }
        let (response, at) = self.resolve(response, at, "responses", |c, n| c.responses.get(n))?;
        if !response.links.is_empty() {
            bail!(self.fail(&format!("{at}/links"), "links are not supported"));
        }
        let body = match response.content.iter().next() {
            None => None,
            Some((media, content)) => {
                let content_at = format!("{at}/content/{}", media.replace('~', "~0").replace('/', "~1"));
                if response.content.len() > 1 || !is_json(media) {
                    bail!(self.fail(
                        &content_at,
                        format!("response {code} media type `{media}` is not supported; only application/json is")
                    ));
                }
                let schema = content
                    .schema
                    .as_ref()
                    .ok_or_else(|| self.fail(&content_at, format!("response {code} has no schema")))?;
                Some(self.value_type(schema, &format!("{content_at}/schema"))?)
            }
        };
        let mut headers = Vec::new();
        for (name, header) in &response.headers {
            let header_at = format!("{at}/headers/{name}");
            let (header, header_at) = self.resolve(header, header_at, "headers", |c, n| c.headers.get(n))?;
            let Header {
                description,
                required,
                format,
                ..
            } = header;
            let ParameterSchemaOrContent::Schema(schema) = format else {
                bail!(self.fail(
                    &header_at,
                    format!("header `{name}` uses `content`; only `schema` is supported")
                ));
            };
            self.scalar_kind(
                schema,
                &format!("{header_at}/schema"),
                &format!("response header `{name}`"),
            )?;
            headers.push(ResponseHeader {
                name: name.to_ascii_lowercase(),
                field: field_ident(name),
                ty: self.value_type(schema, &format!("{header_at}/schema"))?,
                required: *required,
                doc: description.clone(),
            });
        }
        Ok(Variant {
            code,
            name: format_ident!("{}", status_name(code)),
            body,
            headers,
            doc: format!("{code}: {}", response.description.trim()),
        })
    }

    /// The Rust type of a value: the shared type for a component schema, else a plain type for inline scalars and
    /// arrays. Inline objects and enums would need a name of their own: they must move to components.
    fn value_type(&self, schema: &ReferenceOr<Schema>, at: &str) -> Result<TokenStream> {
        let schema = match schema {
            ReferenceOr::Reference { reference } => return self.component_type(reference, at),
            ReferenceOr::Item(schema) => schema,
        };
        let ty = match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => match &t.format {
                VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => {
                    quote!(::chrono::DateTime<::chrono::offset::Utc>)
                }
                VariantOrUnknownOrEmpty::Item(StringFormat::Date) => quote!(::chrono::naive::NaiveDate),
                VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => quote!(::uuid::Uuid),
                _ => quote!(::std::string::String),
            },
            SchemaKind::Type(Type::Integer(t)) => match t.format {
                VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => quote!(i32),
                _ => quote!(i64),
            },
            SchemaKind::Type(Type::Number(_)) => quote!(f64),
            SchemaKind::Type(Type::Boolean(_)) => quote!(bool),
            SchemaKind::Type(Type::Array(a)) => {
                let items = a.items.as_ref().ok_or_else(|| self.fail(at, "an array schema needs `items`"))?;
                let items = self.value_type(&items.clone().unbox(), &format!("{at}/items"))?;
                quote!(::std::vec::Vec<#items>)
            }
            _ => bail!(self.fail(
                at,
                "an inline object, enum or composed schema here has no shared type name; move it to components/schemas and `$ref` it"
            )),
        };
        Ok(if schema.schema_data.nullable {
            quote!(::std::option::Option<#ty>)
        } else {
            ty
        })
    }

    fn component_type(&self, reference: &str, at: &str) -> Result<TokenStream> {
        let name = component_name(reference)
            .ok_or_else(|| self.fail(at, format!("`$ref: {reference}` must point into #/components/schemas/")))?;
        if name == SECRET_SCHEMA {
            return Ok(quote!(crate::SecretValue));
        }
        let type_name = typify_name(name);
        let Some(named) = &self.named else {
            return Ok(TokenStream::new());
        };
        named.get(&type_name).cloned().ok_or_else(|| {
            self.fail(
                at,
                format!("the client's type space has no type `{type_name}` for `{reference}`"),
            )
        })
    }

    /// Statements that validate `v: &serde_json::Value` against the schema, recording into `cx`.
    fn check(&mut self, schema: &ReferenceOr<Schema>, at: &str) -> Result<TokenStream> {
        match schema {
            ReferenceOr::Reference { reference } => {
                let name = component_name(reference).ok_or_else(|| {
                    self.fail(at, format!("`$ref: {reference}` must point into #/components/schemas/"))
                })?;
                self.validator(name, at)?;
                let f = validator_ident(name);
                Ok(quote! { #f(v, cx); })
            }
            ReferenceOr::Item(schema) => self.check_schema(schema, at),
        }
    }

    fn check_boxed(&mut self, schema: &ReferenceOr<Box<Schema>>, at: &str) -> Result<TokenStream> {
        self.check(&schema.clone().unbox(), at)
    }

    /// Generates (once) the validator function of a component schema.
    fn validator(&mut self, name: &str, at: &str) -> Result<()> {
        if self.validators.contains_key(name) {
            return Ok(());
        }
        self.validators.insert(name.to_owned(), TokenStream::new());
        let schema = self
            .components(at)?
            .schemas
            .get(name)
            .ok_or_else(|| self.fail(at, format!("schema `{name}` is not defined")))?
            .clone();
        let body = self.check(&schema, &pointer(&["components", "schemas", name]))?;
        let f = validator_ident(name);
        let rt = &self.rt;
        let doc = format!("Validates a `{name}`, recording every violation.");
        self.validators.insert(
            name.to_owned(),
            quote! {
                #[doc = #doc]
                fn #f(v: &::serde_json::Value, cx: &mut #rt::Validator) {
                    #body
                }
            },
        );
        Ok(())
    }

    fn check_schema(&mut self, schema: &Schema, at: &str) -> Result<TokenStream> {
        let rt = self.rt.clone();
        let nullable = schema.schema_data.nullable;
        let tokens = match &schema.schema_kind {
            SchemaKind::Type(Type::String(t)) => {
                let nullable = nullable || t.enumeration.iter().any(Option::is_none);
                let mut checks = Vec::new();
                let values: Vec<&String> = t.enumeration.iter().flatten().collect();
                if !values.is_empty() {
                    checks.push(quote! { cx.one_of_str(s, &[#(#values),*]); });
                }
                if let Some(min) = t.min_length {
                    checks.push(quote! { cx.min_length(s, #min); });
                }
                if let Some(max) = t.max_length {
                    checks.push(quote! { cx.max_length(s, #max); });
                }
                if let Some(pattern) = &t.pattern {
                    if let Err(err) = regex::Regex::new(pattern) {
                        bail!(self.fail(&format!("{at}/pattern"), format!("pattern does not compile: {err}")));
                    }
                    checks.push(quote! {
                        static PATTERN: #rt::Pattern = #rt::Pattern::new(#pattern);
                        cx.pattern(s, &PATTERN);
                    });
                }
                match &t.format {
                    VariantOrUnknownOrEmpty::Item(StringFormat::DateTime) => checks.push(quote! { cx.date_time(s); }),
                    VariantOrUnknownOrEmpty::Item(StringFormat::Date) => checks.push(quote! { cx.date(s); }),
                    VariantOrUnknownOrEmpty::Unknown(f) if f == "uuid" => checks.push(quote! { cx.uuid(s); }),
                    _ => {}
                }
                if checks.is_empty() {
                    quote! { cx.string(v, #nullable); }
                } else {
                    quote! { if let Some(s) = cx.string(v, #nullable) { #(#checks)* } }
                }
            }
            SchemaKind::Type(Type::Integer(t)) => {
                let nullable = nullable || t.enumeration.iter().any(Option::is_none);
                let mut checks = Vec::new();
                let values: Vec<i128> = t.enumeration.iter().flatten().map(|n| i128::from(*n)).collect();
                if !values.is_empty() {
                    checks.push(quote! { cx.one_of_int(n, &[#(#values),*]); });
                }
                // int32 fields cannot hold more: the format is a bound.
                let int32 = matches!(t.format, VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32));
                let implied = |n: i32| int32.then_some(i128::from(n));
                if let Some(min) = t.minimum.map(i128::from).or(implied(i32::MIN)) {
                    let exclusive = t.exclusive_minimum;
                    checks.push(quote! { cx.int_minimum(n, #min, #exclusive); });
                }
                if let Some(max) = t.maximum.map(i128::from).or(implied(i32::MAX)) {
                    let exclusive = t.exclusive_maximum;
                    checks.push(quote! { cx.int_maximum(n, #max, #exclusive); });
                }
                if let Some(factor) = t.multiple_of {
                    let factor = factor as f64;
                    checks.push(quote! { cx.multiple_of(n as f64, #factor); });
                }
                if checks.is_empty() {
                    quote! { cx.integer(v, #nullable); }
                } else {
                    quote! { if let Some(n) = cx.integer(v, #nullable) { #(#checks)* } }
                }
            }
            SchemaKind::Type(Type::Number(t)) => {
                if t.enumeration.iter().any(Option::is_some) {
                    bail!(self.fail(at, "a number `enum` is not supported; use integers or strings"));
                }
                let mut checks = Vec::new();
                if let Some(min) = t.minimum {
                    let exclusive = t.exclusive_minimum;
                    checks.push(quote! { cx.minimum(x, #min, #exclusive); });
                }
                if let Some(max) = t.maximum {
                    let exclusive = t.exclusive_maximum;
                    checks.push(quote! { cx.maximum(x, #max, #exclusive); });
                }
                if let Some(factor) = t.multiple_of {
                    checks.push(quote! { cx.multiple_of(x, #factor); });
                }
                if checks.is_empty() {
                    quote! { cx.number(v, #nullable); }
                } else {
                    quote! { if let Some(x) = cx.number(v, #nullable) { #(#checks)* } }
                }
            }
            SchemaKind::Type(Type::Boolean(t)) => {
                if !t.enumeration.is_empty() {
                    bail!(self.fail(at, "a boolean `enum` is not supported"));
                }
                quote! { cx.boolean(v, #nullable); }
            }
            SchemaKind::Type(Type::Object(o)) => {
                if o.min_properties.is_some() || o.max_properties.is_some() {
                    bail!(self.fail(at, "`minProperties`/`maxProperties` are not supported"));
                }
                let known: Vec<&String> = o.properties.keys().collect();
                let mut checks = Vec::new();
                let required = &o.required;
                if !required.is_empty() {
                    checks.push(quote! { cx.required(obj, &[#(#required),*]); });
                }
                for (key, property) in &o.properties {
                    let inner = self.check_boxed(property, &format!("{at}/properties/{key}"))?;
                    checks.push(quote! {
                        if let Some(v) = obj.get(#key) {
                            cx.enter(#key);
                            #inner
                            cx.leave();
                        }
                    });
                }
                match &o.additional_properties {
                    Some(AdditionalProperties::Any(false)) => {
                        checks.push(quote! { cx.no_extra(obj, &[#(#known),*]); });
                    }
                    Some(AdditionalProperties::Schema(extra)) => {
                        let inner = self.check(extra, &format!("{at}/additionalProperties"))?;
                        checks.push(quote! {
                            let known: &[&str] = &[#(#known),*];
                            for (key, v) in obj {
                                if !known.contains(&key.as_str()) {
                                    cx.enter(key);
                                    #inner
                                    cx.leave();
                                }
                            }
                        });
                    }
                    Some(AdditionalProperties::Any(true)) | None => {}
                }
                if checks.is_empty() {
                    quote! { cx.object(v, #nullable); }
                } else {
                    quote! { if let Some(obj) = cx.object(v, #nullable) { #(#checks)* } }
                }
            }
            SchemaKind::Type(Type::Array(a)) => {
                if a.unique_items {
                    bail!(self.fail(at, "`uniqueItems` is not supported"));
                }
                let mut checks = Vec::new();
                if let Some(min) = a.min_items {
                    checks.push(quote! { cx.min_items(items, #min); });
                }
                if let Some(max) = a.max_items {
                    checks.push(quote! { cx.max_items(items, #max); });
                }
                if let Some(item) = &a.items {
                    let inner = self.check_boxed(item, &format!("{at}/items"))?;
                    checks.push(quote! {
                        for (i, v) in items.iter().enumerate() {
                            cx.enter(i);
                            #inner
                            cx.leave();
                        }
                    });
                }
                if checks.is_empty() {
                    quote! { cx.array(v, #nullable); }
                } else {
                    quote! { if let Some(items) = cx.array(v, #nullable) { #(#checks)* } }
                }
            }
            // `allOf: [$ref]` is how 3.0 specs attach `nullable` or a description to a reference.
            SchemaKind::AllOf { all_of } if all_of.len() == 1 => {
                let inner = self.check(&all_of[0], &format!("{at}/allOf/0"))?;
                if nullable {
                    quote! { if !v.is_null() { #inner } }
                } else {
                    inner
                }
            }
            SchemaKind::Any(any) if *any == openapiv3::AnySchema::default() => {
                quote! { cx.any(v, #nullable); }
            }
            SchemaKind::Any(_) => bail!(self.fail(at, "a schema without `type` is not supported here; add `type`")),
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } | SchemaKind::AllOf { .. } | SchemaKind::Not { .. } => {
                bail!(self.fail(
                    at,
                    "oneOf/anyOf/allOf/not in a request schema is not supported by the validator"
                ))
            }
        };
        Ok(tokens)
    }
}

impl Op {
    fn handler(&self) -> Ident {
        format_ident!("handle_{}", self.id.to_snake_case())
    }

    fn response_enum(&self) -> Ident {
        format_ident!("{}Response", self.pascal)
    }

    fn params_in(&self, location: Location) -> Vec<&Param> {
        self.params.iter().filter(|p| p.location == location).collect()
    }

    fn struct_name(&self, location: Location) -> Ident {
        match location {
            Location::Path => format_ident!("{}Path", self.pascal),
            Location::Query => format_ident!("{}Query", self.pascal),
            Location::Header => format_ident!("{}Headers", self.pascal),
        }
    }

    /// `(argument name, type)` of every typed input after `ctx`, in trait order.
    fn inputs(&self) -> Vec<(Ident, TokenStream)> {
        let mut inputs = Vec::new();
        for (location, arg) in [
            (Location::Path, "path"),
            (Location::Query, "query"),
            (Location::Header, "headers"),
        ] {
            if !self.params_in(location).is_empty() {
                let name = self.struct_name(location);
                inputs.push((format_ident!("{arg}"), quote!(#name)));
            }
        }
        if let Some(body) = &self.body {
            let ty = &body.ty;
            let ty = if body.required {
                quote!(#ty)
            } else {
                quote!(::std::option::Option<#ty>)
            };
            inputs.push((format_ident!("body"), ty));
        }
        inputs
    }

    fn trait_method(&self, rt: &TokenStream) -> TokenStream {
        let method = format_ident!("{}", self.id.to_snake_case());
        let response = self.response_enum();
        let caller = if self.secured { quote!(Self::Caller) } else { quote!(()) };
        let inputs = self.inputs().into_iter().map(|(name, ty)| quote!(#name: #ty));
        let doc = &self.doc;
        quote! {
            #[doc = #doc]
            fn #method(&self, ctx: #rt::Context<#caller>, #(#inputs),*)
                -> impl ::std::future::Future<Output = #response> + Send;
        }
    }

    /// The parameter structs, the response enum and its `IntoResponse`, and the handler.
    fn items(&self, rt: &TokenStream, api: &Ident) -> TokenStream {
        let mut items = TokenStream::new();
        for (location, what) in [
            (Location::Path, "Path"),
            (Location::Query, "Query"),
            (Location::Header, "Header"),
        ] {
            let params = self.params_in(location);
            if params.is_empty() {
                continue;
            }
            let name = self.struct_name(location);
            let doc = format!("{what} parameters of `{}`.", self.id);
            let fields = params.iter().map(|p| {
                let (field, api_name, ty) = (&p.field, &p.name, &p.ty);
                let doc = p.doc.as_deref().unwrap_or("").trim();
                if p.required {
                    quote! { #[doc = #doc] #[serde(rename = #api_name)] pub #field: #ty, }
                } else {
                    quote! { #[doc = #doc] #[serde(rename = #api_name, default)] pub #field: ::std::option::Option<#ty>, }
                }
            });
            items.extend(quote! {
                #[doc = #doc]
                #[derive(::serde::Deserialize, Clone, Debug)]
                pub struct #name { #(#fields)* }
            });
        }

        let response = self.response_enum();
        let doc = format!("Every documented answer of `{}`, one variant per status.", self.id);
        let variants = self.variants.iter().map(|v| {
            let (name, doc) = (&v.name, &v.doc);
            let headers = v.headers.iter().map(|h| {
                let (field, ty) = (&h.field, &h.ty);
                let doc = h.doc.as_deref().unwrap_or("").trim();
                let ty = if h.required {
                    quote!(#ty)
                } else {
                    quote!(::std::option::Option<#ty>)
                };
                quote! { #[doc = #doc] #field: #ty, }
            });
            match (&v.body, v.headers.is_empty()) {
                (None, true) => quote! { #[doc = #doc] #name, },
                (Some(body), true) => quote! { #[doc = #doc] #name(#body), },
                (Some(body), false) => {
                    quote! { #[doc = #doc] #name { #[doc = "The body."] body: #body, #(#headers)* }, }
                }
                (None, false) => quote! { #[doc = #doc] #name { #(#headers)* }, },
            }
        });
        let arms = self.variants.iter().map(|v| {
            let (name, code) = (&v.name, v.code);
            let make = if v.body.is_some() {
                quote!(#rt::json(#code, &body))
            } else {
                quote!(#rt::empty(#code))
            };
            let sets = v.headers.iter().map(|h| {
                let (field, header) = (&h.field, &h.name);
                if h.required {
                    quote! { #rt::header(&mut response, #header, #field); }
                } else {
                    quote! { if let Some(value) = #field { #rt::header(&mut response, #header, value); } }
                }
            });
            let fields = v.headers.iter().map(|h| &h.field);
            match (&v.body, v.headers.is_empty()) {
                (None, true) => quote! { Self::#name => #make, },
                (Some(_), true) => quote! { Self::#name(body) => #make, },
                (body, false) => {
                    let body = body.as_ref().map(|_| quote!(body,));
                    quote! { Self::#name { #body #(#fields),* } => { let mut response = #make; #(#sets)* response } }
                }
            }
        });
        items.extend(quote! {
            #[doc = #doc]
            #[derive(Debug)]
            pub enum #response { #(#variants)* }

            impl ::axum::response::IntoResponse for #response {
                fn into_response(self) -> ::axum::response::Response {
                    match self { #(#arms)* }
                }
            }
        });

        items.extend(self.handler_fn(rt, api));
        items
    }

    fn handler_fn(&self, rt: &TokenStream, api: &Ident) -> TokenStream {
        let handler = self.handler();
        let method = format_ident!("{}", self.id.to_snake_case());
        let doc = format!(
            "Extracts, authenticates and validates a `{}` request, then calls the API.",
            self.id
        );
        let auth = if self.secured {
            quote! {
                let token = #rt::bearer_token(&parts.headers)?;
                let caller = api.authenticate(token, &request_id).await?;
            }
        } else {
            quote! { let caller = (); }
        };
        let mut extract = TokenStream::new();
        let mut convert = TokenStream::new();
        for (location, part, arg) in [
            (Location::Path, "path", "path"),
            (Location::Query, "query", "query"),
            (Location::Header, "header", "headers"),
        ] {
            let params = self.params_in(location);
            if params.is_empty() {
                continue;
            }
            let raw = format_ident!("{arg}_raw");
            let object = format_ident!("{arg}_object");
            let names = params.iter().map(|p| &p.name);
            extract.extend(match location {
                Location::Path => quote! { let mut #raw = #rt::path_params(&mut parts).await?; },
                Location::Query => {
                    quote! { let mut #raw = #rt::query_params(&parts.uri, &[#(#names),*])?; }
                }
                Location::Header => quote! {},
            });
            let each = params.iter().map(|p| {
                let (name, kind, check) = (&p.name, &p.kind, &p.check);
                let take = match location {
                    Location::Header => quote! { #rt::header_param(&parts.headers, #name)? },
                    _ => quote! { #raw.remove(#name) },
                };
                let absent = if p.required {
                    quote! { cx.missing(#name) }
                } else {
                    quote! {}
                };
                quote! {
                    match #take {
                        Some(raw) => {
                            let value = #rt::coerce(raw, #rt::ParamKind::#kind);
                            {
                                let v = &value;
                                cx.enter(#name);
                                #check
                                cx.leave();
                            }
                            #object.insert(#name.to_owned(), value);
                        }
                        None => { #absent }
                    }
                }
            });
            extract.extend(quote! {
                let mut #object = ::serde_json::Map::new();
                cx.enter(#part);
                #(#each)*
                cx.leave();
            });
            let arg = format_ident!("{arg}");
            let ty = self.struct_name(location);
            convert.extend(quote! {
                let #arg: #ty = #rt::typed(::serde_json::Value::Object(#object), #part)?;
            });
        }
        if let Some(body) = &self.body {
            let (required, object, check, ty) = (body.required, body.object, &body.check, &body.ty);
            extract.extend(quote! {
                let body = #rt::read_json(&parts.headers, body, config.body_limit, #required, #object).await?;
                if let Some(v) = &body {
                    cx.enter("body");
                    #check
                    cx.leave();
                }
            });
            convert.extend(if required {
                quote! { let body: #ty = #rt::typed(body.unwrap_or_default(), "body")?; }
            } else {
                quote! { let body: ::std::option::Option<#ty> = body.map(|v| #rt::typed(v, "body")).transpose()?; }
            });
        }
        let args = self.inputs().into_iter().map(|(name, _)| name);
        let body_binding = if self.body.is_some() {
            quote!(body)
        } else {
            quote!(_body)
        };
        let parts_mut = (!self.params_in(Location::Path).is_empty()).then(|| quote!(mut));
        // Every violation of every part is collected before answering, so one 422 lists them all.
        let validate = (!self.params.is_empty() || self.body.is_some()).then(|| {
            quote! {
                let mut validator = #rt::Validator::new();
                let cx = &mut validator;
                #extract
                validator.finish()?;
            }
        });
        quote! {
            #[doc = #doc]
            async fn #handler<A: #api>(
                ::axum::extract::State((api, config)): ::axum::extract::State<Shared<A>>,
                request: ::axum::extract::Request,
            ) -> ::std::result::Result<::axum::response::Response, #rt::Rejection> {
                let (#parts_mut parts, #body_binding) = request.into_parts();
                let request_id = #rt::request_id(&parts);
                #rt::check_api_version(&parts.headers, &config)?;
                #auth
                #validate
                #convert
                let ctx = #rt::Context { caller, request_id };
                Ok(::axum::response::IntoResponse::into_response(api.#method(ctx, #(#args),*).await))
            }
        }
    }
}

fn is_json(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn component_name(reference: &str) -> Option<&str> {
    reference.strip_prefix("#/components/schemas/")
}

/// The name typify gives a component schema (its `sanitize(name, Case::Pascal)`).
fn typify_name(name: &str) -> String {
    name.replace('\'', "")
        .replace(|c: char| !(c.is_alphanumeric() || c == '_'), "-")
        .to_pascal_case()
}

fn validator_ident(name: &str) -> Ident {
    format_ident!("validate_{}", typify_name(name).to_snake_case())
}

/// A snake_case field name for a parameter or header (`x-trace` -> `x_trace`), never a keyword.
fn field_ident(name: &str) -> Ident {
    let mut snake = name.to_snake_case();
    if snake.is_empty() || snake.starts_with(|c: char| c.is_ascii_digit()) {
        snake = format!("p_{snake}");
    }
    if syn::parse_str::<Ident>(&snake).is_err() {
        snake.push('_');
    }
    Ident::new(&snake, Span::call_site())
}

/// The variant name of a status: its reason phrase in PascalCase.
fn status_name(code: u16) -> String {
    let name = match code {
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritativeInformation",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        407 => "ProxyAuthenticationRequired",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        414 => "UriTooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        421 => "MisdirectedRequest",
        422 => "UnprocessableEntity",
        423 => "Locked",
        424 => "FailedDependency",
        425 => "TooEarly",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HttpVersionNotSupported",
        _ => return format!("Status{code}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests;
