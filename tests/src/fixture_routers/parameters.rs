//! Parameter styles at run time: arrays (`simple`, exploded and comma `form`, space- and pipe-delimited),
//! `deepObject` query objects, JSON (`content`) parameters and cookies, each typed and validated with its `loc`.

use std::sync::Arc;

use stub_runtime::{Context, Rejection, RouterConfig};

use super::{call, violations};
use crate::fixtures::object_and_json_parameters as objects;
use crate::fixtures::{array_parameter_styles as arrays, cookie_parameters as cookies};

struct Fixture;

impl arrays::Api for Fixture {
    type Caller = ();

    async fn authenticate(
        &self,
        _credentials: stub_runtime::Credentials,
        _request_id: &stub_runtime::RequestId,
    ) -> Result<(), Rejection> {
        unreachable!("no operation is secured")
    }

    async fn list_boxes(
        &self,
        _ctx: Context<()>,
        path: arrays::ListBoxesPath,
        query: arrays::ListBoxesQuery,
        headers: arrays::ListBoxesHeaders,
    ) -> Result<arrays::ListBoxesResponse, Rejection> {
        let text = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            path.ids, query.tag, query.sizes, query.words, query.codes, headers.x_flags
        );
        Ok(arrays::ListBoxesResponse::Ok(arrays::types::Echo { text }))
    }
}

impl objects::Api for Fixture {
    type Caller = ();

    async fn authenticate(
        &self,
        _credentials: stub_runtime::Credentials,
        _request_id: &stub_runtime::RequestId,
    ) -> Result<(), Rejection> {
        unreachable!("no operation is secured")
    }

    async fn search(
        &self,
        _ctx: Context<()>,
        query: objects::SearchQuery,
        headers: objects::SearchHeaders,
    ) -> Result<objects::SearchResponse, Rejection> {
        let filter = query.filter.map(|f| (f.name.map(String::from), f.min, f.open));
        let where_ = query.where_.map(|w| (w.field, w.values));
        let text = format!("{filter:?} {where_:?} {:?}", headers.x_context);
        Ok(objects::SearchResponse::Ok(objects::types::Echo { text }))
    }
}

impl cookies::Api for Fixture {
    type Caller = ();

    async fn authenticate(
        &self,
        _credentials: stub_runtime::Credentials,
        _request_id: &stub_runtime::RequestId,
    ) -> Result<(), Rejection> {
        unreachable!("no operation is secured")
    }

    async fn get_prefs(
        &self,
        _ctx: Context<()>,
        cookies: cookies::GetPrefsCookies,
    ) -> Result<cookies::GetPrefsResponse, Rejection> {
        let text = format!("{} {:?} {:?}", cookies.theme, cookies.recent, cookies.lang);
        Ok(cookies::GetPrefsResponse::Ok(cookies::types::Echo { text }))
    }
}

/// What must come back: the echoed parameters on 200, the `(loc, type)` of every violation on 422.
enum Expect {
    Echo(&'static str),
    Violations(&'static [(&'static str, &'static str)]),
    Status(u16),
}

/// (GET uri, headers, what must come back).
type Case = (&'static str, &'static [(&'static str, &'static str)], Expect);

async fn check(app: axum::Router, cases: &[Case]) {
    for (uri, headers, expect) in cases {
        let (status, body) = call(app.clone(), "GET", uri, headers, None).await;
        match expect {
            Expect::Echo(text) => assert_eq!((status, body["text"].as_str()), (200, Some(*text)), "{uri}: {body}"),
            Expect::Violations(expected) => {
                let expected: Vec<(String, String)> = expected
                    .iter()
                    .map(|(loc, kind)| ((*loc).to_owned(), (*kind).to_owned()))
                    .collect();
                assert_eq!((status, violations(&body)), (422, expected), "{uri}: {body}");
            }
            Expect::Status(expected) => assert_eq!(status, *expected, "{uri}: {body}"),
        }
    }
}

#[tokio::test]
async fn array_parameters_in_every_style() {
    let app = arrays::router(Arc::new(Fixture), RouterConfig::default());
    check(app, &[
        (
            "/boxes/1,2,3?tag=red&tag=green&sizes=1.5,2&words=a%20b+c&codes=x|yy",
            &[("x-flags", "true,false")],
            Expect::Echo(r#"[1, 2, 3] Some([Red, Green]) [1.5, 2.0] Some(["a", "b", "c"]) Some(["x", "yy"]) Some([true, false])"#),
        ),
        ("/boxes/7?sizes=", &[], Expect::Echo("[7] None [] None None None")),
        (
            "/boxes/0,x?tag=blue&sizes=1,2,3,4&codes=abc",
            &[("x-flags", "yes")],
            Expect::Violations(&[
                (r#"["path","ids",0]"#, "greater_than_equal"),
                (r#"["path","ids",1]"#, "int_type"),
                (r#"["query","tag",0]"#, "enum"),
                (r#"["query","sizes"]"#, "too_long"),
                (r#"["query","codes",0]"#, "string_too_long"),
                (r#"["header","X-Flags",0]"#, "bool_type"),
            ]),
        ),
        ("/boxes/1", &[], Expect::Violations(&[(r#"["query","sizes"]"#, "missing")])),
        // A comma-separated array is one value: given twice is ambiguous.
        ("/boxes/1?sizes=1&sizes=2", &[], Expect::Status(400)),
    ])
    .await;
}

#[tokio::test]
async fn deep_objects_and_json_parameters() {
    let app = objects::router(Arc::new(Fixture), RouterConfig::default());
    let where_ = "where=%7B%22field%22%3A%22x%22%2C%22values%22%3A%5B1%5D%7D";
    let uri: &'static str = format!("/search?filter%5Bname%5D=ab&filter[min]=3&{where_}").leak();
    check(
        app,
        &[
            (
                uri,
                &[("x-context", "[1, 2]")],
                Expect::Echo(r#"Some((Some("ab"), Some(3), None)) Some(("x", [1])) [1, 2]"#),
            ),
            ("/search", &[("x-context", "[]")], Expect::Echo("None None []")),
            (
                "/search?filter[name]=a&filter[min]=-1&filter[open]=maybe&filter[extra]=1&where=nope",
                &[("x-context", "[1,2,3]")],
                Expect::Violations(&[
                    (r#"["query","filter","min"]"#, "greater_than_equal"),
                    (r#"["query","filter","name"]"#, "string_too_short"),
                    (r#"["query","filter","open"]"#, "bool_type"),
                    (r#"["query","filter","extra"]"#, "extra_forbidden"),
                    (r#"["query","where"]"#, "json_invalid"),
                    (r#"["header","X-Context"]"#, "too_long"),
                ]),
            ),
            (
                "/search?where=%7B%7D",
                &[],
                Expect::Violations(&[
                    (r#"["query","where","field"]"#, "missing"),
                    (r#"["header","X-Context"]"#, "missing"),
                ]),
            ),
            (
                "/search?filter[min]=1&filter[min]=2",
                &[("x-context", "[]")],
                Expect::Status(400),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn cookie_parameters_come_from_the_cookie_header() {
    let app = cookies::router(Arc::new(Fixture), RouterConfig::default());
    check(
        app,
        &[
            (
                "/prefs",
                &[("cookie", "theme=dark; recent=1,2; lang=en")],
                Expect::Echo("dark Some([1, 2]) Some(\"en\")"),
            ),
            (
                "/prefs",
                &[("cookie", "a=b"), ("cookie", "theme=\"light\"")],
                Expect::Echo("light None None"),
            ),
            (
                "/prefs",
                &[("cookie", "theme=blue; recent=1,x; lang=eng")],
                Expect::Violations(&[
                    (r#"["cookie","theme"]"#, "enum"),
                    (r#"["cookie","recent",1]"#, "int_type"),
                    (r#"["cookie","lang"]"#, "string_pattern_mismatch"),
                ]),
            ),
            (
                "/prefs",
                &[],
                Expect::Violations(&[(r#"["cookie","theme"]"#, "missing")]),
            ),
            ("/prefs", &[("cookie", "theme=dark; theme=light")], Expect::Status(400)),
        ],
    )
    .await;
}
