//! The validators: statements that check a JSON value (anything the runtime's `JsonValue` reads: a body's borrowed
//! tree or a parameter's `serde_json::Value`) against a schema's [`Check`], recording every violation into the
//! runtime's `Validator`.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Additional, Check, StringFormat};
use crate::names::validator_ident;

/// A component schema's validator; a string schema also gets a `_str` twin that replacement types can call.
pub(super) fn validator(name: &str, check: &Check, rt: &TokenStream) -> TokenStream {
    let f = validator_ident(name);
    let doc = format!("Validates a `{name}`, recording every violation.");
    if let Check::String { nullable, .. } = check {
        let f_str = format_ident!("{f}_str");
        let checks = string_checks(check, rt);
        let doc_str = format!("Validates the text of a `{name}`, recording every violation.");
        return quote! {
            #[doc = #doc]
            pub fn #f<V: #rt::JsonValue>(v: &V, cx: &mut #rt::Validator) {
                if let Some(s) = cx.string(v, #nullable) { #f_str(s, cx); }
            }

            #[doc = #doc_str]
            pub fn #f_str(s: &str, cx: &mut #rt::Validator) {
                let _ = (&s, &cx);
                #(#checks)*
            }
        };
    }
    let body = check_tokens(check, rt);
    quote! {
        #[doc = #doc]
        pub fn #f<V: #rt::JsonValue>(v: &V, cx: &mut #rt::Validator) {
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
    // The messages depend only on the schema: written here once, not formatted at every request that violates them.
    if !values.is_empty() {
        let listed: Vec<String> = values.iter().map(|value| format!("'{value}'")).collect();
        let message = format!("must be one of {}", listed.join(", "));
        checks.push(quote! { cx.one_of_str(s, &[#(#values),*], #message); });
    }
    if let Some(min) = min_length {
        let message = format!("must have at least {min} character{}", plural(*min));
        checks.push(quote! { cx.min_length(s, #min, #message); });
    }
    if let Some(max) = max_length {
        let message = format!("must have at most {max} character{}", plural(*max));
        checks.push(quote! { cx.max_length(s, #max, #message); });
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

/// Statements that validate `v` (a `JsonValue`) against the check, recording into `cx`.
pub(super) fn check_tokens(check: &Check, rt: &TokenStream) -> TokenStream {
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
            values,
            minimum,
            maximum,
            multiple_of,
        } => {
            let mut checks = Vec::new();
            if !values.is_empty() {
                checks.push(quote! { cx.one_of_number(x, &[#(#values),*]); });
            }
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
        Check::Enum { nullable, values } => {
            let values = values.iter().map(|value| match value {
                serde_json::Value::Bool(b) => quote!(#rt::Literal::Bool(#b)),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => quote!(#rt::Literal::Integer(#i)),
                    None => {
                        let f = n.as_f64().unwrap_or_default();
                        quote!(#rt::Literal::Number(#f))
                    }
                },
                // Lowering admits only scalars; a string is what is left.
                other => {
                    let text = other.as_str().unwrap_or_default();
                    quote!(#rt::Literal::String(#text))
                }
            });
            quote! { cx.one_of_literal(v, #nullable, &[#(#values),*]); }
        }
        Check::Const { nullable, value } => {
            let (equal, message) = match value {
                serde_json::Value::Bool(b) => (
                    quote!(#rt::JsonValue::as_bool(v) == ::std::option::Option::Some(#b)),
                    format!("must be {b}"),
                ),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => (
                        quote!(#rt::JsonValue::as_i64(v) == ::std::option::Option::Some(#i) || #rt::JsonValue::as_f64(v) == ::std::option::Option::Some(#i as f64)),
                        format!("must be {i}"),
                    ),
                    None => {
                        let x = n.as_f64().unwrap_or_default();
                        (
                            quote!(#rt::JsonValue::as_f64(v) == ::std::option::Option::Some(#x)),
                            format!("must be {x}"),
                        )
                    }
                },
                // Lowering admits only scalars; a string is what is left.
                other => {
                    let text = other.as_str().unwrap_or_default();
                    (
                        quote!(#rt::JsonValue::as_str(v) == ::std::option::Option::Some(#text)),
                        format!("must be '{text}'"),
                    )
                }
            };
            quote! {
                if !(#nullable && #rt::JsonValue::is_null(v)) && !(#equal) {
                    cx.fail("literal_error", #message);
                }
            }
        }
        Check::Boolean { nullable, values } => {
            if values.is_empty() {
                quote! { cx.boolean(v, #nullable); }
            } else {
                quote! { if let Some(b) = cx.boolean(v, #nullable) { cx.one_of_bool(b, &[#(#values),*]); } }
            }
        }
        Check::Object {
            nullable,
            required,
            properties,
            additional,
            min_properties,
            max_properties,
        } => {
            let known: Vec<&String> = properties.iter().map(|(key, _)| key).collect();
            let mut checks = Vec::new();
            if let Some(min) = min_properties {
                checks.push(quote! { cx.min_properties(obj, #min); });
            }
            if let Some(max) = max_properties {
                checks.push(quote! { cx.max_properties(obj, #max); });
            }
            if !required.is_empty() {
                checks.push(quote! { cx.required(obj, &[#(#required),*]); });
            }
            for (key, property) in properties {
                let inner = check_tokens(property, rt);
                checks.push(quote! {
                    if let Some(v) = #rt::JsonObject::get(obj, #key) {
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
                        for (key, v) in #rt::JsonObject::entries(obj) {
                            if !known.contains(&key) {
                                cx.enter(key.to_owned());
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
            unique_items,
            items,
        } => {
            let mut checks = Vec::new();
            if *unique_items {
                checks.push(quote! { cx.unique_items(items); });
            }
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
        Check::AllOf { nullable, parts } => {
            let parts = parts.iter().map(|part| check_tokens(part, rt));
            skip_null(*nullable, quote! { #(#parts)* })
        }
        Check::AnyOf { nullable, options } => {
            let branches = branches(options, rt);
            skip_null(
                *nullable,
                quote! {
                    let mut matched = 0usize;
                    #branches
                    cx.union(matched, false);
                },
            )
        }
        Check::OneOf {
            nullable,
            options,
            discriminator: None,
        } => {
            let branches = branches(options, rt);
            skip_null(
                *nullable,
                quote! {
                    let mut matched = 0usize;
                    #branches
                    cx.union(matched, true);
                },
            )
        }
        Check::OneOf {
            nullable,
            discriminator: Some(discriminator),
            ..
        } => {
            let property = &discriminator.property;
            let tags = discriminator.mapping.iter().map(|(tag, _)| tag);
            let arms = discriminator.mapping.iter().map(|(tag, check)| {
                let check = check_tokens(check, rt);
                quote! { ::std::option::Option::Some(#tag) => { #check } }
            });
            skip_null(
                *nullable,
                quote! {
                    if let Some(obj) = cx.object(v, false) {
                        match #rt::JsonObject::get(obj, #property).and_then(#rt::JsonValue::as_str) {
                            #(#arms)*
                            ::std::option::Option::Some(_) => cx.bad_tag(#property, &[#(#tags),*]),
                            ::std::option::Option::None => cx.missing(#property),
                        }
                    }
                },
            )
        }
        Check::Not { nullable, inner } => {
            let inner = check_tokens(inner, rt);
            skip_null(
                *nullable,
                quote! {
                    let mut sub = cx.fork();
                    {
                        let cx = &mut sub;
                        #inner
                    }
                    cx.not(sub.error_count() == 0);
                },
            )
        }
    }
}

/// `checks`, unless the value is null and the schema allows it.
fn skip_null(nullable: bool, checks: TokenStream) -> TokenStream {
    if nullable {
        quote! { if !v.is_null() { #checks } }
    } else {
        checks
    }
}

/// Each option checked on a fork of the validator, counting the options that match.
fn branches(options: &[Check], rt: &TokenStream) -> TokenStream {
    let each = options.iter().map(|option| {
        let check = check_tokens(option, rt);
        quote! {
            let mut sub = cx.fork();
            {
                let cx = &mut sub;
                #check
            }
            if sub.error_count() == 0 {
                matched += 1;
            }
        }
    });
    quote! { #(#each)* }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
