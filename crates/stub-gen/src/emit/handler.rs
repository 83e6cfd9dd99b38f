//! The generated handler of one operation: extraction, authentication, validation, the call, the answer.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::body::body_statements;
use super::validators::check_tokens;
use super::{PARTS, handler_ident, inputs, params_in, struct_name};
use crate::ir::{self, Location, ScalarKind};
use crate::names::method_ident;
use proc_macro2::Ident;

pub(super) fn handler_fn(op: &ir::Operation, rt: &TokenStream, api: &Ident) -> TokenStream {
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
                let ctx = #rt::Context { caller, request_id: request_id.clone(), accept: #rt::accept(&parts.headers) };
                let response = api.#method(ctx, #(#args),*).await?;
                ::std::result::Result::<_, #rt::Rejection>::Ok(::axum::response::IntoResponse::into_response(response))
            };
            #finish
        }
    }
}
