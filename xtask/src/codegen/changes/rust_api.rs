//! The Rust half of the change report: the semver class of the change to a generated crate's public API, from its
//! generated file before and after (parsed with syn), by the rules of cargo-semver-checks' lints for the constructs
//! generated code has (named in each change), so no rustdoc JSON has to be built.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use quote::ToTokens;

/// How much a crate's version must move.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Semver {
    /// The generated text changed, its public API did not (documentation, bodies, validation constants).
    Patch,
    /// Public items were added; nothing a downstream crate uses changed.
    Minor,
    /// A downstream crate may stop compiling.
    Major,
}

impl fmt::Display for Semver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Semver::Patch => "patch",
            Semver::Minor => "minor",
            Semver::Major => "major",
        })
    }
}

/// One change to a public item.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct ApiChange {
    pub(crate) class: Semver,
    /// The item, as `kind path`.
    pub(crate) item: String,
    /// What changed, with the cargo-semver-checks lint that catches it (or why none does).
    pub(crate) what: String,
}

/// Which of the generated file's public items the crate exports: `pub use generated::*`, or the names listed.
#[derive(Clone, Debug)]
pub(crate) enum Exports {
    All,
    Names(BTreeSet<String>),
}

impl Exports {
    /// Reads a hand-written `lib.rs`'s `pub use generated::…` items.
    pub(crate) fn of_lib(lib: &str) -> Exports {
        let Ok(file) = syn::parse_file(lib) else {
            return Exports::All;
        };
        let mut names = BTreeSet::new();
        for item in &file.items {
            let syn::Item::Use(u) = item else { continue };
            if !matches!(u.vis, syn::Visibility::Public(_)) {
                continue;
            }
            let syn::UseTree::Path(path) = &u.tree else { continue };
            if path.ident != "generated" {
                continue;
            }
            match &*path.tree {
                syn::UseTree::Glob(_) => return Exports::All,
                syn::UseTree::Name(name) => {
                    names.insert(name.ident.to_string());
                }
                syn::UseTree::Group(group) => {
                    for tree in &group.items {
                        if let syn::UseTree::Name(name) = tree {
                            names.insert(name.ident.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        Exports::Names(names)
    }

    fn exports(&self, top: &str) -> bool {
        match self {
            Exports::All => true,
            Exports::Names(names) => names.contains(top),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
enum Kind {
    /// A field of a struct that downstream code can build with a literal (every field public, exhaustive).
    Field {
        constructible: bool,
    },
    /// A variant of an enum without `#[non_exhaustive]`.
    Variant {
        exhaustive: bool,
    },
    /// A trait item; `required` when it has no default.
    TraitItem {
        required: bool,
    },
    Other,
}

#[derive(Clone, Debug)]
struct Item {
    kind: Kind,
    /// What must stay equal: the signature, the field's type, the variant's fields.
    signature: String,
    /// The first segment of the item's path, which the crate may or may not re-export.
    top: String,
}

/// The semver class of the change from `old` to `new` (a generated file's text) and the changes that make it;
/// `None` when the texts are equal.
pub(crate) fn compare(old: &str, new: &str, exports: &Exports) -> Option<(Semver, Vec<ApiChange>)> {
    if old == new {
        return None;
    }
    let (Ok(old_file), Ok(new_file)) = (syn::parse_file(old), syn::parse_file(new)) else {
        let change = ApiChange {
            class: Semver::Major,
            item: "crate".into(),
            what: "generated code does not parse; counted as major".into(),
        };
        return Some((Semver::Major, vec![change]));
    };
    let (old_items, new_items) = (items(&old_file, exports), items(&new_file, exports));
    // A type removed or added whole is one change, not one per field, variant, method and impl.
    let whole = |from: &BTreeMap<String, Item>, to: &BTreeMap<String, Item>| -> BTreeSet<String> {
        from.keys()
            .filter(|k| !to.contains_key(*k))
            .filter_map(|k| k.split_once(' '))
            .filter(|(kind, _)| matches!(*kind, "struct" | "enum" | "trait"))
            .map(|(_, path)| path.to_owned())
            .collect()
    };
    let (removed, added) = (whole(&old_items, &new_items), whole(&new_items, &old_items));
    let mut changes = Vec::new();
    for (key, old_item) in &old_items {
        match new_items.get(key) {
            None if owner(key).is_some_and(|o| removed.contains(o)) => {}
            None => changes.push(ApiChange {
                class: Semver::Major,
                item: key.clone(),
                what: format!("removed ({})", missing_lint(key)),
            }),
            Some(new_item) if new_item.signature != old_item.signature => changes.push(ApiChange {
                class: Semver::Major,
                item: key.clone(),
                what: format!(
                    "changed from `{}` to `{}` ({})",
                    readable(&old_item.signature),
                    readable(&new_item.signature),
                    changed_lint(key)
                ),
            }),
            Some(_) => {}
        }
    }
    for (key, new_item) in &new_items {
        if old_items.contains_key(key) || owner(key).is_some_and(|o| added.contains(o)) {
            continue;
        }
        let parent_existed = parent(key).is_some_and(|p| old_items.contains_key(&p));
        let (class, what) = match new_item.kind {
            Kind::Field { constructible: true } if parent_existed => (
                Semver::Major,
                "added to a struct built with literals (constructible_struct_adds_field)",
            ),
            Kind::Variant { exhaustive: true } if parent_existed => {
                (Semver::Major, "added to an exhaustive enum (enum_variant_added)")
            }
            Kind::TraitItem { required: true } if parent_existed => (
                Semver::Major,
                "required item added to a public trait (trait_method_added)",
            ),
            _ => (Semver::Minor, "added"),
        };
        changes.push(ApiChange {
            class,
            item: key.clone(),
            what: what.into(),
        });
    }
    let class = changes.iter().map(|c| c.class).max().unwrap_or(Semver::Patch);
    Some((class, changes))
}

/// The type a field, variant, method, trait item or impl belongs to, as its path.
fn owner(key: &str) -> Option<&str> {
    let (kind, path) = key.split_once(' ')?;
    match kind {
        "field" => Some(path.rsplit_once('.')?.0),
        "variant" | "trait-item" | "method" | "const" => Some(path.rsplit_once("::")?.0),
        "impl" => Some(path.rsplit_once(" for ")?.1),
        _ => None,
    }
}

/// The item a field, variant, method or trait item belongs to, as its key.
fn parent(key: &str) -> Option<String> {
    let (kind, path) = key.split_once(' ')?;
    match kind {
        "field" => Some(format!("struct {}", path.rsplit_once('.')?.0)),
        "variant" => Some(format!("enum {}", path.rsplit_once("::")?.0)),
        "trait-item" => Some(format!("trait {}", path.rsplit_once("::")?.0)),
        _ => None,
    }
}

fn missing_lint(key: &str) -> &'static str {
    match key.split_once(' ').map_or("", |(kind, _)| kind) {
        "struct" => "struct_missing",
        "enum" => "enum_missing",
        "fn" => "function_missing",
        "method" => "inherent_method_missing",
        "trait" => "trait_missing",
        "trait-item" => "trait_method_missing",
        "field" => "struct_pub_field_missing",
        "variant" => "enum_variant_missing",
        "impl" => "derive_trait_impl_removed / trait_removed_supertrait",
        "mod" => "module_missing",
        _ => "pub_module_level_const_missing / type alias or re-export removed",
    }
}

fn changed_lint(key: &str) -> &'static str {
    match key.split_once(' ').map_or("", |(kind, _)| kind) {
        "fn" | "method" => "method_parameter_count_changed, or a parameter or return type changed",
        "trait-item" => "trait_method_parameter_count_changed / trait method signature",
        "field" => "a field's type changed: no cargo-semver-checks lint, a compile error for every user of it",
        "variant" => "enum_tuple_variant_field_added / _missing, or a variant field's type changed",
        "struct" | "enum" => "enum_changed_kind / struct kind, generics or non_exhaustive changed",
        _ => "signature changed",
    }
}

/// Token text as people write it: `Option<Provider>`, not `Option < Provider >`.
pub(crate) fn readable(tokens: &str) -> String {
    static SPACES: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r" ?(::|<|>|,|\(|\)|&) ?").expect("a valid regex"));
    let tight = SPACES.replace_all(tokens, "$1");
    // Put back the spaces a reader needs: after a comma, around `->`, `=` and a bound's colon.
    tight
        .replace(',', ", ")
        .replace("->", " -> ")
        .replace(", )", ")")
        .replace(" :::", ": ::")
        .replace(" : ", ": ")
        .trim_start_matches("::")
        .trim_end_matches([',', ' '])
        .to_owned()
}

fn tokens(t: &impl ToTokens) -> String {
    t.to_token_stream().to_string()
}

fn is_pub(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

fn non_exhaustive(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

/// The traits a type derives, by their last path segment.
fn derives(attrs: &[syn::Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(last) = meta.path.segments.last() {
                out.push(last.ident.to_string());
            }
            Ok(())
        });
    }
    out
}

/// A trait's name for an impl key: its last segment, with type arguments (`From<i64>`) but not lifetimes, so a
/// derive and a written impl of one trait are the same item.
fn trait_name(path: &syn::Path) -> String {
    let Some(last) = path.segments.last() else {
        return String::new();
    };
    let mut name = last.ident.to_string();
    if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
        let kept: Vec<String> = args
            .args
            .iter()
            .filter(|a| !matches!(a, syn::GenericArgument::Lifetime(_)))
            .map(tokens)
            .collect();
        if !kept.is_empty() {
            name.push_str(&format!("<{}>", kept.join(", ")));
        }
    }
    name
}

/// A type named in an impl header, as `module::Name` (the last segment under the module it is written in).
fn self_type(module: &[String], ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => {
            let name = p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
            join(module, &name)
        }
        // Impls on foreign references and the like (`impl ClientHooks for &Client`): keyed by their tokens.
        other => join(module, &tokens(other)),
    }
}

fn join(module: &[String], name: &str) -> String {
    if module.is_empty() {
        name.to_owned()
    } else {
        format!("{}::{name}", module.join("::"))
    }
}

fn fn_signature(sig: &syn::Signature) -> String {
    let mut sig = sig.clone();
    // Parameter names are not part of the API.
    for input in &mut sig.inputs {
        if let syn::FnArg::Typed(typed) = input {
            *typed.pat = syn::parse_quote!(_);
        }
    }
    tokens(&sig)
}

/// Every public item of a generated file the crate exports, by key (`kind path`).
fn items(file: &syn::File, exports: &Exports) -> BTreeMap<String, Item> {
    let mut out = BTreeMap::new();
    collect(&file.items, &mut Vec::new(), &mut out);
    out.retain(|_, item| exports.exports(&item.top));
    out
}

fn collect(items: &[syn::Item], module: &mut Vec<String>, out: &mut BTreeMap<String, Item>) {
    let mut add = |key: String, kind: Kind, signature: String, path_top: &str| {
        let top = module.first().cloned().unwrap_or_else(|| path_top.to_owned());
        out.insert(key, Item { kind, signature, top });
    };
    let mut nested = Vec::new();
    for item in items {
        match item {
            syn::Item::Mod(m) if is_pub(&m.vis) => {
                let name = m.ident.to_string();
                add(
                    format!("mod {}", join(module, &name)),
                    Kind::Other,
                    String::new(),
                    &name,
                );
                if let Some((_, inner)) = &m.content {
                    nested.push((name, inner));
                }
            }
            syn::Item::Struct(s) if is_pub(&s.vis) => {
                let name = s.ident.to_string();
                let path = join(module, &name);
                let exhaustive = !non_exhaustive(&s.attrs);
                let constructible = exhaustive && s.fields.iter().all(|f| is_pub(&f.vis));
                let shape = match &s.fields {
                    syn::Fields::Named(_) => "{}",
                    syn::Fields::Unnamed(_) => "()",
                    syn::Fields::Unit => ";",
                };
                let private = s.fields.iter().filter(|f| !is_pub(&f.vis)).count();
                let signature = format!(
                    "struct{} {shape}{}{}",
                    tokens(&s.generics),
                    if exhaustive { "" } else { " #[non_exhaustive]" },
                    if private > 0 { " with private fields" } else { "" }
                );
                add(format!("struct {path}"), Kind::Other, signature, &name);
                for (i, field) in s.fields.iter().enumerate().filter(|(_, f)| is_pub(&f.vis)) {
                    let field_name = field.ident.as_ref().map_or_else(|| i.to_string(), ToString::to_string);
                    add(
                        format!("field {path}.{field_name}"),
                        Kind::Field { constructible },
                        tokens(&field.ty),
                        &name,
                    );
                }
                for derive in derives(&s.attrs) {
                    add(format!("impl {derive} for {path}"), Kind::Other, String::new(), &name);
                }
            }
            syn::Item::Enum(e) if is_pub(&e.vis) => {
                let name = e.ident.to_string();
                let path = join(module, &name);
                let exhaustive = !non_exhaustive(&e.attrs);
                let signature = format!(
                    "enum{}{}",
                    tokens(&e.generics),
                    if exhaustive { "" } else { " #[non_exhaustive]" }
                );
                add(format!("enum {path}"), Kind::Other, signature, &name);
                for variant in &e.variants {
                    add(
                        format!("variant {path}::{}", variant.ident),
                        Kind::Variant { exhaustive },
                        tokens(&variant.fields),
                        &name,
                    );
                }
                for derive in derives(&e.attrs) {
                    add(format!("impl {derive} for {path}"), Kind::Other, String::new(), &name);
                }
            }
            syn::Item::Fn(f) if is_pub(&f.vis) => {
                let name = f.sig.ident.to_string();
                add(
                    format!("fn {}", join(module, &name)),
                    Kind::Other,
                    fn_signature(&f.sig),
                    &name,
                );
            }
            syn::Item::Trait(t) if is_pub(&t.vis) => {
                let name = t.ident.to_string();
                let path = join(module, &name);
                let signature = format!(
                    "{}trait{}: {}",
                    if t.unsafety.is_some() { "unsafe " } else { "" },
                    tokens(&t.generics),
                    tokens(&t.supertraits)
                );
                add(format!("trait {path}"), Kind::Other, signature, &name);
                for trait_item in &t.items {
                    let (item_name, required, signature) = match trait_item {
                        syn::TraitItem::Fn(f) => (f.sig.ident.to_string(), f.default.is_none(), fn_signature(&f.sig)),
                        syn::TraitItem::Type(ty) => (
                            ty.ident.to_string(),
                            ty.default.is_none(),
                            format!("type: {}", tokens(&ty.bounds)),
                        ),
                        syn::TraitItem::Const(c) => (
                            c.ident.to_string(),
                            c.default.is_none(),
                            format!("const: {}", tokens(&c.ty)),
                        ),
                        _ => continue,
                    };
                    add(
                        format!("trait-item {path}::{item_name}"),
                        Kind::TraitItem { required },
                        signature,
                        &name,
                    );
                }
            }
            syn::Item::Impl(i) => {
                let ty = self_type(module, &i.self_ty);
                let top = ty.split("::").next().unwrap_or_default().to_owned();
                match &i.trait_ {
                    // Keyed by trait and type only: a derive and a written impl of one trait are one item.
                    Some((path, _)) => add(
                        format!("impl {} for {ty}", trait_name(path)),
                        Kind::Other,
                        String::new(),
                        &top,
                    ),
                    None => {
                        for impl_item in &i.items {
                            match impl_item {
                                syn::ImplItem::Fn(f) if is_pub(&f.vis) => add(
                                    format!("method {ty}::{}", f.sig.ident),
                                    Kind::Other,
                                    format!("{}{}", tokens(&i.generics), fn_signature(&f.sig)),
                                    &top,
                                ),
                                syn::ImplItem::Const(c) if is_pub(&c.vis) => {
                                    add(format!("const {ty}::{}", c.ident), Kind::Other, tokens(&c.ty), &top)
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            syn::Item::Const(c) if is_pub(&c.vis) => {
                let name = c.ident.to_string();
                add(
                    format!("const {}", join(module, &name)),
                    Kind::Other,
                    tokens(&c.ty),
                    &name,
                );
            }
            syn::Item::Static(s) if is_pub(&s.vis) => {
                let name = s.ident.to_string();
                add(
                    format!("static {}", join(module, &name)),
                    Kind::Other,
                    tokens(&s.ty),
                    &name,
                );
            }
            syn::Item::Type(t) if is_pub(&t.vis) => {
                let name = t.ident.to_string();
                let signature = format!("{} = {}", tokens(&t.generics), tokens(&t.ty));
                add(format!("type {}", join(module, &name)), Kind::Other, signature, &name);
            }
            syn::Item::Use(u) if is_pub(&u.vis) => {
                let tree = tokens(&u.tree);
                let top = tree.split_whitespace().next().unwrap_or_default().to_owned();
                add(format!("use {}", join(module, &tree)), Kind::Other, String::new(), &top);
            }
            _ => {}
        }
    }
    for (name, inner) in nested {
        module.push(name);
        collect(inner, module, out);
        module.pop();
    }
}
