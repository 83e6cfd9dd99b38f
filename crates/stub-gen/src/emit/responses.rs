//! The response enum of one operation and its `IntoResponse`: a variant per documented answer (a status, a range
//! or `default`), each body in its media type, documented headers set.

use heck::ToPascalCase;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{response_enum, ty};
use crate::ir::{self, MediaKind, Status};
use crate::names::{field_ident, pascal, status_name};

/// The variant name of an answer.
fn variant(status: Status) -> Ident {
    match status {
        Status::Code(code) => format_ident!("{}", status_name(code)),
        Status::Range(hundreds) => {
            let class = ["Informational", "Success", "Redirection", "ClientError", "ServerError"];
            format_ident!("Any{}", class[usize::from(hundreds.clamp(1, 5)) - 1])
        }
        Status::Default => format_ident!("Default"),
    }
}

/// The enum of a body documented in several media types: one variant per media type.
fn body_enum(op: &ir::Operation, r: &ir::Response) -> Ident {
    format_ident!("{}{}Body", pascal(&op.id), variant(r.status))
}

fn media_variant(media: &str) -> Ident {
    let essence = media.split(';').next().unwrap_or("").trim();
    let name = essence.replace('*', "any").to_pascal_case();
    format_ident!("{}", if name.is_empty() { "Any".to_owned() } else { name })
}

/// The `Content-Type` of an answer: the documented media type, made concrete where it is a wildcard.
fn content_type(content: &ir::Content) -> String {
    let essence = content
        .media
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !essence.contains('*') {
        return content.media.clone();
    }
    match content.kind {
        MediaKind::Json => "application/json".to_owned(),
        MediaKind::Text => "text/plain; charset=utf-8".to_owned(),
        MediaKind::Binary => "application/octet-stream".to_owned(),
    }
}

fn body_type(op: &ir::Operation, r: &ir::Response, rt: &TokenStream) -> Option<TokenStream> {
    match r.content.as_slice() {
        [] => None,
        [one] => Some(ty(&one.ty, rt)),
        _ => {
            let name = body_enum(op, r);
            Some(quote!(#name))
        }
    }
}

/// A response expression for `body` in one media type, with `status` (an expression).
fn render(content: &ir::Content, rt: &TokenStream, status: &TokenStream, body: TokenStream) -> TokenStream {
    let media = content_type(content);
    match content.kind {
        MediaKind::Json => quote!(#rt::json_as(#status, &#body, #media)),
        MediaKind::Text => quote!(#rt::text(#status, #body, #media)),
        MediaKind::Binary => quote!(#rt::bytes(#status, #body, #media)),
    }
}

/// The response enum, the body enums of answers with several media types, and `IntoResponse`.
pub(super) fn response_items(op: &ir::Operation, rt: &TokenStream) -> TokenStream {
    let mut items = TokenStream::new();
    for r in op.responses.iter().filter(|r| r.content.len() > 1) {
        let name = body_enum(op, r);
        let doc = format!(
            "The body of `{}`'s {} answer, in one of its media types.",
            op.id, r.status
        );
        let variants = r.content.iter().map(|c| {
            let (v, t, doc) = (media_variant(&c.media), ty(&c.ty, rt), format!("`{}`", c.media));
            quote! { #[doc = #doc] #v(#t), }
        });
        items.extend(quote! {
            #[doc = #doc]
            #[derive(Debug)]
            pub enum #name { #(#variants)* }
        });
    }

    let response = response_enum(op);
    let doc = format!(
        "Every documented answer of `{}` but the envelope's, one variant per status.",
        op.id
    );
    let variants = op.responses.iter().map(|r| {
        let (name, doc) = (variant(r.status), &r.doc);
        let headers: Vec<TokenStream> = r
            .headers
            .iter()
            .map(|h| {
                let (field, t) = (field_ident(&h.name), ty(&h.ty, rt));
                let doc = h.doc.as_deref().unwrap_or("").trim();
                let t = if h.required {
                    t
                } else {
                    quote!(::std::option::Option<#t>)
                };
                quote! { #[doc = #doc] #field: #t, }
            })
            .collect();
        let body = body_type(op, r, rt);
        match (r.status, body, headers.is_empty()) {
            (Status::Code(_), None, true) => quote! { #[doc = #doc] #name, },
            (Status::Code(_), Some(body), true) => quote! { #[doc = #doc] #name(#body), },
            (status, body, _) => {
                let status = (!matches!(status, Status::Code(_))).then(|| {
                    quote! { #[doc = "The status to answer with (within what this variant documents)."] status: u16, }
                });
                let body = body.map(|b| quote! { #[doc = "The body."] body: #b, });
                quote! { #[doc = #doc] #name { #status #body #(#headers)* }, }
            }
        }
    });
    let arms = op.responses.iter().map(|r| {
        let name = variant(r.status);
        // A documented code is a literal; a range or `default` is the variant's own, checked first.
        let (status, check) = match r.status {
            Status::Code(code) => (quote!(#code), TokenStream::new()),
            Status::Range(hundreds) => (
                quote!(status),
                quote! {
                    let status = match #rt::checked_status(status, ::std::option::Option::Some(#hundreds)) {
                        ::std::option::Option::Some(status) => status,
                        ::std::option::Option::None => return #rt::undocumented_status(status),
                    };
                },
            ),
            Status::Default => (
                quote!(status),
                quote! {
                    let status = match #rt::checked_status(status, ::std::option::Option::None) {
                        ::std::option::Option::Some(status) => status,
                        ::std::option::Option::None => return #rt::undocumented_status(status),
                    };
                },
            ),
        };
        let make = match r.content.as_slice() {
            [] => quote!(#rt::empty(#status)),
            [one] => render(one, rt, &status, quote!(body)),
            many => {
                let body_enum = body_enum(op, r);
                let arms = many.iter().map(|c| {
                    let v = media_variant(&c.media);
                    let render = render(c, rt, &status, quote!(inner));
                    quote! { #body_enum::#v(inner) => #render, }
                });
                quote!(match body { #(#arms)* })
            }
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
        let has_body = !r.content.is_empty();
        let answer = if r.headers.is_empty() {
            make.clone()
        } else {
            quote! {{ let mut response = #make; #(#sets)* response }}
        };
        match (r.status, has_body, r.headers.is_empty()) {
            (Status::Code(_), false, true) => quote! { Self::#name => #make, },
            (Status::Code(_), true, true) => quote! { Self::#name(body) => #make, },
            (kind, has_body, _) => {
                let status_field = (!matches!(kind, Status::Code(_))).then(|| quote!(status,));
                let body = has_body.then(|| quote!(body,));
                quote! {
                    Self::#name { #status_field #body #(#fields),* } => {
                        #check
                        #answer
                    }
                }
            }
        }
    });
    items.extend(quote! {
        #[doc = #doc]
        #[derive(Debug)]
        pub enum #response { #(#variants)* }

        impl #rt::axum::response::IntoResponse for #response {
            fn into_response(self) -> #rt::axum::response::Response {
                match self { #(#arms)* }
            }
        }
    });
    items
}
