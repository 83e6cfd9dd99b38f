//! The generated router's state and fallbacks (404, 405), and the layers around every route, tower-http's where it
//! has one: the request id (the client's if sane, else a fresh UUID) on the request and on the response, a span per
//! request, panic recovery into the enveloped 500, and the rendering of rejections that need the request id.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::rejection::Pending;
use crate::{REQUEST_ID_HEADER, Rejection, RequestId, RouterConfig, answer_unread};

/// The state of a generated router: the implementation and the router's settings.
pub struct StubState<A> {
    /// The implementation of the API trait.
    pub api: Arc<A>,
    /// The router's settings.
    pub config: Arc<RouterConfig>,
}

impl<A> StubState<A> {
    /// The state of a router over `api` with `config`.
    pub fn new(api: Arc<A>, config: RouterConfig) -> Self {
        Self {
            api,
            config: Arc::new(config),
        }
    }
}

// Not derived: that would ask `A: Clone`.
impl<A> Clone for StubState<A> {
    fn clone(&self) -> Self {
        Self {
            api: Arc::clone(&self.api),
            config: Arc::clone(&self.config),
        }
    }
}

impl<A> FromRef<StubState<A>> for Arc<RouterConfig> {
    fn from_ref(state: &StubState<A>) -> Self {
        Arc::clone(&state.config)
    }
}

/// The router's 404 for paths no operation serves; the body, unused, is drained (see [`answer_unread`]).
pub async fn not_found(State(config): State<Arc<RouterConfig>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let rejection = Rejection::not_found(format!("no route for {}", parts.uri.path()));
    answer_unread(rejection.into_response(), body, &config).await
}

/// The router's 405; axum adds `Allow` to every 405 that a method router answers. The body, unused, is drained.
pub async fn method_not_allowed(State(config): State<Arc<RouterConfig>>, request: Request) -> Response {
    answer_unread(
        Rejection::method_not_allowed().into_response(),
        request.into_body(),
        &config,
    )
    .await
}

/// Wraps the generated routes with what every response needs: the request id (set on the request for the handler,
/// copied to the response), a span with method, path, id, status and latency (never headers or bodies), pending
/// rejections answered with the id, and a panic turned into the enveloped 500.
pub fn layers(routes: Router) -> Router {
    routes.layer(
        ServiceBuilder::new()
            .map_request(drop_insane_request_id)
            .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_request(())
                    .on_response(request_finished)
                    .on_body_chunk(())
                    .on_eos(())
                    // A failure is a 5xx, logged once, with its cause, by `Rejection::into_response_for`.
                    .on_failure(()),
            )
            .layer(middleware::from_fn(answer_pending))
            .layer(CatchPanicLayer::custom(panicked)),
    )
}

/// A client's `x-request-id` is repeated in headers and logs only when it is short and plain; otherwise it is
/// dropped here, and `SetRequestIdLayer` makes a fresh one.
fn drop_insane_request_id(mut request: Request) -> Request {
    let insane = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .is_some_and(|id| !RequestId::is_sane(id.as_bytes()));
    if insane {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

fn request_span(request: &Request) -> Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|id| id.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    )
}

fn request_finished<B>(response: &Response<B>, latency: Duration, span: &Span) {
    span.record("status", response.status().as_u16());
    span.record("latency_ms", latency.as_millis() as u64);
    tracing::info!("request finished");
}

/// A rejection answered through `IntoResponse` (a fallback's, a panic's, one a hand-written route returned) is
/// answered again here, where the request id is known: its cause is logged with the id, and a 5xx names it.
async fn answer_pending(request: Request, next: Next) -> Response {
    let request_id = request.headers().get(REQUEST_ID_HEADER).cloned();
    let mut response = next.run(request).await;
    match response.extensions_mut().remove::<Pending>() {
        Some(Pending(rejection)) => rejection.into_response_for(&RequestId::from_header(request_id.as_ref())),
        None => response,
    }
}

/// The payload is not logged: a panic message can quote anything the handler had in hand. Whether the handler had
/// read the body is unknown, so the connection is not reused.
fn panicked(_payload: Box<dyn Any + Send + 'static>) -> Response {
    Rejection::internal("handler panicked").closing().into_response()
}
