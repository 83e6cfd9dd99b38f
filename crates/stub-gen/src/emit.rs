//! Emitting: [`ir::Api`] -> tokens. Everything was decided by lowering, so nothing here can fail; the generated code
//! only wires the spec's operations to the runtime crate, reached through the one path in the settings.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::Settings;

mod body;
mod handler;
mod responses;
mod validators;

use crate::ir::{self, Location, TypeRef};
use crate::names::{method_ident, pascal};
use body::{body_items, body_type};
use handler::handler_fn;
use validators::validator;

/// The `types` module: the items of the type space shared with the client.
pub fn types_module(types: &TokenStream) -> TokenStream {
    quote! {
        /// Types used as operation parameters and responses, shared with the client.
        #[allow(clippy::all)]
        pub mod types {
            #types
        }
    }
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
    // Each route clones the state; a spec without operations leaves it unused.
    let state = if api.operations.is_empty() {
        quote!(_state)
    } else {
        quote!(state)
    };
    let validators = api.validators.iter().map(|(name, check)| validator(name, check, rt));
    let securities = securities
        .iter()
        .enumerate()
        .map(|(index, security)| handler::security_const(index, security, rt));
    quote! {
        #(#securities)*

        type Shared<A> = (::std::sync::Arc<A>, ::std::sync::Arc<#rt::RouterConfig>);

        /// The axum router for every operation: it owns extraction, authentication, validation and every
        /// rejection (404, 405 with `Allow`, 400, 401, 413, 422, 426, a caught panic as 500), all in the envelope,
        /// and sets `x-request-id` on every response.
        pub fn router<A: #trait_name>(api: ::std::sync::Arc<A>, config: #rt::RouterConfig) -> ::axum::Router {
            let config = ::std::sync::Arc::new(config);
            let #state: Shared<A> = (api, ::std::sync::Arc::clone(&config));
            let for_405 = ::std::sync::Arc::clone(&config);
            let routes = ::axum::Router::new()
                #(#routes)*
                .method_not_allowed_fallback(move |request: ::axum::extract::Request| #rt::method_not_allowed(request, for_405))
                .fallback(move |request: ::axum::extract::Request| #rt::not_found(request, config));
            #rt::layers(routes)
        }

        /// Validators generated from the component schemas: each records every violation of a value into the
        /// [`Validator`](#rt::Validator).
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
    quote! {
        #[doc = #trait_doc]
        pub trait #trait_name: Send + Sync + 'static {
            /// What `authenticate` returns; passed to every operation that has security requirements (as an `Option`
            /// where security is optional).
            type Caller: Send + Sync + 'static;

            /// The credentials of the first security requirement the request satisfies (one per scheme it names;
            /// missing or malformed ones were already answered 401) -> caller, or a rejection (401/403/429, or a 5xx
            /// when the credential store fails). Runs before the body is read.
            fn authenticate(&self, credentials: #rt::Credentials, request_id: &#rt::RequestId)
                -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, #rt::Rejection>> + Send;

            #(#methods)*
        }
    }
}

/// `.route(path, get_service(…).post_service(…))` per path, in spec order: each handler as a `stub_runtime::Operation`
/// service over the shared state.
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
                let method = service(op.method);
                let handler = handler_ident(op);
                let service = quote! { #rt::Operation::new(::std::clone::Clone::clone(&state), #handler::<A>) };
                chain.extend(if i == 0 {
                    quote! { ::axum::routing::#method(#service) }
                } else {
                    quote! { .#method(#service) }
                });
            }
            quote! { .route(#path, #chain) }
        })
        .collect()
}

/// axum's `MethodRouter` constructor (and method) for a service answering `method`.
fn service(method: ir::Method) -> Ident {
    let name = match method {
        ir::Method::Get => "get_service",
        ir::Method::Put => "put_service",
        ir::Method::Post => "post_service",
        ir::Method::Delete => "delete_service",
        ir::Method::Options => "options_service",
        ir::Method::Head => "head_service",
        ir::Method::Patch => "patch_service",
        ir::Method::Trace => "trace_service",
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

pub(crate) fn ty(t: &TypeRef) -> TokenStream {
    match t {
        TypeRef::Named(name) => {
            let ident = format_ident!("{name}");
            quote!(types::#ident)
        }
        TypeRef::Replaced(path) => path
            .parse()
            .unwrap_or_else(|_| quote!(compile_error!("bad replacement path"))),
        TypeRef::String => quote!(::std::string::String),
        TypeRef::DateTime => quote!(::chrono::DateTime<::chrono::offset::Utc>),
        TypeRef::Date => quote!(::chrono::naive::NaiveDate),
        TypeRef::Uuid => quote!(::uuid::Uuid),
        TypeRef::I32 => quote!(i32),
        TypeRef::I64 => quote!(i64),
        TypeRef::F64 => quote!(f64),
        TypeRef::Bool => quote!(bool),
        TypeRef::Vec(inner) => {
            let inner = ty(inner);
            quote!(::std::vec::Vec<#inner>)
        }
        TypeRef::Option(inner) => {
            let inner = ty(inner);
            quote!(::std::option::Option<#inner>)
        }
        TypeRef::Value => quote!(::serde_json::Value),
        TypeRef::Map => quote!(::serde_json::Map<::std::string::String, ::serde_json::Value>),
        TypeRef::HashMap(inner) => {
            let inner = ty(inner);
            quote!(::std::collections::HashMap<::std::string::String, #inner>)
        }
        TypeRef::Bytes => quote!(::axum::body::Bytes),
    }
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
            let (field, api_name, t) = (format_ident!("{}", p.field), &p.name, ty(&p.ty));
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
