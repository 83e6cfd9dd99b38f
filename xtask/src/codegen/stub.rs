//! Drives `stub-gen`: the workspace's stub crate, the fixture stubs, and `cargo xtask stub` for any spec. The type
//! space comes from progenitor's generator, so a stub shares every schema type with the client of the same spec.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use quote::quote;
use stub_gen::{Replacement, Settings, Types};

use super::{Output, Spec, client};

/// The stub of `openapi.yaml` in `crates/secrets-server-stub`.
pub(crate) fn workspace_settings() -> Settings {
    Settings {
        runtime: "::stub_runtime".to_owned(),
        api_trait: "SecretsApi".to_owned(),
        replacements: vec![Replacement {
            schema: client::SECRET_SCHEMA.to_owned(),
            path: "crate::SecretValue".to_owned(),
            // Its `Deserialize` takes any string: the router's walk checks the schema, once.
        }],
        envelope: Some("ErrorResponse".to_owned()),
    }
}

/// What `cargo xtask stub` uses unless told otherwise: nothing replaced, no envelope schema.
pub(crate) fn standalone_settings(api_trait: &str, envelope: Option<String>) -> Settings {
    Settings {
        api_trait: api_trait.to_owned(),
        envelope,
        ..Settings::default()
    }
}

/// The shared type space of `generator` (progenitor's), after it generated `client`: the names of its types, and the
/// items of the client's `types` module, which are the type space's tokens (running typify's `to_stream` again would
/// cost a large spec a fifth of its generation time).
pub(crate) fn types(generator: &progenitor::Generator, client: &proc_macro2::TokenStream) -> Result<Types> {
    let tokens = client_types(client).ok_or_else(|| anyhow!("progenitor's client has no `types` module"))?;
    Ok(Types {
        tokens,
        names: generator.get_type_space().iter_types().map(|t| t.name()).collect(),
    })
}

/// The items of the top-level `mod types { … }` in progenitor's client tokens.
fn client_types(client: &proc_macro2::TokenStream) -> Option<proc_macro2::TokenStream> {
    use proc_macro2::{Delimiter, TokenTree};
    let top: Vec<TokenTree> = client.clone().into_iter().collect();
    top.windows(3).find_map(|window| match window {
        [
            TokenTree::Ident(keyword),
            TokenTree::Ident(name),
            TokenTree::Group(body),
        ] if keyword == "mod" && name == "types" && body.delimiter() == Delimiter::Brace => Some(body.stream()),
        _ => None,
    })
}

/// A standalone stub of `spec` as text (without its header line), `doc` its file's doc comment. Its type space comes
/// from progenitor's type generator run on [`stub_gen::type_document`] (the component schemas and the named inline
/// schemas, no operations), so the types are the client's, and the client generator's limits on operations do not
/// limit the stub.
pub(crate) fn standalone_text(spec: &Spec, settings: &Settings, builders: bool, doc: &str) -> Result<String> {
    // typify gives a component's Rust name to a type of its own now and then, which stub-gen refuses; the component
    // is renamed (names are not on the wire) and the types built again. Bounded: each round renames one more schema.
    let mut renamed_spec;
    let mut spec = spec;
    let mut rename = std::collections::BTreeSet::new();
    loop {
        let err = match print_halves(spec, settings, builders, doc) {
            Ok(text) => return Ok(text),
            Err(err) => err,
        };
        if rename.len() < MAX_RENAMES
            && let Some(component) = err
                .downcast_ref::<stub_gen::Error>()
                .and_then(stub_gen::Error::twice_defined)
            && rename.insert(component.to_owned())
        {
            renamed_spec = spec.renaming(&rename).map_err(|err| anyhow!(err))?;
            spec = &renamed_spec;
        } else {
            return Err(err);
        }
    }
}

/// How many component schemas [`standalone_text`] renames before it reports a twice-defined type.
const MAX_RENAMES: usize = 16;

/// The stub built and printed on two threads: on a large spec nearly all the time goes to making, parsing and
/// printing tokens. The spec is lowered once, up front (every refusal of its operations). One thread builds the type
/// space from the type document (tokens cannot cross threads) and prints the `types` module
/// ([`stub_gen::types_file`]); both threads take the pieces of the stub's own items ([`stub_gen::items_piece`]) in
/// turn, so that they finish together, and the items are checked against the type space's names at the end.
fn print_halves(spec: &Spec, settings: &Settings, builders: bool, doc: &str) -> Result<String> {
    let api = stub_gen::lower::lower(spec, None, settings).map_err(|err| anyhow!(err))?;
    let type_doc = stub_gen::type_document(spec, &api).map_err(|err| anyhow!(err))?;
    let pieces = stub_gen::emit::pieces(&api);
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Each printed piece with its index, until none is left or one fails.
    let take_pieces = || -> Result<Vec<(usize, String)>> {
        let mut printed = Vec::new();
        loop {
            let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if index >= pieces {
                return Ok(printed);
            }
            let file = stub_gen::items_piece(spec, &api, settings, index)?;
            printed.push((index, prettyplease::unparse(&file)));
        }
    };
    std::thread::scope(|scope| {
        let types = scope.spawn(|| {
            let Types { tokens, names } = type_space(spec, &type_doc, builders)?;
            let mut file = stub_gen::types_file(spec, tokens, settings)?;
            // `unused_comparisons`: typify checks `minLength: 0` as `count < 0usize`.
            file.attrs.extend([
                syn::parse_quote!(#![doc = #doc]),
                syn::parse_quote!(#![allow(missing_docs, clippy::all, unused_qualifications, unused_imports, dead_code, unused_comparisons)]),
            ]);
            let text = prettyplease::unparse(&file);
            Ok::<_, anyhow::Error>((text, names, take_pieces()?))
        });
        let mine = take_pieces();
        // The type space's refusal first, as `stub_gen::generate` reports it.
        let (types, names, theirs) = types
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload))?;
        stub_gen::check_type_names(spec, &api, &names, settings)?;
        let mut printed = mine?;
        printed.extend(theirs);
        printed.sort_unstable_by_key(|(index, _)| *index);
        let mut text = types;
        for (_, piece) in printed {
            text.push_str(&piece);
        }
        Ok(text)
    })
}

/// The type space of a standalone stub of `spec`: progenitor's, built from `doc`, the type document of `spec`.
fn type_space(spec: &Spec, doc: &openapiv3::OpenAPI, builders: bool) -> Result<Types> {
    let mut generator = progenitor::Generator::new(&client::standalone_type_settings(builders));
    let client = client::catch_panic(|| generator.generate_tokens(doc))
        .map_err(|msg| {
            anyhow!(
                "{}: the type generator (typify) failed on a schema: {}",
                spec.path,
                one_line(&msg)
            )
        })?
        .map_err(|err| {
            anyhow!(
                "{}: the type generator (typify) refused a schema: {}",
                spec.path,
                one_line(&err.to_string())
            )
        })?;
    types(&generator, &client)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The workspace's generated crates as tokens, all from one progenitor `Generator`: the client, the stub (with
/// the type space progenitor built for the client), the client's typed httpmock mocks and the `secrets` CLI.
pub(crate) struct WorkspaceTokens {
    pub(crate) client: proc_macro2::TokenStream,
    pub(crate) stub: syn::File,
    pub(crate) mocks: proc_macro2::TokenStream,
    pub(crate) cli: proc_macro2::TokenStream,
}

pub(crate) fn workspace_tokens(spec: &Spec, settings: &Settings) -> Result<WorkspaceTokens> {
    stub_gen::check(spec, settings).map_err(|err| anyhow!(err))?;
    let (mut generator, client) = client::generator(spec)?;
    let stub = stub_gen::generate(spec, &types(&generator, &client)?, settings).map_err(|err| anyhow!(err))?;
    let mocks = client::mocks(spec, &mut generator)?;
    let cli = client::cli(spec, &mut generator)?;
    Ok(WorkspaceTokens {
        client,
        stub,
        mocks,
        cli,
    })
}

/// The fixture specs beside stub-gen's tests, by name, sorted.
pub(crate) fn fixtures(root: &Path) -> Result<Vec<String>> {
    let dir = root.join(FIXTURE_DIR);
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".yaml") {
            names.push(stem.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

pub(crate) const FIXTURE_DIR: &str = "crates/stub-gen/tests/fixtures";

/// A standalone stub's `lib.rs` text: the same text whether it becomes a crate (`cargo xtask stub`) or a module
/// of the `tests` crate (the fixtures).
pub(crate) fn standalone_lib(spec: &Spec, settings: &Settings, builders: bool, command: &str) -> Result<String> {
    let doc = format!(" Server stub generated from `{}`.", spec.path);
    let text = standalone_text(spec, settings, builders, &doc)?;
    Ok(format!(
        "// @generated by `{command}` from {}. Do not edit.\n\n{text}",
        spec.path
    ))
}

/// Every fixture's stub under `tests/src/fixtures/`, and the module that declares them.
pub(crate) fn fixture_outputs(root: &Path) -> Result<Vec<Output>> {
    let names = fixtures(root)?;
    // Independent of each other: one thread each (most of `cargo xtask codegen`'s time is here).
    let stubs: Vec<Result<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                scope.spawn(move || {
                    let spec = super::load_relative(root, &format!("{FIXTURE_DIR}/{name}.yaml"))?;
                    standalone_lib(&spec, &standalone_settings("Api", None), false, "cargo xtask codegen")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow!("fixture generator panicked"))))
            .collect()
    });
    let mut outputs = Vec::new();
    for (name, stub) in names.iter().zip(stubs) {
        outputs.push(Output {
            path: PathBuf::from(format!("tests/src/fixtures/{name}.rs")),
            contents: stub.with_context(|| format!("fixture {name}"))?,
        });
    }
    let modules = names.iter().map(|name| quote::format_ident!("{name}"));
    let list = quote! {
        //! Server stubs generated from the fixture specs in `crates/stub-gen/tests/fixtures/`, each through the
        //! same path as `cargo xtask stub`; building this crate proves that each one compiles.
        #(pub mod #modules;)*
    };
    outputs.push(Output {
        path: PathBuf::from("tests/src/fixtures.rs"),
        contents: super::format_file(list)?,
    });
    Ok(outputs)
}

/// The choices of `cargo xtask stub` besides where to write.
#[derive(Clone, Debug, Default)]
pub(crate) struct Options {
    /// The component schema of the error envelope (see [`Settings::envelope`]).
    pub(crate) envelope: Option<String>,
    /// Whether the `types` module carries typify's `builder` module.
    pub(crate) builders: bool,
}

/// `cargo xtask stub SPEC --out DIR [--name CRATE]`: a crate that `cargo build` compiles as it is.
pub(crate) fn run(spec_path: &Path, out: &Path, name: Option<&str>, options: Options) -> Result<()> {
    let spec = super::load(spec_path)?;
    let name = match name {
        Some(name) => name.to_owned(),
        None => out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("--out {} has no folder name; pass --name", out.display()))?,
    };
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') || name.is_empty() {
        return Err(anyhow!("crate name `{name}` is not a valid package name; pass --name"));
    }
    let outputs = crate_outputs(&spec, &name, options, "cargo xtask stub")?;
    super::update(out, &outputs, super::Mode::Write)
}

/// The files of a standalone stub crate, relative to its folder: `Cargo.toml` and `src/lib.rs`. `cargo xtask
/// corpus` calls this too, so the corpus measures exactly what `cargo xtask stub` hands users.
pub(crate) fn crate_outputs(spec: &Spec, name: &str, options: Options, command: &str) -> Result<[Output; 2]> {
    let lib = standalone_lib(
        spec,
        &standalone_settings("Api", options.envelope),
        options.builders,
        command,
    )?;
    let runtime = crate::project_root().join("crates/stub-runtime");
    let runtime = std::fs::canonicalize(&runtime).unwrap_or(runtime);
    let manifest = cargo_toml(name, &runtime);
    Ok([
        Output {
            path: PathBuf::from("Cargo.toml"),
            contents: manifest,
        },
        Output {
            path: PathBuf::from("src/lib.rs"),
            contents: lib,
        },
    ])
}

/// The manifest of a standalone stub: the runtime by path, and serde.
pub(crate) fn cargo_toml(name: &str, runtime: &Path) -> String {
    let runtime = runtime.display().to_string().replace('\\', "/");
    format!(
        r#"# @generated by `cargo xtask stub`. Do not edit.
[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# Not part of any enclosing workspace.
[workspace]

[dependencies]
# Generated code reaches every other crate through the runtime; serde's derives need serde itself.
stub-runtime = {{ path = "{runtime}" }}
serde = {{ version = "1", features = ["derive"] }}
"#
    )
}
