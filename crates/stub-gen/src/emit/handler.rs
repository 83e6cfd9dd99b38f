//! The generated handler of one operation: extraction, authentication, validation, the call, the answer.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use proc_macro2::Ident;

use super::body::body_statements;
use super::validators::check_tokens;
use super::{PARTS, handler_ident, inputs, param_kind, params_in, struct_name};
use crate::ir::{self, Location, SchemeKind, Shape};
use crate::names::method_ident;

/// `security` is the const holding the operation's security requirements ([`security_const`]), if it has any.
pub(super) fn handler_fn(op: &ir::Operation, rt: &TokenStream, api: &Ident, security: Option<&Ident>) -> TokenStream {
    let handler = handler_ident(op);
    let method = method_ident(&op.id);
    let doc = format!(
        "Extracts, authenticates and validates a `{}` request, then calls the API.",
        op.id
    );
    let auth = auth(op, rt, security);
    let mut extract = TokenStream::new();
    let mut convert = TokenStream::new();
    for (location, part, arg) in PARTS {
        let params = params_in(op, location);
        if params.is_empty() {
            continue;
        }
        let raw = format_ident!("{arg}_raw");
        let object = format_ident!("{arg}_object");
        extract.extend(match location {
            Location::Path => quote! { let mut #raw = #rt::path_params(&mut parts).await?; },
            Location::Query => quote! { let #raw = #rt::query(&parts.uri); },
            Location::Cookie => quote! { let #raw = #rt::cookies(&parts.headers)?; },
            Location::Header => quote! {},
        });
        let each = params.iter().map(|p| {
            let name = &p.name;
            let check = check_tokens(&p.check, rt);
            let take = match (location, &p.shape) {
                (Location::Path, _) => quote! { #raw.remove(#name) },
                (Location::Header, _) => quote! { #rt::header_param(&parts.headers, #name)? },
                (_, Shape::Array { delimiter: None, .. }) => quote! { #raw.repeated(#name) },
                (_, Shape::Object { .. }) => quote! { #raw.deep_object(#name)? },
                (_, Shape::OneOrMany { delimiter: None, .. }) => quote! { #raw.repeated(#name) },
                // Each declared property is a key of its own.
                (
                    _,
                    Shape::FormObject {
                        properties,
                        explode: true,
                    },
                ) => {
                    let keys = properties.iter().map(|(key, _)| key);
                    quote! {{
                        let mut fields = ::std::vec::Vec::new();
                        for key in [#(#keys),*] {
                            if let ::std::option::Option::Some(value) = #raw.single(key)? {
                                fields.push((key.to_owned(), value));
                            }
                        }
                        (!fields.is_empty()).then_some(fields)
                    }}
                }
                // Keys and values alternate in one value.
                (_, Shape::FormObject { explode: false, .. }) => quote! {
                    #raw.single(#name)?.map(|text| {
                        #rt::split(&text, ',')
                            .chunks(2)
                            .map(|pair| (pair[0].clone(), pair.get(1).cloned().unwrap_or_default()))
                            .collect::<::std::vec::Vec<_>>()
                    })
                },
                _ => quote! { #raw.single(#name)? },
            };
            let required = p.required;
            match &p.shape {
                // JSON text that does not parse is a violation of its own, and leaves nothing to validate.
                Shape::Json => {
                    let absent = required.then(|| quote! { cx.missing(#name) });
                    quote! {
                        match #take {
                            Some(raw) => {
                                cx.enter(#name);
                                if let Some(value) = #rt::json_param(&raw, cx) {
                                    {
                                        let v = &value;
                                        #check
                                    }
                                    #object.insert(::std::borrow::ToOwned::to_owned(#name), value);
                                }
                                cx.leave();
                            }
                            None => { #absent }
                        }
                    }
                }
                shape => {
                    let value = match shape {
                        Shape::Scalar(kind) => {
                            let kind = param_kind(*kind, rt);
                            quote! { #rt::coerce(raw, #kind) }
                        }
                        Shape::Array { items, delimiter } => {
                            let kind = param_kind(*items, rt);
                            match delimiter {
                                Some(delimiter) => quote! { #rt::coerce_items(#rt::split(&raw, #delimiter), #kind) },
                                None => quote! { #rt::coerce_items(raw, #kind) },
                            }
                        }
                        Shape::OneOrMany {
                            scalar,
                            items,
                            delimiter,
                        } => {
                            let (scalar, items) = (param_kind(*scalar, rt), param_kind(*items, rt));
                            let all = match delimiter {
                                Some(delimiter) => quote! { #rt::split(&raw, #delimiter) },
                                None => quote! { raw },
                            };
                            // One value is the scalar, several the array.
                            quote! {
                                match <[::std::string::String; 1]>::try_from(#all) {
                                    ::std::result::Result::Ok([one]) => #rt::coerce(one, #scalar),
                                    ::std::result::Result::Err(all) => #rt::coerce_items(all, #items),
                                }
                            }
                        }
                        Shape::Object { properties } | Shape::FormObject { properties, .. } => {
                            let fields = properties.iter().map(|(key, kind)| {
                                let kind = param_kind(*kind, rt);
                                quote! { (#key, #kind) }
                            });
                            quote! { #rt::coerce_fields(raw, &[#(#fields),*]) }
                        }
                        Shape::SimpleObject { properties, explode } => {
                            let fields = properties.iter().map(|(key, kind)| {
                                let kind = param_kind(*kind, rt);
                                quote! { (#key, #kind) }
                            });
                            quote! { #rt::coerce_fields(#rt::simple_object(&raw, #explode), &[#(#fields),*]) }
                        }
                        Shape::Json => unreachable!("matched above"),
                    };
                    quote! {
                        #rt::param(cx, &mut #object, #name, #take, #required, |raw| #value, |cx, v| { #check });
                    }
                }
            }
        });
        extract.extend(quote! {
            let mut #object = #rt::serde_json::Map::new();
            cx.enter(#part);
            #(#each)*
            cx.leave();
        });
        let arg = format_ident!("{arg}");
        let t = struct_name(op, location);
        convert.extend(quote! {
            let #arg: #t = #rt::typed(#rt::serde_json::Value::Object(#object), #part)?;
        });
    }
    let mut read = TokenStream::new();
    if let Some(body) = &op.body {
        let (receive, decode) = body_statements(op, body, rt);
        read.extend(receive);
        extract.extend(decode);
        convert.extend(if body.required {
            quote! { let body = #rt::present(body)?; }
        } else {
            quote! {}
        });
    }
    let args = inputs(op, rt).into_iter().map(|(name, _)| name);
    let parts_mut = (!params_in(op, Location::Path).is_empty()).then(|| quote!(mut));
    // Every violation of every part is collected before answering, so one 422 lists them all.
    let validate = (!extract.is_empty()).then(|| {
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
            #rt::axum::extract::State(#rt::StubState { api, config }): #rt::axum::extract::State<#rt::StubState<A>>,
            request_id: #rt::RequestId,
            request: #rt::axum::extract::Request,
        ) -> #rt::axum::response::Response {
            let (#parts_mut parts, body) = request.into_parts();
            // What is answered before the body is read; such an answer drains the body first, or closes.
            let early = async {
                #rt::check_api_version(&parts.headers, &config)?;
                #auth
                ::std::result::Result::<_, #rt::Rejection>::Ok(caller)
            };
            let caller = match early.await {
                Ok(caller) => caller,
                Err(rejection) => return #rt::refuse_unread(rejection, &request_id, body, &config).await,
            };
            let answer = async {
                #read
                #validate
                #convert
                let ctx = #rt::Context {
                    caller,
                    request_id: ::std::clone::Clone::clone(&request_id),
                    accept: #rt::accept(&parts.headers),
                };
                let response = A::#method(&api, ctx, #(#args),*).await?;
                #rt::respond(response)
            };
            #finish
        }
    }
}

/// Reading the credentials of the first satisfied requirement and `authenticate`; `()` without security.
fn auth(op: &ir::Operation, rt: &TokenStream, security: Option<&Ident>) -> TokenStream {
    let (Some(requirements), Some(security)) = (&op.security, security) else {
        return quote! { let caller = (); };
    };
    if requirements.optional {
        quote! {
            let caller = match #rt::optional_credentials(&parts, #security)? {
                Some(credentials) => Some(A::authenticate(&api, credentials, &request_id).await?),
                None => None,
            };
        }
    } else {
        quote! {
            let caller = A::authenticate(&api, #rt::credentials(&parts, #security)?, &request_id).await?;
        }
    }
}

/// The const of the `index`th distinct security requirements ([`security_const`]).
pub(super) fn security_ident(index: usize) -> Ident {
    format_ident!("SECURITY_{index}")
}

/// The const of one operation's security requirements, as alternatives of schemes: one per distinct set in the
/// spec, shared by every operation that has it.
pub(super) fn security_const(index: usize, security: &ir::Security, rt: &TokenStream) -> TokenStream {
    let name = security_ident(index);
    let alternatives = security.requirements.iter().map(|requirement| {
        let schemes = requirement.iter().map(|scheme| {
            let (name, scopes) = (&scheme.name, &scheme.scopes);
            match &scheme.kind {
                SchemeKind::Bearer => quote!(#rt::Scheme::bearer(#name, &[#(#scopes),*])),
                SchemeKind::Basic => quote!(#rt::Scheme::basic(#name, &[#(#scopes),*])),
                SchemeKind::Http { auth_scheme } => quote!(#rt::Scheme::http(#name, #auth_scheme, &[#(#scopes),*])),
                SchemeKind::MutualTls => quote!(#rt::Scheme::mutual_tls(#name, &[#(#scopes),*])),
                SchemeKind::ApiKey { location, name: key } => {
                    let location = match location {
                        Location::Query => quote!(Query),
                        Location::Cookie => quote!(Cookie),
                        Location::Header | Location::Path => quote!(Header),
                    };
                    quote!(#rt::Scheme::api_key(#name, #rt::KeyLocation::#location, #key, &[#(#scopes),*]))
                }
            }
        });
        quote! { &[#(#schemes),*] }
    });
    quote! {
        /// Security requirements shared by the operations that have them: alternatives, each a list of schemes.
        const #name: &[&[#rt::Scheme]] = &[#(#alternatives),*];
    }
}
