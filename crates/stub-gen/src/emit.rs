//! Emitting: [`ir::Api`] -> tokens. Everything was decided by lowering, so nothing here can fail; the generated code
//! only wires the spec's operations to the runtime crate, reached through the one path in the settings. Every crate
//! but serde and std is named through that path too, and every trait method by its full path, so that a stub
//! compiles whatever is in scope and needs only the runtime and serde.

use proc_macro2::{Group, Ident, Punct, Spacing, TokenStream, TokenTree};
use quote::{format_ident, quote};

use crate::Settings;

mod body;
mod handler;
mod responses;
mod validators;

use crate::ir::{self, Location, ScalarKind, TypeRef};
use crate::names::{method_ident, pascal};
use body::{body_items, body_type};
use handler::handler_fn;
use validators::validator;

/// The `types` module: the items of the type space shared with the client, with the crates they name reached
/// through the runtime (`rt`).
pub fn types_module(types: &TokenStream, rt: &TokenStream) -> TokenStream {
    let types = through_runtime(types.clone(), rt);
    quote! {
        /// Types used as operation parameters and responses, shared with the client.
        #[allow(clippy::all)]
        pub mod types {
            #types
        }
    }
}

/// The crates typify's types name that the runtime re-exports.
const REEXPORTED: [&str; 5] = ["axum", "chrono", "regress", "serde_json", "uuid"];

/// `tokens` with every path that starts at one of the [`REEXPORTED`] crates (`::chrono::…`) started at the runtime
/// instead (`::stub_runtime::chrono::…`).
fn through_runtime(tokens: TokenStream, rt: &TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = TokenStream::new();
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Group(group) => {
                let mut inner = Group::new(group.delimiter(), through_runtime(group.stream(), rt));
                inner.set_span(group.span());
                out.extend([TokenTree::Group(inner)]);
            }
            TokenTree::Punct(colon) if colon.as_char() == ':' && colon.spacing() == Spacing::Joint => {
                // `a::chrono`, `a::::chrono` or `<T>::chrono` continue a path; after a lone `:` (a field's type)
                // one starts.
                let starts_path = match (
                    i.checked_sub(2).map(|at| &tokens[at]),
                    i.checked_sub(1).map(|at| &tokens[at]),
                ) {
                    (_, None) => true,
                    // After a keyword (`pub ::serde_json::Map`, `for ::serde_json::Map`) a path starts.
                    (_, Some(TokenTree::Ident(word))) => [
                        "pub", "for", "in", "as", "dyn", "impl", "mut", "const", "return", "where",
                    ]
                    .iter()
                    .any(|keyword| word == keyword),
                    (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second)))
                        if first.as_char() == ':' && first.spacing() == Spacing::Joint && second.as_char() == ':' =>
                    {
                        false
                    }
                    // `-> ::serde_json::Value`: a return type starts one.
                    (Some(TokenTree::Punct(first)), Some(TokenTree::Punct(second)))
                        if first.as_char() == '-' && second.as_char() == '>' =>
                    {
                        true
                    }
                    (_, Some(TokenTree::Punct(p))) => p.as_char() != '>',
                    (_, Some(_)) => true,
                };
                let reexported = matches!(
                    (tokens.get(i + 1), tokens.get(i + 2)),
                    (Some(TokenTree::Punct(second)), Some(TokenTree::Ident(name)))
                        if second.as_char() == ':' && REEXPORTED.iter().any(|known| name == known)
                );
                if starts_path && reexported {
                    out.extend(rt.clone());
                    out.extend([
                        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
                        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
                    ]);
                    i += 2;
                    continue;
                }
                out.extend([tokens[i].clone()]);
            }
            // A path in an attribute's string (`skip_serializing_if = "::serde_json::Map::is_empty"`).
            TokenTree::Literal(literal) => {
                let text = literal.to_string();
                let rerooted = REEXPORTED.iter().find_map(|name| {
                    let rest = text.strip_prefix(&format!("\"::{name}::"))?;
                    let rt = rt.to_string().replace(' ', "");
                    Some(format!("\"{rt}::{name}::{rest}"))
                });
                match rerooted.and_then(|text| text.parse::<TokenStream>().ok()) {
                    Some(path) => out.extend(path),
                    None => out.extend([tokens[i].clone()]),
                }
            }
            other => out.extend([other.clone()]),
        }
        i += 1;
    }
    out
}

/// The stub's own items, which follow the `types` module: the trait, per-operation items, the router and the
/// validators; all of [`pieces`] in order.
pub fn emit(api: &ir::Api, settings: &Settings) -> TokenStream {
    (0..pieces(api)).map(|index| piece(api, settings, index)).collect()
}

/// Operations per piece of [`emit`]: small enough that two threads sharing the pieces finish together.
const OPERATIONS_PER_PIECE: usize = 8;

/// How many pieces the stub's items come in: the trait, the operations' items by [`OPERATIONS_PER_PIECE`], then the
/// router and the validators. Each piece is whole items, so pieces can be parsed and printed apart (on any thread)
/// and their texts joined in order.
pub fn pieces(api: &ir::Api) -> usize {
    api.operations.len().div_ceil(OPERATIONS_PER_PIECE) + 2
}

/// Piece `index` of [`emit`] (see [`pieces`]); empty past the last.
pub fn piece(api: &ir::Api, settings: &Settings, index: usize) -> TokenStream {
    let rt = &settings.runtime_path();
    let trait_name = format_ident!("{}", settings.api_trait);
    let last = pieces(api) - 1;
    if index == 0 {
        return api_trait(api, rt, &trait_name);
    }
    if index > last {
        return TokenStream::new();
    }
    let securities = securities(api);
    if index < last {
        let start = (index - 1) * OPERATIONS_PER_PIECE;
        let end = (start + OPERATIONS_PER_PIECE).min(api.operations.len());
        return api.operations[start..end]
            .iter()
            .map(|op| {
                let security = op
                    .security
                    .as_ref()
                    .and_then(|s| securities.iter().position(|known| *known == s))
                    .map(handler::security_ident);
                items(op, rt, &trait_name, security.as_ref())
            })
            .collect();
    }
    let routes = routes(&api.operations, rt);
    let validators = api.validators.iter().map(|(name, check)| validator(name, check, rt));
    let securities = securities
        .iter()
        .enumerate()
        .map(|(index, security)| handler::security_const(index, security, rt));
    quote! {
        #(#securities)*

        /// The axum router for every operation: it owns extraction, authentication, validation and every
        /// rejection (404, 405 with `Allow`, 400, 401, 413, 422, 426, a caught panic as 500), all in the envelope,
        /// and sets `x-request-id` on every response.
        pub fn router<A: #trait_name>(api: ::std::sync::Arc<A>, config: #rt::RouterConfig) -> #rt::axum::Router {
            let routes = #rt::axum::Router::new()
                #(#routes)*
                .method_not_allowed_fallback(#rt::method_not_allowed)
                .fallback(#rt::not_found)
                .with_state(#rt::StubState::new(api, config));
            #rt::layers(routes)
        }

        /// Validators generated from the component schemas: each records every violation of a value into the
        /// runtime's `Validator`.
        pub mod validators {
            use super::validators;
            #(#validators)*
        }
    }
}

/// The distinct security requirements of the operations, in the order of their first use.
fn securities(api: &ir::Api) -> Vec<&ir::Security> {
    let mut distinct: Vec<&ir::Security> = Vec::new();
    for security in api.operations.iter().filter_map(|op| op.security.as_ref()) {
        if !distinct.contains(&security) {
            distinct.push(security);
        }
    }
    distinct
}

/// The trait the implementer writes.
fn api_trait(api: &ir::Api, rt: &TokenStream, trait_name: &Ident) -> TokenStream {
    let trait_doc = format!(
        "The operations of {} (version {}): implement this on your state and pass it to [`router`].",
        api.title, api.version
    );
    let methods = api.operations.iter().map(|op| trait_method(op, rt));
    let mutual_tls = api
        .operations
        .iter()
        .filter_map(|op| op.security.as_ref())
        .flat_map(|security| security.requirements.iter().flatten())
        .any(|scheme| scheme.kind == ir::SchemeKind::MutualTls);
    let tls_doc = mutual_tls.then(|| {
        quote! {
            ///
            /// Some requirements name a `mutualTLS` scheme, a TLS client certificate. TLS ends before this router,
            /// which cannot see the certificate: it counts the scheme presented, hands over
            /// `Credential::MutualTls`, and tries those requirements after the ones it can check. Serve them only
            /// behind a TLS terminator that requires and verifies client certificates.
        }
    });
    quote! {
        #[doc = #trait_doc]
        pub trait #trait_name: Send + Sync + 'static {
            /// What `authenticate` returns; passed to every operation that has security requirements (as an `Option`
            /// where security is optional).
            type Caller: Send + Sync + 'static;

            /// The credentials of the first security requirement the request satisfies (one per scheme it names;
            /// missing or malformed ones were already answered 401) -> caller, or a rejection (401/403/429, or a 5xx
            /// when the credential store fails). Runs before the body is read.
            #tls_doc
            fn authenticate(&self, credentials: #rt::Credentials, request_id: &#rt::RequestId)
                -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, #rt::Rejection>> + Send;

            #(#methods)*
        }
    }
}

/// `.route(path, get(…).post(…))` per path, in spec order: each handler an axum handler over the router's state, its
/// answers marked with the operation's id.
fn routes(ops: &[ir::Operation], rt: &TokenStream) -> Vec<TokenStream> {
    let mut by_path: Vec<(&str, Vec<&ir::Operation>)> = Vec::new();
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
                let method = method_router(op.method);
                let handler = handler_ident(op);
                let id = &op.id;
                let handler = quote! {
                    #rt::axum::handler::Handler::layer(#handler::<A>, #rt::operation(#id))
                };
                chain.extend(if i == 0 {
                    quote! { #rt::axum::routing::#method(#handler) }
                } else {
                    quote! { .#method(#handler) }
                });
            }
            quote! { .route(#path, #chain) }
        })
        .collect()
}

/// axum's `MethodRouter` constructor (and method) for a service answering `method`.
/// The `axum::routing` function that routes a handler for `method`.
fn method_router(method: ir::Method) -> Ident {
    let name = match method {
        ir::Method::Get => "get",
        ir::Method::Put => "put",
        ir::Method::Post => "post",
        ir::Method::Delete => "delete",
        ir::Method::Options => "options",
        ir::Method::Head => "head",
        ir::Method::Patch => "patch",
        ir::Method::Trace => "trace",
    };
    format_ident!("{name}")
}

pub(crate) fn handler_ident(op: &ir::Operation) -> Ident {
    format_ident!("handle_{}", method_ident(&op.id).to_string().trim_start_matches("r#"))
}

fn response_enum(op: &ir::Operation) -> Ident {
    format_ident!("{}Response", pascal(&op.id))
}

pub(crate) fn struct_name(op: &ir::Operation, location: Location) -> Ident {
    let stem = pascal(&op.id);
    match location {
        Location::Path => format_ident!("{stem}Path"),
        Location::Query => format_ident!("{stem}Query"),
        Location::Header => format_ident!("{stem}Headers"),
        Location::Cookie => format_ident!("{stem}Cookies"),
    }
}

pub(crate) fn params_in(op: &ir::Operation, location: Location) -> Vec<&ir::Param> {
    op.params.iter().filter(|p| p.location == location).collect()
}

/// Each location: its `loc` in violations and its argument's name.
pub(crate) const PARTS: [(Location, &str, &str); 4] = [
    (Location::Path, "path", "path"),
    (Location::Query, "query", "query"),
    (Location::Header, "header", "headers"),
    (Location::Cookie, "cookie", "cookies"),
];

/// The Rust type of `t`, crates other than std reached through the runtime (`rt`).
pub(crate) fn ty(t: &TypeRef, rt: &TokenStream) -> TokenStream {
    match t {
        TypeRef::Named(name) => {
            let ident = format_ident!("{name}");
            quote!(types::#ident)
        }
        TypeRef::Replaced(path) => path
            .parse()
            .unwrap_or_else(|_| quote!(compile_error!("bad replacement path"))),
        TypeRef::String => quote!(::std::string::String),
        TypeRef::DateTime => quote!(#rt::chrono::DateTime<#rt::chrono::offset::Utc>),
        TypeRef::Date => quote!(#rt::chrono::naive::NaiveDate),
        TypeRef::Uuid => quote!(#rt::uuid::Uuid),
        TypeRef::I32 => quote!(i32),
        TypeRef::I64 => quote!(i64),
        TypeRef::F64 => quote!(f64),
        TypeRef::Bool => quote!(bool),
        TypeRef::Vec(inner) => {
            let inner = ty(inner, rt);
            quote!(::std::vec::Vec<#inner>)
        }
        TypeRef::Option(inner) => {
            let inner = ty(inner, rt);
            quote!(::std::option::Option<#inner>)
        }
        TypeRef::Value => quote!(#rt::serde_json::Value),
        TypeRef::Map => quote!(#rt::serde_json::Map<::std::string::String, #rt::serde_json::Value>),
        TypeRef::HashMap(inner) => {
            let inner = ty(inner, rt);
            quote!(::std::collections::HashMap<::std::string::String, #inner>)
        }
        TypeRef::Bytes => quote!(#rt::Bytes),
    }
}

/// The runtime's `ParamKind` of a scalar: how a parameter's or form field's text converts.
pub(crate) fn param_kind(kind: ScalarKind, rt: &TokenStream) -> TokenStream {
    let kind = match kind {
        ScalarKind::String => quote!(String),
        ScalarKind::Integer => quote!(Integer),
        ScalarKind::Number => quote!(Number),
        ScalarKind::Boolean => quote!(Boolean),
        ScalarKind::Any => quote!(Any),
    };
    quote!(#rt::ParamKind::#kind)
}

/// `(argument name, type)` of every typed input after `ctx`, in trait order.
pub(crate) fn inputs(op: &ir::Operation, rt: &TokenStream) -> Vec<(Ident, TokenStream)> {
    let mut inputs = Vec::new();
    for (location, _, arg) in PARTS {
        if !params_in(op, location).is_empty() {
            let name = struct_name(op, location);
            inputs.push((format_ident!("{arg}"), quote!(#name)));
        }
    }
    if let Some(body) = &op.body {
        let t = body_type(op, body, rt);
        let t = if body.required {
            t
        } else {
            quote!(::std::option::Option<#t>)
        };
        inputs.push((format_ident!("body"), t));
    }
    inputs
}

fn trait_method(op: &ir::Operation, rt: &TokenStream) -> TokenStream {
    let method = method_ident(&op.id);
    let response = response_enum(op);
    let caller = match &op.security {
        None => quote!(()),
        Some(security) if security.optional => quote!(::std::option::Option<Self::Caller>),
        Some(_) => quote!(Self::Caller),
    };
    let inputs = inputs(op, rt).into_iter().map(|(name, t)| quote!(#name: #t));
    let mut doc = op.doc.clone();
    if !op.rejections.is_empty() {
        let list: Vec<String> = op.rejections.iter().map(ToString::to_string).collect();
        doc.push_str(&format!(
            "\n\nDocumented errors ({}) are answered by returning `Err(Rejection)`.",
            list.join(", ")
        ));
    }
    quote! {
        #[doc = #doc]
        fn #method(&self, ctx: #rt::Context<#caller>, #(#inputs),*)
            -> impl ::std::future::Future<Output = ::std::result::Result<#response, #rt::Rejection>> + Send;
    }
}

/// The parameter structs, the response enum and its `IntoResponse`, and the handler.
fn items(op: &ir::Operation, rt: &TokenStream, api: &Ident, security: Option<&Ident>) -> TokenStream {
    let mut items = TokenStream::new();
    for (location, what) in [
        (Location::Path, "Path"),
        (Location::Query, "Query"),
        (Location::Header, "Header"),
        (Location::Cookie, "Cookie"),
    ] {
        let params = params_in(op, location);
        if params.is_empty() {
            continue;
        }
        let name = struct_name(op, location);
        let doc = format!("{what} parameters of `{}`.", op.id);
        let fields = params.iter().map(|p| {
            let (field, api_name, t) = (format_ident!("{}", p.field), &p.name, ty(&p.ty, rt));
            let doc = p.doc.as_deref().unwrap_or("").trim();
            if p.required {
                quote! { #[doc = #doc] #[serde(rename = #api_name)] pub #field: #t, }
            } else {
                quote! { #[doc = #doc] #[serde(rename = #api_name, default)] pub #field: ::std::option::Option<#t>, }
            }
        });
        items.extend(quote! {
            #[doc = #doc]
            #[derive(::serde::Deserialize, Clone, Debug)]
            pub struct #name { #(#fields)* }
        });
    }

    items.extend(body_items(op, rt));
    items.extend(responses::response_items(op, rt));
    items.extend(handler_fn(op, rt, api, security));
    items
}

#[cfg(test)]
mod tests {
    use quote::quote;

    /// (typify's tokens, as rooted at the runtime)
    const PATHS: &[(&str, &str)] = &[
        ("x : :: chrono :: Utc", "x : :: rt :: chrono :: Utc"),
        ("pub :: serde_json :: Map", "pub :: rt :: serde_json :: Map"),
        (
            "fn f () -> :: serde_json :: Value",
            "fn f () -> :: rt :: serde_json :: Value",
        ),
        (
            "impl From < A > for :: serde_json :: Value { }",
            "impl From < A > for :: rt :: serde_json :: Value { }",
        ),
        ("a :: chrono :: Utc", "a :: chrono :: Utc"),
        ("< T > :: uuid", "< T > :: uuid"),
        (":: other :: Thing", ":: other :: Thing"),
    ];

    #[test]
    fn paths_of_reexported_crates_start_at_the_runtime() {
        for (written, expected) in PATHS {
            let tokens: proc_macro2::TokenStream = written.parse().unwrap();
            let got = super::through_runtime(tokens, &quote!(::rt)).to_string();
            assert_eq!(got, *expected, "{written}");
        }
    }
}
