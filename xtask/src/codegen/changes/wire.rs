//! The wire half of the change report: what an edit of the spec does to the HTTP contract, read from the two parsed
//! documents (`$ref`s followed), classified by oasdiff's model: a change *narrows* or *widens* the set of messages
//! the contract accepts, and narrowing a request or widening a response breaks existing clients, while widening a
//! request or narrowing a response is work for the server (its trait or types change, or it must accept or send
//! what it did not).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};
use stub_gen::spec::pointer;

/// Whom a change breaks; neither means compatible.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct Breaks {
    /// Existing clients: a request they send is now refused, or an answer they read may now surprise them.
    pub(crate) clients: bool,
    /// The server implementation: its trait or types change, or it must accept or answer what it did not.
    pub(crate) server: bool,
}

impl Breaks {
    pub(crate) const NONE: Breaks = Breaks {
        clients: false,
        server: false,
    };
    pub(crate) const CLIENTS: Breaks = Breaks {
        clients: true,
        server: false,
    };
    pub(crate) const SERVER: Breaks = Breaks {
        clients: false,
        server: true,
    };
    pub(crate) const BOTH: Breaks = Breaks {
        clients: true,
        server: true,
    };

    pub(crate) fn union(self, other: Breaks) -> Breaks {
        Breaks {
            clients: self.clients || other.clients,
            server: self.server || other.server,
        }
    }
}

impl fmt::Display for Breaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match (self.clients, self.server) {
            (true, true) => "breaks clients and server",
            (true, false) => "breaks clients",
            (false, true) => "breaks server",
            (false, false) => "compatible",
        })
    }
}

/// One change, as printed: where it is in the document, what changed, whom it breaks, and the operations it
/// reaches (a shared schema's change is one line for every operation that uses it in the same direction).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) struct Change {
    pub(crate) breaks: Breaks,
    /// JSON pointer into the new document (the old one for what was removed), after `$ref`s.
    pub(crate) pointer: String,
    pub(crate) what: String,
    /// operationIds (or `METHOD path`), sorted.
    pub(crate) operations: Vec<String>,
}

/// What a change does to the set of messages a request or response schema accepts.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Effect {
    /// Accepts more.
    Widens,
    /// Accepts less.
    Narrows,
    /// Accepts other messages: some more, some less (a changed type or pattern).
    Both,
    /// Documentation only, or a change oasdiff reports at `info` (a default, a new optional response property).
    Doc,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dir {
    Request,
    Response,
}

fn breaks(effect: Effect, dir: Dir) -> Breaks {
    match (effect, dir) {
        (Effect::Doc, _) => Breaks::NONE,
        (Effect::Both, _) => Breaks::BOTH,
        (Effect::Narrows, Dir::Request) | (Effect::Widens, Dir::Response) => Breaks::CLIENTS,
        (Effect::Widens, Dir::Request) | (Effect::Narrows, Dir::Response) => Breaks::SERVER,
    }
}

const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// Keywords that document a schema or an operation and change nothing on the wire.
const DOC_KEYWORDS: [&str; 7] = [
    "description",
    "title",
    "example",
    "examples",
    "externalDocs",
    "deprecated",
    "summary",
];

/// The changes from `old` to `new`, two OpenAPI documents as JSON (as `openapiv3` serialises them, so two texts
/// with one meaning compare equal), grouped and sorted: most breaking first.
pub(crate) fn compare(old: &Value, new: &Value) -> Vec<Change> {
    let mut walk = Walk {
        old,
        new,
        op: String::new(),
        found: Vec::new(),
        visiting: BTreeSet::new(),
    };
    walk.document();
    let mut grouped: BTreeMap<(Breaks, String, String), BTreeSet<String>> = BTreeMap::new();
    for (op, breaks, pointer, what) in walk.found {
        let ops = grouped.entry((breaks, pointer, what)).or_default();
        if !op.is_empty() {
            ops.insert(op);
        }
    }
    let mut changes: Vec<Change> = grouped
        .into_iter()
        .map(|((breaks, pointer, what), ops)| Change {
            breaks,
            pointer,
            what,
            operations: ops.into_iter().collect(),
        })
        .collect();
    changes.sort_by(|a, b| {
        (b.breaks.clients, b.breaks.server, &a.pointer, &a.what).cmp(&(
            a.breaks.clients,
            a.breaks.server,
            &b.pointer,
            &b.what,
        ))
    });
    changes
}

struct Walk<'a> {
    old: &'a Value,
    new: &'a Value,
    /// The operation being compared, as printed.
    op: String,
    /// (operation, breaks, pointer, what).
    found: Vec<(String, Breaks, String, String)>,
    /// Schema pairs being compared, so recursive schemas end.
    visiting: BTreeSet<(String, String, bool)>,
}

/// `value` with `$ref`s followed (in `doc`), and the pointer where it lives.
fn resolve<'v>(doc: &'v Value, value: &'v Value, at: &str) -> (&'v Value, String) {
    let mut value = value;
    let mut at = at.to_owned();
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(target) if target.starts_with('#') => match doc.pointer(&target[1..]) {
                Some(found) => {
                    value = found;
                    at = target[1..].to_owned();
                }
                None => break,
            },
            _ => break,
        }
    }
    (value, at)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn obj(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn strings(value: Option<&Value>) -> BTreeSet<String> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// A path with its parameters' names left out, so `/a/{id}` and `/a/{secret_id}` are one path, as they are on the wire.
fn path_shape(path: &str) -> String {
    let mut shape = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                shape.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => shape.push(c),
        }
    }
    shape
}

impl Walk<'_> {
    fn record(&mut self, breaks: Breaks, at: &str, what: String) {
        self.found.push((self.op.clone(), breaks, format!("#{at}"), what));
    }

    fn effect(&mut self, effect: Effect, dir: Dir, at: &str, what: String) {
        self.record(breaks(effect, dir), at, what);
    }

    fn document(&mut self) {
        let (old, new) = (self.old, self.new);
        // Documentation of the whole API; `openapi` and `info.version` are not the contract (the gate reads the
        // version itself).
        for key in ["title", "description", "contact", "license", "termsOfService"] {
            let (a, b) = (
                old.pointer(&format!("/info/{key}")),
                new.pointer(&format!("/info/{key}")),
            );
            if a != b {
                self.record(Breaks::NONE, &format!("/info/{key}"), format!("info `{key}` changed"));
            }
        }
        for key in ["servers", "tags", "externalDocs"] {
            if old.get(key) != new.get(key) {
                self.record(Breaks::NONE, &format!("/{key}"), format!("`{key}` changed"));
            }
        }
        self.operations();
    }

    fn operations(&mut self) {
        let (old_doc, new_doc) = (self.old, self.new);
        let ops = |doc: &Value| -> BTreeMap<(String, String), (String, String)> {
            let mut ops = BTreeMap::new();
            for (path, item) in obj(doc.get("paths").unwrap_or(&Value::Null)) {
                let (item, _) = resolve(doc, &item, "");
                for method in METHODS {
                    if item.get(method).is_some() {
                        ops.insert(
                            (path_shape(&path), method.to_owned()),
                            (path.clone(), method.to_owned()),
                        );
                    }
                }
            }
            ops
        };
        let (old_ops, new_ops) = (ops(old_doc), ops(new_doc));
        for (key, (path, method)) in &old_ops {
            let at = pointer(&["paths", path, method]);
            let old_op = &old_doc["paths"][path][method];
            self.op = op_name(old_op, method, path);
            match new_ops.get(key) {
                None => {
                    let gone = if new_ops.keys().any(|(shape, _)| shape == &key.0) {
                        "operation removed"
                    } else {
                        "operation removed (its path is gone)"
                    };
                    let what = format!("{gone}: {} {path}", method.to_uppercase());
                    self.record(Breaks::BOTH, &at, what);
                }
                Some((new_path, _)) => {
                    let new_op = &new_doc["paths"][new_path][method];
                    self.op = op_name(new_op, method, new_path);
                    self.operation(path, new_path, method);
                }
            }
        }
        for (key, (path, method)) in &new_ops {
            if !old_ops.contains_key(key) {
                let op = &new_doc["paths"][path][method];
                self.op = op_name(op, method, path);
                let what = format!(
                    "operation added: {} {path} (a new trait method to implement)",
                    method.to_uppercase()
                );
                self.record(Breaks::SERVER, &pointer(&["paths", path, method]), what);
            }
        }
        self.op.clear();
    }

    fn operation(&mut self, old_path: &str, new_path: &str, method: &str) {
        let (old_doc, new_doc) = (self.old, self.new);
        let old_item = resolve(old_doc, &old_doc["paths"][old_path], "").0;
        let new_item = resolve(new_doc, &new_doc["paths"][new_path], "").0;
        let (old, new) = (&old_item[method], &new_item[method]);
        let at = pointer(&["paths", new_path, method]);
        let old_id = old.get("operationId").and_then(Value::as_str);
        let new_id = new.get("operationId").and_then(Value::as_str);
        if old_id != new_id {
            self.record(
                Breaks::NONE,
                &format!("{at}/operationId"),
                format!(
                    "operationId renamed from `{}` to `{}`: the same request on the wire, a renamed method in the Rust client",
                    old_id.unwrap_or("-"),
                    new_id.unwrap_or("-")
                ),
            );
        }
        for key in DOC_KEYWORDS.iter().chain(&["tags"]) {
            if old.get(*key) != new.get(*key) {
                self.record(Breaks::NONE, &format!("{at}/{key}"), format!("`{key}` changed"));
            }
        }
        self.parameters(old_item, old, old_path, new_item, new, new_path, &at);
        self.request_body(
            old.get("requestBody"),
            new.get("requestBody"),
            &format!("{at}/requestBody"),
        );
        self.responses(old, new, &at);
        self.security(old, new, &at);
    }

    /// An operation's parameters (the path item's, overridden by the operation's), keyed as the wire sees them:
    /// path parameters by position, headers case-insensitively.
    #[expect(clippy::too_many_arguments, reason = "both sides of one comparison")]
    fn parameters(
        &mut self,
        old_item: &Value,
        old: &Value,
        old_path: &str,
        new_item: &Value,
        new: &Value,
        new_path: &str,
        at: &str,
    ) {
        let (old_doc, new_doc) = (self.old, self.new);
        let old_params = parameters(old_doc, old_item, old, old_path, at);
        let new_params = parameters(new_doc, new_item, new, new_path, at);
        for (key, (old_param, old_at)) in &old_params {
            let name = old_param.get("name").and_then(Value::as_str).unwrap_or_default();
            match new_params.get(key) {
                None => {
                    let what = format!("{} parameter `{name}` removed", key.0);
                    self.effect(Effect::Narrows, Dir::Request, old_at, what);
                }
                Some((new_param, new_at)) => {
                    let new_name = new_param.get("name").and_then(Value::as_str).unwrap_or_default();
                    if name != new_name {
                        let what = format!("path parameter `{name}` renamed `{new_name}` (the same on the wire)");
                        self.record(Breaks::NONE, new_at, what);
                    }
                    let req = |p: &Value| p.get("required").and_then(Value::as_bool).unwrap_or(false);
                    match (req(old_param), req(new_param)) {
                        (false, true) => self.effect(
                            Effect::Narrows,
                            Dir::Request,
                            &format!("{new_at}/required"),
                            format!("{} parameter `{new_name}` became required", key.0),
                        ),
                        (true, false) => self.effect(
                            Effect::Widens,
                            Dir::Request,
                            &format!("{new_at}/required"),
                            format!("{} parameter `{new_name}` became optional", key.0),
                        ),
                        _ => {}
                    }
                    for keyword in ["style", "explode", "allowReserved", "content"] {
                        if old_param.get(keyword) != new_param.get(keyword) {
                            let what = format!("{} parameter `{new_name}`: `{keyword}` changed", key.0);
                            self.effect(Effect::Both, Dir::Request, &format!("{new_at}/{keyword}"), what);
                        }
                    }
                    for keyword in DOC_KEYWORDS {
                        if old_param.get(keyword) != new_param.get(keyword) {
                            let what = format!("{} parameter `{new_name}`: `{keyword}` changed", key.0);
                            self.record(Breaks::NONE, &format!("{new_at}/{keyword}"), what);
                        }
                    }
                    if let (Some(a), Some(b)) = (old_param.get("schema"), new_param.get("schema")) {
                        self.schema(
                            a,
                            &format!("{old_at}/schema"),
                            b,
                            &format!("{new_at}/schema"),
                            Dir::Request,
                        );
                    }
                }
            }
        }
        for (key, (param, new_at)) in &new_params {
            if !old_params.contains_key(key) {
                let name = param.get("name").and_then(Value::as_str).unwrap_or_default();
                if param.get("required").and_then(Value::as_bool).unwrap_or(false) {
                    let what = format!("required {} parameter `{name}` added", key.0);
                    self.effect(Effect::Narrows, Dir::Request, new_at, what);
                } else {
                    let what = format!("optional {} parameter `{name}` added", key.0);
                    self.effect(Effect::Widens, Dir::Request, new_at, what);
                }
            }
        }
    }

    fn request_body(&mut self, old: Option<&Value>, new: Option<&Value>, at: &str) {
        let required = |b: &Value| b.get("required").and_then(Value::as_bool).unwrap_or(false);
        match (old, new) {
            (None, None) => {}
            (Some(old), None) => {
                let (_, old_at) = resolve(self.old, old, at);
                self.effect(Effect::Narrows, Dir::Request, &old_at, "request body removed".into());
            }
            (None, Some(new)) => {
                let (new, new_at) = resolve(self.new, new, at);
                if required(new) {
                    self.effect(
                        Effect::Narrows,
                        Dir::Request,
                        &new_at,
                        "required request body added".into(),
                    );
                } else {
                    self.effect(
                        Effect::Widens,
                        Dir::Request,
                        &new_at,
                        "optional request body added".into(),
                    );
                }
            }
            (Some(old), Some(new)) => {
                let (old, old_at) = resolve(self.old, old, at);
                let (new, new_at) = resolve(self.new, new, at);
                match (required(old), required(new)) {
                    (false, true) => self.effect(
                        Effect::Narrows,
                        Dir::Request,
                        &format!("{new_at}/required"),
                        "request body became required".into(),
                    ),
                    (true, false) => self.effect(
                        Effect::Widens,
                        Dir::Request,
                        &format!("{new_at}/required"),
                        "request body became optional".into(),
                    ),
                    _ => {}
                }
                if old.get("description") != new.get("description") {
                    self.record(
                        Breaks::NONE,
                        &format!("{new_at}/description"),
                        "`description` changed".into(),
                    );
                }
                self.content(old, &old_at, new, &new_at, Dir::Request);
            }
        }
    }

    /// The media types of a body and their schemas.
    fn content(&mut self, old: &Value, old_at: &str, new: &Value, new_at: &str, dir: Dir) {
        let (old_content, new_content) = (obj(&old["content"]), obj(&new["content"]));
        for (media, old_media) in &old_content {
            let old_media_at = format!("{old_at}{}", pointer(&["content", media]));
            match new_content.get(media) {
                None => {
                    let what = format!("media type `{media}` removed");
                    // A client that sends it is refused; one that reads it gets something else (oasdiff: error).
                    self.record(Breaks::CLIENTS.union(breaks(Effect::Narrows, dir)), &old_media_at, what);
                }
                Some(new_media) => {
                    let new_media_at = format!("{new_at}{}", pointer(&["content", media]));
                    for key in ["example", "examples"] {
                        if old_media.get(key) != new_media.get(key) {
                            self.record(
                                Breaks::NONE,
                                &format!("{new_media_at}/{key}"),
                                format!("`{key}` changed"),
                            );
                        }
                    }
                    match (old_media.get("schema"), new_media.get("schema")) {
                        (Some(a), Some(b)) => self.schema(
                            a,
                            &format!("{old_media_at}/schema"),
                            b,
                            &format!("{new_media_at}/schema"),
                            dir,
                        ),
                        (None, None) => {}
                        _ => self.effect(Effect::Both, dir, &new_media_at, "body schema added or removed".into()),
                    }
                }
            }
        }
        for media in new_content.keys() {
            if !old_content.contains_key(media) {
                let what = format!("media type `{media}` added");
                let at = format!("{new_at}{}", pointer(&["content", media]));
                // oasdiff: a new response media type is info; a new request one is more the server must read.
                let effect = if dir == Dir::Request {
                    Effect::Widens
                } else {
                    Effect::Doc
                };
                self.effect(effect, dir, &at, what);
            }
        }
    }

    fn responses(&mut self, old: &Value, new: &Value, at: &str) {
        let (old_responses, new_responses) = (obj(&old["responses"]), obj(&new["responses"]));
        let success = |code: &str| code.starts_with('2');
        for (code, old_response) in &old_responses {
            let code_at = format!("{at}{}", pointer(&["responses", code]));
            match new_responses.get(code) {
                None => {
                    let (_, old_at) = resolve(self.old, old_response, &code_at);
                    // A success status removed breaks its callers (oasdiff: error); an error status removed is
                    // one answer less the server may give.
                    let breaks = if success(code) { Breaks::BOTH } else { Breaks::SERVER };
                    self.record(breaks, &old_at, format!("response status {code} removed"));
                }
                Some(new_response) => {
                    let (old_response, old_at) = resolve(self.old, old_response, &code_at);
                    let (new_response, new_at) = resolve(self.new, new_response, &code_at);
                    self.response(old_response, &old_at, new_response, &new_at, code);
                }
            }
        }
        for code in new_responses.keys() {
            if !old_responses.contains_key(code) {
                let code_at = format!("{at}{}", pointer(&["responses", code]));
                // oasdiff reports a new status at `info`: the client generators here decode any documented
                // status of an error into the one envelope, and a new success variant is the Rust report's.
                self.record(Breaks::NONE, &code_at, format!("response status {code} added"));
            }
        }
    }

    fn response(&mut self, old: &Value, old_at: &str, new: &Value, new_at: &str, code: &str) {
        if old.get("description") != new.get("description") {
            self.record(
                Breaks::NONE,
                &format!("{new_at}/description"),
                "`description` changed".into(),
            );
        }
        let (old_headers, new_headers) = (obj(&old["headers"]), obj(&new["headers"]));
        let required = |h: &Value| h.get("required").and_then(Value::as_bool).unwrap_or(false);
        for (name, old_header) in &old_headers {
            let (old_header, old_header_at) = resolve(
                self.old,
                old_header,
                &format!("{old_at}{}", pointer(&["headers", name])),
            );
            match new_headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
                None => {
                    let effect = if required(old_header) {
                        Effect::Widens
                    } else {
                        Effect::Doc
                    };
                    let what = format!("response {code}: header `{name}` removed");
                    self.effect(effect, Dir::Response, &old_header_at, what);
                }
                Some((new_name, new_header)) => {
                    let (new_header, new_header_at) = resolve(
                        self.new,
                        new_header,
                        &format!("{new_at}{}", pointer(&["headers", new_name])),
                    );
                    match (required(old_header), required(new_header)) {
                        (true, false) => self.effect(
                            Effect::Widens,
                            Dir::Response,
                            &new_header_at,
                            format!("response {code}: header `{name}` became optional"),
                        ),
                        (false, true) => self.effect(
                            Effect::Narrows,
                            Dir::Response,
                            &new_header_at,
                            format!("response {code}: header `{name}` became required"),
                        ),
                        _ => {}
                    }
                    if let (Some(a), Some(b)) = (old_header.get("schema"), new_header.get("schema")) {
                        self.schema(
                            a,
                            &format!("{old_header_at}/schema"),
                            b,
                            &format!("{new_header_at}/schema"),
                            Dir::Response,
                        );
                    }
                }
            }
        }
        for (name, new_header) in &new_headers {
            if !old_headers.keys().any(|n| n.eq_ignore_ascii_case(name)) {
                let (new_header, header_at) = resolve(
                    self.new,
                    new_header,
                    &format!("{new_at}{}", pointer(&["headers", name])),
                );
                let effect = if required(new_header) {
                    Effect::Narrows
                } else {
                    Effect::Doc
                };
                let what = format!("response {code}: header `{name}` added");
                self.effect(effect, Dir::Response, &header_at, what);
            }
        }
        self.content(old, old_at, new, new_at, Dir::Response);
    }

    /// Security requirements are alternatives, each a set of (scheme, scope): a caller that met an old alternative
    /// is refused unless a new alternative asks no more of it; the server must accept more when a new alternative
    /// asks less than every old one.
    fn security(&mut self, old: &Value, new: &Value, at: &str) {
        let requirements = |doc: &Value, op: &Value| -> Vec<BTreeSet<(String, String)>> {
            let list = op.get("security").or_else(|| doc.get("security"));
            list.and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|requirement| {
                    obj(requirement)
                        .into_iter()
                        .flat_map(|(scheme, scopes)| {
                            let scopes = strings(Some(&scopes));
                            if scopes.is_empty() {
                                vec![(scheme, String::new())]
                            } else {
                                scopes.into_iter().map(|s| (scheme.clone(), s)).collect()
                            }
                        })
                        .collect()
                })
                .collect()
        };
        let (old_reqs, new_reqs) = (requirements(self.old, old), requirements(self.new, new));
        // No requirement at all, or an empty one, lets every caller in.
        let open = |reqs: &[BTreeSet<(String, String)>]| reqs.is_empty() || reqs.iter().any(BTreeSet::is_empty);
        let (old_open, new_open) = (open(&old_reqs), open(&new_reqs));
        let narrows = !new_open && (old_open || old_reqs.iter().any(|o| !new_reqs.iter().any(|n| n.is_subset(o))));
        let widens = !old_open && (new_open || new_reqs.iter().any(|n| !old_reqs.iter().any(|o| o.is_subset(n))));
        let at = format!("{at}/security");
        let describe = |reqs: &[BTreeSet<(String, String)>]| -> String {
            if reqs.is_empty() {
                return "none".into();
            }
            reqs.iter()
                .map(|r| {
                    let parts: Vec<String> = r
                        .iter()
                        .map(|(s, scope)| {
                            if scope.is_empty() {
                                s.clone()
                            } else {
                                format!("{s}:{scope}")
                            }
                        })
                        .collect();
                    if parts.is_empty() {
                        "anonymous".into()
                    } else {
                        parts.join(" + ")
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ")
        };
        let what = format!(
            "security requirement changed from {} to {}",
            describe(&old_reqs),
            describe(&new_reqs)
        );
        match (narrows, widens) {
            (true, true) => self.effect(Effect::Both, Dir::Request, &at, what),
            (true, false) => self.effect(Effect::Narrows, Dir::Request, &at, what),
            (false, true) => self.effect(Effect::Widens, Dir::Request, &at, what),
            (false, false) => {}
        }
        // A scheme the operation uses changed its kind (bearer to API key, say): every caller must change.
        let used: BTreeSet<String> = old_reqs
            .iter()
            .chain(&new_reqs)
            .flatten()
            .map(|(s, _)| s.clone())
            .collect();
        for scheme in used {
            let at = pointer(&["components", "securitySchemes", &scheme]);
            let strip = |v: Option<&Value>| {
                v.map(|v| {
                    let mut v = obj(v);
                    v.remove("description");
                    v
                })
            };
            let (a, b) = (strip(self.old.pointer(&at)), strip(self.new.pointer(&at)));
            if a.is_some() && b.is_some() && a != b {
                self.effect(
                    Effect::Both,
                    Dir::Request,
                    &at,
                    format!("security scheme `{scheme}` changed"),
                );
            }
        }
    }

    /// Two schemas of one place in a request or a response.
    fn schema(&mut self, old: &Value, old_at: &str, new: &Value, new_at: &str, dir: Dir) {
        let (old, old_at) = resolve(self.old, old, old_at);
        let (new, new_at) = resolve(self.new, new, new_at);
        let key = (old_at.clone(), new_at.clone(), dir == Dir::Request);
        if !self.visiting.insert(key.clone()) {
            return;
        }
        self.schema_body(old, &old_at, new, &new_at, dir);
        self.visiting.remove(&key);
    }

    fn schema_body(&mut self, old: &Value, old_at: &str, new: &Value, new_at: &str, dir: Dir) {
        let at = |key: &str| format!("{new_at}/{key}");
        for key in DOC_KEYWORDS.iter().chain(&["readOnly", "writeOnly"]) {
            if old.get(*key) != new.get(*key) {
                self.record(Breaks::NONE, &at(key), format!("`{key}` changed"));
            }
        }
        if old.get("default") != new.get("default") {
            // oasdiff (since 1.30) reports a changed default at `info`: what a client sends is read the same.
            let what = match (old.get("default"), new.get("default")) {
                (Some(a), Some(b)) => format!("default changed from {} to {}", text(a), text(b)),
                (None, Some(b)) => format!("default {} set", text(b)),
                (Some(a), None) => format!("default {} removed", text(a)),
                (None, None) => unreachable!(),
            };
            self.record(Breaks::NONE, &at("default"), what);
        }
        let (old_type, new_type) = (old.get("type"), new.get("type"));
        if old_type != new_type {
            let effect = match (old_type.and_then(Value::as_str), new_type.and_then(Value::as_str)) {
                (Some("integer"), Some("number")) => Effect::Widens,
                (Some("number"), Some("integer")) => Effect::Narrows,
                (None, Some(_)) => Effect::Narrows,
                (Some(_), None) => Effect::Widens,
                _ => Effect::Both,
            };
            let name = |t: Option<&Value>| t.map_or_else(|| "any".to_owned(), text);
            let what = format!("type changed from {} to {}", name(old_type), name(new_type));
            self.effect(effect, dir, &at("type"), what);
            if effect == Effect::Both {
                return;
            }
        }
        let bool_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        match (bool_of(old, "nullable"), bool_of(new, "nullable")) {
            (false, true) => self.effect(Effect::Widens, dir, &at("nullable"), "became nullable".into()),
            (true, false) => self.effect(Effect::Narrows, dir, &at("nullable"), "is no longer nullable".into()),
            _ => {}
        }
        self.changed_keyword(old, new, "format", dir, new_at);
        self.changed_keyword(old, new, "pattern", dir, new_at);
        self.enumeration(old, new, dir, new_at);
        for (key, lower) in [
            ("minLength", true),
            ("minimum", true),
            ("minItems", true),
            ("minProperties", true),
            ("maxLength", false),
            ("maximum", false),
            ("maxItems", false),
            ("maxProperties", false),
        ] {
            self.bound(old, new, key, lower, dir, new_at);
        }
        for key in ["exclusiveMinimum", "exclusiveMaximum", "uniqueItems"] {
            match (bool_of(old, key), bool_of(new, key)) {
                (false, true) => self.effect(Effect::Narrows, dir, &at(key), format!("`{key}` set")),
                (true, false) => self.effect(Effect::Widens, dir, &at(key), format!("`{key}` removed")),
                _ => {}
            }
        }
        if old.get("multipleOf") != new.get("multipleOf") {
            self.effect(Effect::Both, dir, &at("multipleOf"), "`multipleOf` changed".into());
        }
        if old.get("not") != new.get("not") {
            self.effect(Effect::Both, dir, &at("not"), "`not` changed".into());
        }
        self.properties(old, old_at, new, new_at, dir);
        if let (Some(a), Some(b)) = (old.get("items"), new.get("items")) {
            self.schema(a, &format!("{old_at}/items"), b, &format!("{new_at}/items"), dir);
        }
        for (key, added) in [
            ("oneOf", Effect::Widens),
            ("anyOf", Effect::Widens),
            ("allOf", Effect::Narrows),
        ] {
            let empty = Vec::new();
            let a = old.get(key).and_then(Value::as_array).unwrap_or(&empty);
            let b = new.get(key).and_then(Value::as_array).unwrap_or(&empty);
            for i in 0..a.len().max(b.len()) {
                match (a.get(i), b.get(i)) {
                    (Some(x), Some(y)) => {
                        self.schema(
                            x,
                            &format!("{old_at}/{key}/{i}"),
                            y,
                            &format!("{new_at}/{key}/{i}"),
                            dir,
                        );
                    }
                    (None, Some(_)) => self.effect(
                        added,
                        dir,
                        &format!("{new_at}/{key}/{i}"),
                        format!("`{key}` branch added"),
                    ),
                    (Some(_), None) => {
                        let removed = if added == Effect::Widens {
                            Effect::Narrows
                        } else {
                            Effect::Widens
                        };
                        self.effect(
                            removed,
                            dir,
                            &format!("{old_at}/{key}/{i}"),
                            format!("`{key}` branch removed"),
                        );
                    }
                    (None, None) => {}
                }
            }
        }
    }

    /// `format` or `pattern`: set narrows, unset widens, changed does both.
    fn changed_keyword(&mut self, old: &Value, new: &Value, key: &str, dir: Dir, new_at: &str) {
        let at = format!("{new_at}/{key}");
        match (old.get(key), new.get(key)) {
            (None, Some(b)) => self.effect(Effect::Narrows, dir, &at, format!("`{key}` {} set", text(b))),
            (Some(a), None) => self.effect(Effect::Widens, dir, &at, format!("`{key}` {} removed", text(a))),
            (Some(a), Some(b)) if a != b => {
                self.effect(
                    Effect::Both,
                    dir,
                    &at,
                    format!("`{key}` changed from {} to {}", text(a), text(b)),
                );
            }
            _ => {}
        }
    }

    fn enumeration(&mut self, old: &Value, new: &Value, dir: Dir, new_at: &str) {
        let at = format!("{new_at}/enum");
        let values = |v: &Value| v.get("enum").and_then(Value::as_array).cloned();
        match (values(old), values(new)) {
            (None, Some(_)) => self.effect(Effect::Narrows, dir, &at, "became an enum".into()),
            (Some(_), None) => self.effect(Effect::Widens, dir, &at, "is no longer an enum".into()),
            (Some(a), Some(b)) => {
                for value in b.iter().filter(|v| !a.contains(v)) {
                    self.effect(Effect::Widens, dir, &at, format!("enum value {} added", text(value)));
                }
                for value in a.iter().filter(|v| !b.contains(v)) {
                    self.effect(Effect::Narrows, dir, &at, format!("enum value {} removed", text(value)));
                }
            }
            (None, None) => {}
        }
    }

    /// A lower bound (`minLength`, …) raised narrows, an upper one raised widens; setting one narrows.
    fn bound(&mut self, old: &Value, new: &Value, key: &str, lower: bool, dir: Dir, new_at: &str) {
        let at = format!("{new_at}/{key}");
        let (a, b) = (
            old.get(key).and_then(Value::as_f64),
            new.get(key).and_then(Value::as_f64),
        );
        let effect = match (a, b) {
            (None, Some(_)) => Effect::Narrows,
            (Some(_), None) => Effect::Widens,
            (Some(a), Some(b)) if a == b => return,
            (Some(a), Some(b)) => {
                if (b > a) == lower {
                    Effect::Narrows
                } else {
                    Effect::Widens
                }
            }
            (None, None) => return,
        };
        let show = |v: Option<f64>| v.map_or_else(|| "none".to_owned(), |v| v.to_string());
        let verb = if effect == Effect::Narrows {
            "tightened"
        } else {
            "loosened"
        };
        self.effect(
            effect,
            dir,
            &at,
            format!("`{key}` {verb} from {} to {}", show(a), show(b)),
        );
    }

    fn properties(&mut self, old: &Value, old_at: &str, new: &Value, new_at: &str, dir: Dir) {
        let (old_props, new_props) = (obj(&old["properties"]), obj(&new["properties"]));
        let (old_req, new_req) = (strings(old.get("required")), strings(new.get("required")));
        let closed = |v: &Value| v.get("additionalProperties") == Some(&Value::Bool(false));
        for (name, old_prop) in &old_props {
            let prop_at = |base: &str| format!("{base}{}", pointer(&["properties", name]));
            match new_props.get(name) {
                None => {
                    let what = format!("property `{name}` removed");
                    let effect = match dir {
                        // A client that sends it is refused where other properties are; otherwise it is ignored.
                        Dir::Request if closed(new) => Effect::Narrows,
                        Dir::Request => Effect::Widens,
                        // oasdiff: a required response property removed is an error, an optional one info.
                        Dir::Response if old_req.contains(name) => Effect::Widens,
                        Dir::Response => Effect::Doc,
                    };
                    self.effect(effect, dir, &prop_at(old_at), what);
                }
                Some(new_prop) => {
                    match (old_req.contains(name), new_req.contains(name)) {
                        (false, true) => self.effect(
                            Effect::Narrows,
                            dir,
                            &format!("{new_at}/required"),
                            format!("property `{name}` became required"),
                        ),
                        (true, false) => self.effect(
                            Effect::Widens,
                            dir,
                            &format!("{new_at}/required"),
                            format!("property `{name}` became optional"),
                        ),
                        _ => {}
                    }
                    self.schema(old_prop, &prop_at(old_at), new_prop, &prop_at(new_at), dir);
                }
            }
        }
        for name in new_props.keys() {
            if old_props.contains_key(name) {
                continue;
            }
            let at = format!("{new_at}{}", pointer(&["properties", name]));
            let required = new_req.contains(name);
            let what = format!(
                "{} property `{name}` added",
                if required { "required" } else { "optional" }
            );
            let effect = match (dir, required) {
                (_, true) => Effect::Narrows,
                (Dir::Request, false) => Effect::Widens,
                // Clients ignore what they do not know; the server need not send it.
                (Dir::Response, false) => Effect::Doc,
            };
            self.effect(effect, dir, &at, what);
        }
        let additional = |v: &Value| v.get("additionalProperties").cloned();
        match (additional(old), additional(new)) {
            (a, b) if a == b => {}
            (Some(a), Some(b)) if a.is_object() && b.is_object() => self.schema(
                &a,
                &format!("{old_at}/additionalProperties"),
                &b,
                &format!("{new_at}/additionalProperties"),
                dir,
            ),
            (_, Some(Value::Bool(false))) => self.effect(
                Effect::Narrows,
                dir,
                &format!("{new_at}/additionalProperties"),
                "other properties are no longer accepted".into(),
            ),
            (Some(Value::Bool(false)), _) => self.effect(
                Effect::Widens,
                dir,
                &format!("{new_at}/additionalProperties"),
                "other properties are now accepted".into(),
            ),
            _ => self.effect(
                Effect::Both,
                dir,
                &format!("{new_at}/additionalProperties"),
                "`additionalProperties` changed".into(),
            ),
        }
    }
}

fn op_name(op: &Value, method: &str, path: &str) -> String {
    op.get("operationId")
        .and_then(Value::as_str)
        .map_or_else(|| format!("{} {path}", method.to_uppercase()), str::to_owned)
}

/// (kind, key) -> (parameter, pointer where it lives).
fn parameters(
    doc: &Value,
    item: &Value,
    op: &Value,
    path: &str,
    op_at: &str,
) -> BTreeMap<(String, String), (Value, String)> {
    let path_params: Vec<&str> = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    let mut out = BTreeMap::new();
    let item_at = op_at.rsplit_once('/').map_or("", |(parent, _)| parent).to_owned();
    for (list, list_at) in [
        (item.get("parameters"), item_at),
        (op.get("parameters"), op_at.to_owned()),
    ] {
        for (i, param) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
            let (param, at) = resolve(doc, param, &format!("{list_at}/parameters/{i}"));
            let name = param.get("name").and_then(Value::as_str).unwrap_or_default();
            let location = param.get("in").and_then(Value::as_str).unwrap_or_default().to_owned();
            let key = match location.as_str() {
                "path" => path_params
                    .iter()
                    .position(|p| *p == name)
                    .map_or_else(|| name.to_owned(), |i| format!("#{i}")),
                "header" => name.to_ascii_lowercase(),
                _ => name.to_owned(),
            };
            out.insert((location, key), (param.clone(), at));
        }
    }
    out
}
