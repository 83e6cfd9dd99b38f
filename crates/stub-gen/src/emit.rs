//! Emitting: [`ir::Api`] -> tokens. Everything was decided by lowering, so nothing here can fail; the generated code
//! only wires the spec's operations to the runtime crate, reached through the one path in the settings.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::Settings;
use crate::ir::{self, Additional, Check, Location, ScalarKind, StringFormat, TypeRef};
use crate::names::{field_ident, method_ident, pascal, status_name, validator_ident};

/// The stub module: types, the trait, per-operation items, the router and the validators.
pub fn emit(api: &ir::Api, types: &TokenStream, settings: &Settings) -> TokenStream {
    let rt = &settings.runtime_path();
    let trait_name = format_ident!("{}", settings.api_trait);
    let trait_doc = format!(
        "The operations of {} (version {}): implement this on your state and pass it to [`router`].",
        api.title, api.version
    );
    let methods = api.operations.iter().map(|op| trait_method(op, rt));
    let items = api.operations.iter().map(|op| items(op, rt, &trait_name));
    let routes = routes(&api.operations);
    let validators = api.validators.iter().map(|(name, check)| validator(name, check, rt));
    quote! {
        /// Types used as operation parameters and responses, shared with the client.
        #[allow(clippy::all)]
        pub mod types {
            #types
        }

        #[doc = #trait_doc]
        pub trait #trait_name: Send + Sync + 'static {
            /// What `authenticate` returns; passed to every operation that has security requirements.
            type Caller: Send + Sync + 'static;

            /// Bearer token (already extracted; scheme matched case-insensitively) -> caller, or a rejection
            /// (401/403/429, or a 5xx when the token store fails). Runs before the body is read.
            fn authenticate(&self, token: &str, request_id: &#rt::RequestId)
                -> impl ::std::future::Future<Output = ::std::result::Result<Self::Caller, #rt::Rejection>> + Send;

            #(#methods)*
        }

        #(#items)*

        type Shared<A> = (::std::sync::Arc<A>, ::std::sync::Arc<#rt::RouterConfig>);

        /// The axum router for every operation: it owns extraction, authentication, validation and every
        /// rejection (404, 405 with `Allow`, 400, 401, 413, 422, 426, a caught panic as 500), all in the envelope,
        /// and sets `x-request-id` on every response.
        pub fn router<A: #trait_name>(api: ::std::sync::Arc<A>, config: #rt::RouterConfig) -> ::axum::Router {
            let config = ::std::sync::Arc::new(config);
            let state: Shared<A> = (api, ::std::sync::Arc::clone(&config));
            let for_405 = ::std::sync::Arc::clone(&config);
            let routes = ::axum::Router::new()
                #(#routes)*
                .method_not_allowed_fallback(move |request: ::axum::extract::Request| #rt::method_not_allowed(request, for_405))
                .fallback(move |request: ::axum::extract::Request| #rt::not_found(request, config))
                .with_state(state);
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

/// `.route(path, get(handler).post(handler))` per path, in spec order.
fn routes(ops: &[ir::Operation]) -> Vec<TokenStream> {
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
                let method = format_ident!("{}", op.method);
                let handler = handler_ident(op);
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

fn handler_ident(op: &ir::Operation) -> Ident {
    format_ident!("handle_{}", method_ident(&op.id).to_string().trim_start_matches("r#"))
}

fn response_enum(op: &ir::Operation) -> Ident {
    format_ident!("{}Response", pascal(&op.id))
}

fn struct_name(op: &ir::Operation, location: Location) -> Ident {
    let stem = pascal(&op.id);
    match location {
        Location::Path => format_ident!("{stem}Path"),
        Location::Query => format_ident!("{stem}Query"),
        Location::Header => format_ident!("{stem}Headers"),
    }
}

fn params_in(op: &ir::Operation, location: Location) -> Vec<&ir::Param> {
    op.params.iter().filter(|p| p.location == location).collect()
}

const PARTS: [(Location, &str, &str); 3] = [
    (Location::Path, "path", "path"),
    (Location::Query, "query", "query"),
    (Location::Header, "header", "headers"),
];

fn ty(t: &TypeRef) -> TokenStream {
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
    }
}

/// `(argument name, type)` of every typed input after `ctx`, in trait order.
fn inputs(op: &ir::Operation) -> Vec<(Ident, TokenStream)> {
    let mut inputs = Vec::new();
    for (location, _, arg) in PARTS {
        if !params_in(op, location).is_empty() {
            let name = struct_name(op, location);
            inputs.push((format_ident!("{arg}"), quote!(#name)));
        }
    }
    if let Some(body) = &op.body {
        let t = ty(&body.ty);
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
    let caller = if op.secured { quote!(Self::Caller) } else { quote!(()) };
    let inputs = inputs(op).into_iter().map(|(name, t)| quote!(#name: #t));
    let mut doc = op.doc.clone();
    if !op.rejections.is_empty() {
        let list: Vec<String> = op.rejections.iter().map(u16::to_string).collect();
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
fn items(op: &ir::Operation, rt: &TokenStream, api: &Ident) -> TokenStream {
    let mut items = TokenStream::new();
    for (location, what) in [
        (Location::Path, "Path"),
        (Location::Query, "Query"),
        (Location::Header, "Header"),
    ] {
        let params = params_in(op, location);
        if params.is_empty() {
            continue;
        }
        let name = struct_name(op, location);
        let doc = format!("{what} parameters of `{}`.", op.id);
        let fields = params.iter().map(|p| {
            let (field, api_name, t) = (field_ident(&p.name), &p.name, ty(&p.ty));
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

    let response = response_enum(op);
    let doc = format!(
        "Every documented answer of `{}` but the envelope's, one variant per status.",
        op.id
    );
    let variants = op.responses.iter().map(|r| {
        let (name, doc) = (format_ident!("{}", status_name(r.code)), &r.doc);
        let headers = r.headers.iter().map(|h| {
            let (field, t) = (field_ident(&h.name), ty(&h.ty));
            let doc = h.doc.as_deref().unwrap_or("").trim();
            let t = if h.required {
                t
            } else {
                quote!(::std::option::Option<#t>)
            };
            quote! { #[doc = #doc] #field: #t, }
        });
        match (&r.body, r.headers.is_empty()) {
            (None, true) => quote! { #[doc = #doc] #name, },
            (Some(body), true) => {
                let body = ty(body);
                quote! { #[doc = #doc] #name(#body), }
            }
            (Some(body), false) => {
                let body = ty(body);
                quote! { #[doc = #doc] #name { #[doc = "The body."] body: #body, #(#headers)* }, }
            }
            (None, false) => quote! { #[doc = #doc] #name { #(#headers)* }, },
        }
    });
    let arms = op.responses.iter().map(|r| {
        let (name, code) = (format_ident!("{}", status_name(r.code)), r.code);
        let make = if r.body.is_some() {
            quote!(#rt::json(#code, &body))
        } else {
            quote!(#rt::empty(#code))
        };
        let sets = r.headers.iter().map(|h| {
            let (field, header) = (field_ident(&h.name), &h.name);
            if h.required {
                quote! { #rt::header(&mut response, #header, #field); }
            } else {
                quote! { if let Some(value) = #field { #rt::header(&mut response, #header, value); } }
            }
        });
        let fields = r.headers.iter().map(|h| field_ident(&h.name));
        match (&r.body, r.headers.is_empty()) {
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
    items.extend(handler_fn(op, rt, api));
    items
}

fn handler_fn(op: &ir::Operation, rt: &TokenStream, api: &Ident) -> TokenStream {
    let handler = handler_ident(op);
    let method = method_ident(&op.id);
    let doc = format!(
        "Extracts, authenticates and validates a `{}` request, then calls the API.",
        op.id
    );
    let auth = if op.secured {
        quote! {
            let token = #rt::bearer_token(&parts.headers)?;
            let caller = api.authenticate(token, &request_id).await?;
        }
    } else {
        quote! { let caller = (); }
    };
    let mut extract = TokenStream::new();
    let mut convert = TokenStream::new();
    for (location, part, arg) in PARTS {
        let params = params_in(op, location);
        if params.is_empty() {
            continue;
        }
        let raw = format_ident!("{arg}_raw");
        let object = format_ident!("{arg}_object");
        let names = params.iter().map(|p| &p.name);
        extract.extend(match location {
            Location::Path => quote! { let mut #raw = #rt::path_params(&mut parts).await?; },
            Location::Query => quote! { let mut #raw = #rt::query_params(&parts.uri, &[#(#names),*])?; },
            Location::Header => quote! {},
        });
        let each = params.iter().map(|p| {
            let name = &p.name;
            let kind = match p.kind {
                ScalarKind::String => quote!(String),
                ScalarKind::Integer => quote!(Integer),
                ScalarKind::Number => quote!(Number),
                ScalarKind::Boolean => quote!(Boolean),
            };
            let check = check_tokens(&p.check, rt);
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
        let t = struct_name(op, location);
        convert.extend(quote! {
            let #arg: #t = #rt::typed(::serde_json::Value::Object(#object), #part)?;
        });
    }
    let mut read = TokenStream::new();
    if let Some(body) = &op.body {
        let (required, complete, t) = (body.required, body.typed_complete, ty(&body.ty));
        let check = check_tokens(&body.check, rt);
        read.extend(quote! {
            let bytes = #rt::read_body(&parts.headers, body, config.body_limit).await?;
        });
        extract.extend(quote! {
            let body: ::std::option::Option<#t> =
                #rt::decode_json(&parts.headers, &bytes, #required, #complete, cx, |v, cx| { #check })?;
        });
        convert.extend(if body.required {
            quote! { let body = #rt::present(body)?; }
        } else {
            quote! {}
        });
    }
    let args = inputs(op).into_iter().map(|(name, _)| name);
    let parts_mut = (!params_in(op, Location::Path).is_empty()).then(|| quote!(mut));
    // Every violation of every part is collected before answering, so one 422 lists them all.
    let validate = (!op.params.is_empty() || op.body.is_some()).then(|| {
        quote! {
            let mut validator = #rt::Validator::new();
            let cx = &mut validator;
            #extract
            validator.finish()?;
        }
    });
    // An operation without a body never reads one, so whatever a client sent is drained after every answer (free
    // when there is none); with a body, only the answers sent before reading it need that.
    let respond = quote! {
        match answer.await {
            Ok(response) => response,
            Err(rejection) => rejection.into_response_for(&request_id),
        }
    };
    let finish = if op.body.is_some() {
        respond
    } else {
        quote! {
            let response = #respond;
            #rt::answer_unread(response, body, &config).await
        }
    };
    quote! {
        #[doc = #doc]
        async fn #handler<A: #api>(
            ::axum::extract::State((api, config)): ::axum::extract::State<Shared<A>>,
            request: ::axum::extract::Request,
        ) -> ::axum::response::Response {
            let (#parts_mut parts, body) = request.into_parts();
            let request_id = #rt::request_id(&parts);
            // What is answered before the body is read; such an answer drains the body first, or closes.
            let early = async {
                #rt::check_api_version(&parts.headers, &config)?;
                #auth
                ::std::result::Result::<_, #rt::Rejection>::Ok(caller)
            };
            let caller = match early.await {
                Ok(caller) => caller,
                Err(rejection) => {
                    let response = rejection.into_response_for(&request_id);
                    return #rt::answer_unread(response, body, &config).await;
                }
            };
            let answer = async {
                #read
                #validate
                #convert
                let ctx = #rt::Context { caller, request_id: request_id.clone() };
                let response = api.#method(ctx, #(#args),*).await?;
                ::std::result::Result::<_, #rt::Rejection>::Ok(::axum::response::IntoResponse::into_response(response))
            };
            #finish
        }
    }
}

/// A component schema's validator; a string schema also gets a `_str` twin that replacement types can call.
fn validator(name: &str, check: &Check, rt: &TokenStream) -> TokenStream {
    let f = validator_ident(name);
    let doc = format!("Validates a `{name}`, recording every violation.");
    if let Check::String { nullable, .. } = check {
        let f_str = format_ident!("{f}_str");
        let checks = string_checks(check, rt);
        let doc_str = format!("Validates the text of a `{name}`, recording every violation.");
        return quote! {
            #[doc = #doc]
            pub fn #f(v: &::serde_json::Value, cx: &mut #rt::Validator) {
                if let Some(s) = cx.string(v, #nullable) { #f_str(s, cx); }
            }

            #[doc = #doc_str]
            pub fn #f_str(s: &str, cx: &mut #rt::Validator) {
                let _ = &s;
                #(#checks)*
            }
        };
    }
    let body = check_tokens(check, rt);
    quote! {
        #[doc = #doc]
        pub fn #f(v: &::serde_json::Value, cx: &mut #rt::Validator) {
            #body
        }
    }
}

fn string_checks(check: &Check, rt: &TokenStream) -> Vec<TokenStream> {
    let Check::String {
        values,
        min_length,
        max_length,
        pattern,
        format,
        ..
    } = check
    else {
        return Vec::new();
    };
    let mut checks = Vec::new();
    if !values.is_empty() {
        checks.push(quote! { cx.one_of_str(s, &[#(#values),*]); });
    }
    if let Some(min) = min_length {
        checks.push(quote! { cx.min_length(s, #min); });
    }
    if let Some(max) = max_length {
        checks.push(quote! { cx.max_length(s, #max); });
    }
    if let Some(pattern) = pattern {
        checks.push(quote! {
            static PATTERN: #rt::Pattern = #rt::Pattern::new(#pattern);
            cx.pattern(s, &PATTERN);
        });
    }
    match format {
        Some(StringFormat::DateTime) => checks.push(quote! { cx.date_time(s); }),
        Some(StringFormat::Date) => checks.push(quote! { cx.date(s); }),
        Some(StringFormat::Uuid) => checks.push(quote! { cx.uuid(s); }),
        None => {}
    }
    checks
}

/// Statements that validate `v: &serde_json::Value` against the check, recording into `cx`.
fn check_tokens(check: &Check, rt: &TokenStream) -> TokenStream {
    match check {
        Check::Ref(name) => {
            let f = validator_ident(name);
            quote! { validators::#f(v, cx); }
        }
        Check::Any { nullable } => quote! { cx.any(v, #nullable); },
        Check::String { nullable, .. } => {
            let checks = string_checks(check, rt);
            if checks.is_empty() {
                quote! { cx.string(v, #nullable); }
            } else {
                quote! { if let Some(s) = cx.string(v, #nullable) { #(#checks)* } }
            }
        }
        Check::Integer {
            nullable,
            values,
            minimum,
            maximum,
            multiple_of,
        } => {
            let mut checks = Vec::new();
            if !values.is_empty() {
                let values = values.iter().map(|n| Literal::i128_unsuffixed(*n));
                checks.push(quote! { cx.one_of_int(n, &[#(#values),*]); });
            }
            if let Some((min, exclusive)) = minimum {
                let min = Literal::i128_unsuffixed(*min);
                checks.push(quote! { cx.int_minimum(n, #min, #exclusive); });
            }
            if let Some((max, exclusive)) = maximum {
                let max = Literal::i128_unsuffixed(*max);
                checks.push(quote! { cx.int_maximum(n, #max, #exclusive); });
            }
            if let Some(factor) = multiple_of {
                checks.push(quote! { cx.multiple_of(n as f64, #factor); });
            }
            if checks.is_empty() {
                quote! { cx.integer(v, #nullable); }
            } else {
                quote! { if let Some(n) = cx.integer(v, #nullable) { #(#checks)* } }
            }
        }
        Check::Number {
            nullable,
            minimum,
            maximum,
            multiple_of,
        } => {
            let mut checks = Vec::new();
            if let Some((min, exclusive)) = minimum {
                checks.push(quote! { cx.minimum(x, #min, #exclusive); });
            }
            if let Some((max, exclusive)) = maximum {
                checks.push(quote! { cx.maximum(x, #max, #exclusive); });
            }
            if let Some(factor) = multiple_of {
                checks.push(quote! { cx.multiple_of(x, #factor); });
            }
            if checks.is_empty() {
                quote! { cx.number(v, #nullable); }
            } else {
                quote! { if let Some(x) = cx.number(v, #nullable) { #(#checks)* } }
            }
        }
        Check::Boolean { nullable } => quote! { cx.boolean(v, #nullable); },
        Check::Object {
            nullable,
            required,
            properties,
            additional,
        } => {
            let known: Vec<&String> = properties.iter().map(|(key, _)| key).collect();
            let mut checks = Vec::new();
            if !required.is_empty() {
                checks.push(quote! { cx.required(obj, &[#(#required),*]); });
            }
            for (key, property) in properties {
                let inner = check_tokens(property, rt);
                checks.push(quote! {
                    if let Some(v) = obj.get(#key) {
                        cx.enter(#key);
                        #inner
                        cx.leave();
                    }
                });
            }
            match additional {
                Additional::None => checks.push(quote! { cx.no_extra(obj, &[#(#known),*]); }),
                Additional::Schema(extra) => {
                    let inner = check_tokens(extra, rt);
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
                Additional::Any => {}
            }
            if checks.is_empty() {
                quote! { cx.object(v, #nullable); }
            } else {
                quote! { if let Some(obj) = cx.object(v, #nullable) { #(#checks)* } }
            }
        }
        Check::Array {
            nullable,
            min_items,
            max_items,
            items,
        } => {
            let mut checks = Vec::new();
            if let Some(min) = min_items {
                checks.push(quote! { cx.min_items(items, #min); });
            }
            if let Some(max) = max_items {
                checks.push(quote! { cx.max_items(items, #max); });
            }
            if let Some(item) = items {
                let inner = check_tokens(item, rt);
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
        Check::Wrapped { nullable, inner } => {
            let inner = check_tokens(inner, rt);
            if *nullable {
                quote! { if !v.is_null() { #inner } }
            } else {
                inner
            }
        }
    }
}
