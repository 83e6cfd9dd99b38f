//! The request body in generated code: its type in the trait (an enum when there are several media types), and the
//! handler statements that receive it, choose the media type and decode it.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::validators::check_tokens;
use super::{param_kind, ty};
use crate::ir::{self, Decode};
use crate::names::pascal;

/// The type the trait method receives (before `Option` for an optional body).
pub(super) fn body_type(op: &ir::Operation, body: &ir::Body, rt: &TokenStream) -> TokenStream {
    match body.content.as_slice() {
        [one] => content_type(&one.decode, rt),
        _ => {
            let name = body_enum(op);
            quote!(#name)
        }
    }
}

/// The enum of a body with several media types, one variant each.
pub(super) fn body_items(op: &ir::Operation, rt: &TokenStream) -> TokenStream {
    let Some(body) = op.body.as_ref().filter(|body| body.content.len() > 1) else {
        return TokenStream::new();
    };
    let name = body_enum(op);
    let doc = format!(
        "The request body of `{}`, one variant per media type, chosen by the request's `Content-Type`.",
        op.id
    );
    let variants = body.content.iter().map(|content| {
        let (variant, t) = (format_ident!("{}", content.variant), content_type(&content.decode, rt));
        let doc = format!("`{}`", content.media);
        quote! { #[doc = #doc] #variant(#t), }
    });
    quote! {
        #[doc = #doc]
        #[derive(Debug)]
        pub enum #name { #(#variants)* }
    }
}

/// `(read, extract)`: the statements that receive the body (before the validator exists) and those that decode it
/// into `body: Option<_>`, recording violations into `cx` (empty when no media type is validated).
pub(super) fn body_statements(op: &ir::Operation, body: &ir::Body, rt: &TokenStream) -> (TokenStream, TokenStream) {
    let required = body.required;
    if let [
        ir::BodyContent {
            decode: Decode::Json { ty: t, check },
            ..
        },
    ] = body.content.as_slice()
    {
        // One JSON media type: read and decode straight (a wrong Content-Type stays the documented 400).
        let (t, check) = (ty(t, rt), check_tokens(check, rt));
        let read = quote! {
            let bytes = #rt::read_body(body, config.body_limit).await?;
        };
        let extract = quote! {
            let body: ::std::option::Option<#t> =
                #rt::decode_json(&parts.headers, &bytes, #required, cx, |v, cx| { #check })?;
        };
        return (read, extract);
    }
    let ranges = body.content.iter().map(|content| &content.media);
    let read = quote! {
        let received = #rt::receive(&parts.headers, body, &[#(#ranges),*], #required, config.body_limit).await?;
    };
    let decoded: Vec<TokenStream> = body
        .content
        .iter()
        .map(|content| {
            let decode = decode(&content.decode, rt);
            if body.content.len() == 1 {
                decode
            } else {
                let (name, variant) = (body_enum(op), format_ident!("{}", content.variant));
                quote!(#decode.map(#name::#variant))
            }
        })
        .collect();
    let choose = match decoded.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => {
            let arms = init.iter().enumerate().map(|(i, decode)| {
                let i = Literal::usize_unsuffixed(i);
                quote! { #i => #decode, }
            });
            quote! { match received.index() { #(#arms)* _ => #last, } }
        }
        [] => quote!(::std::option::Option::None),
    };
    let t = body_type(op, body, rt);
    let extract = quote! {
        let body: ::std::option::Option<#t> = match received {
            ::std::option::Option::None => ::std::option::Option::None,
            ::std::option::Option::Some(received) => #choose,
        };
    };
    let validated = body
        .content
        .iter()
        .any(|content| !matches!(content.decode, Decode::Multipart | Decode::Binary));
    if validated {
        (read, extract)
    } else {
        // Nothing to validate: decoded with the reading, so no validator is made for the body alone.
        (quote! { #read #extract }, TokenStream::new())
    }
}

/// An expression of type `Option<T>` for one media type's `T`, from `received`.
fn decode(decode: &Decode, rt: &TokenStream) -> TokenStream {
    match decode {
        Decode::Json { ty: t, check } => {
            let (t, check) = (ty(t, rt), check_tokens(check, rt));
            quote! { #rt::json_body::<#t>(&received.bytes()?, cx, |v, cx| { #check })? }
        }
        Decode::Form { ty: t, check, fields } => {
            let (t, check) = (ty(t, rt), check_tokens(check, rt));
            let fields = fields.iter().map(|field| {
                let (name, repeated) = (&field.name, field.repeated);
                let kind = param_kind(field.kind, rt);
                let properties = match &field.properties {
                    None => quote!(::std::option::Option::None),
                    Some(properties) => {
                        let properties = properties.iter().map(|(key, kind)| {
                            let kind = param_kind(*kind, rt);
                            quote! { (#key, #kind) }
                        });
                        quote!(::std::option::Option::Some(&[#(#properties),*]))
                    }
                };
                quote! { #rt::FormField { name: #name, kind: #kind, repeated: #repeated, properties: #properties } }
            });
            quote! { #rt::form_body::<#t>(&received.bytes()?, &[#(#fields),*], cx, |v, cx| { #check })? }
        }
        Decode::Multipart => quote! { ::std::option::Option::Some(received.multipart()?) },
        Decode::Binary => quote! { ::std::option::Option::Some(received.bytes()?) },
        Decode::Text { check } => {
            let check = check_tokens(check, rt);
            quote! { #rt::text_body(received.bytes()?, cx, |v, cx| { #check })? }
        }
    }
}

fn content_type(decode: &Decode, rt: &TokenStream) -> TokenStream {
    match decode {
        Decode::Json { ty: t, .. } | Decode::Form { ty: t, .. } => ty(t, rt),
        Decode::Multipart => quote!(#rt::Multipart),
        Decode::Binary => quote!(#rt::Bytes),
        Decode::Text { .. } => quote!(::std::string::String),
    }
}

fn body_enum(op: &ir::Operation) -> Ident {
    format_ident!("{}Body", pascal(&op.id))
}
