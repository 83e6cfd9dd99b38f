//! Names: how spec names become Rust identifiers, the same way typify names the shared types.

use heck::{ToPascalCase, ToSnakeCase};
use proc_macro2::{Ident, Span};
use quote::format_ident;

use crate::ir::Method;

/// The name typify gives a component schema (its `sanitize(name, Case::Pascal)`): quotes dropped, every character
/// that cannot continue an identifier a word break, PascalCase, `X` in front of what cannot start one (`2FAinfo` ->
/// `X2fAinfo`), and `Self` as `Self_`.
pub fn typify_name(name: &str) -> String {
    let out = match name {
        "+1" => "Plus1".to_owned(),
        "-1" => "Minus1".to_owned(),
        _ => name
            .replace('\'', "")
            .replace(|c: char| !unicode_ident::is_xid_continue(c), "-")
            .to_pascal_case(),
    };
    let out = match out.chars().next() {
        None => "X".to_owned(),
        Some(c) if unicode_ident::is_xid_start(c) => out,
        Some(_) => format!("X{out}"),
    };
    if out == "Self" { "Self_".to_owned() } else { out }
}

/// The operationId of an operation that has none: method and path in snake case, each path parameter as
/// `by_<name>` (`GET /pets/{petId}/photos` -> `get_pets_by_pet_id_photos`). Deterministic, so client and stub agree.
pub fn operation_id(method: Method, path: &str) -> String {
    let mut parts = vec![method.key().to_owned()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(param) => parts.push(format!("by_{}", param.to_snake_case())),
            None => parts.push(segment.to_snake_case()),
        }
    }
    if parts.len() == 1 {
        parts.push("root".to_owned());
    }
    parts.retain(|p| !p.is_empty());
    parts.join("_")
}

/// The validator function of a component schema.
pub fn validator_ident(name: &str) -> Ident {
    format_ident!("validate_{}", typify_name(name).to_snake_case())
}

/// The trait method of an operation.
pub fn method_ident(operation_id: &str) -> Ident {
    field_ident(operation_id)
}

/// The PascalCase stem of an operation's items (`CreateThingResponse`, `CreateThingPath`, …).
pub fn pascal(operation_id: &str) -> String {
    let pascal = operation_id.to_pascal_case();
    if pascal.starts_with(|c: char| c.is_ascii_digit()) {
        format!("Op{pascal}")
    } else {
        pascal
    }
}

/// A snake_case field name for a parameter or header (`x-trace` -> `x_trace`), never a keyword.
pub fn field_ident(name: &str) -> Ident {
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
pub fn status_name(code: u16) -> String {
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

/// Whether typify can name every value of a string enum as a variant: it tries the values in PascalCase, then with
/// every character that cannot be in an identifier as `X`, and panics when both collide (`[=, <, <=, >]`).
pub fn enum_variants_collide<S: AsRef<str>>(values: &[S]) -> bool {
    let unique = |names: Vec<String>| {
        let set: std::collections::BTreeSet<&String> = names.iter().collect();
        set.len() == names.len() && names.iter().all(|n| !n.is_empty())
    };
    let plain = values.iter().map(|v| typify_name(v.as_ref())).collect();
    let with_x = values
        .iter()
        .map(|v| {
            let replaced: String = v
                .as_ref()
                .chars()
                .map(|c| if c == '_' || !c.is_alphanumeric() { 'X' } else { c })
                .collect();
            typify_name(&replaced)
        })
        .collect();
    !unique(plain) && !unique(with_x)
}

#[cfg(test)]
mod tests {
    /// Names as typify 0.8's `sanitize(name, Case::Pascal)` makes them (read from its source); the corpus proves them
    /// against the types it generates, since a stub naming a type typify did not make does not compile.
    #[test]
    fn component_names_become_typify_type_names() {
        for (name, rust) in [
            ("FileDTO", "FileDto"),
            ("file-dto", "FileDto"),
            ("2FAinfo", "X2fAinfo"),
            ("", "X"),
            ("=", "X"),
            ("Self", "Self_"),
            ("+1", "Plus1"),
            ("user's list", "UsersList"),
            ("a.b/c", "ABC"),
        ] {
            assert_eq!(super::typify_name(name), rust, "{name:?}");
        }
    }

    #[test]
    fn enums_typify_cannot_name() {
        assert!(super::enum_variants_collide(&["=", "<", "<=", ">"]));
        assert!(!super::enum_variants_collide(&["a", "b"]));
        // The second try (`X` for each odd character) tells these apart.
        assert!(!super::enum_variants_collide(&["a-b", "a--b"]));
        assert!(super::enum_variants_collide(&["a-b", "a_b"]));
    }
}
