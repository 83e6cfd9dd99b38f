//! The router's fallbacks (404, 405) and the layers around every route: panic recovery, the request id, a span per
//! request, and the final rendering of rejections that need the request id.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::http::header::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tracing::Instrument;

use crate::rejection::Pending;
use crate::{REQUEST_ID_HEADER, Rejection, RequestId, RouterConfig, answer_unread};

/// The router's 404 for paths no operation serves; the body, unused, is drained (see [`answer_unread`]).
pub async fn not_found(request: Request, config: Arc<RouterConfig>) -> Response {
    let (parts, body) = request.into_parts();
    let rejection = Rejection::not_found(format!("no route for {}", parts.uri.path()));
    answer_unread(rejection.into_response(), body, &config).await
}

/// The router's 405; axum adds `Allow` to every 405 that a method router answers. The body, unused, is drained.
pub async fn method_not_allowed(request: Request, config: Arc<RouterConfig>) -> Response {
    answer_unread(
        Rejection::method_not_allowed().into_response(),
        request.into_body(),
        &config,
    )
    .await
}

/// Marks the response `CatchPanicLayer` builds, so the request-context middleware (which knows the request id)
/// turns it into the enveloped 500.
#[derive(Clone, Copy)]
struct Panicked;

fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The payload is not logged: a panic message can quote anything the handler had in hand.
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(Panicked);
    response
}

/// Wraps the generated routes with what every response needs: panic recovery, the request id and a span.
pub fn layers(routes: Router) -> Router {
    routes
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(request_context))
}

/// Assigns the request id (the client's if sane), runs the request in a span with method, path, id, status and
/// latency (never headers or bodies), turns a caught panic into the enveloped 500, and sets `x-request-id`.
async fn request_context(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::from_client)
        .unwrap_or_else(RequestId::generate);
    request.extensions_mut().insert(id.clone());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    if response.extensions().get::<Panicked>().is_some() {
        // Whether the handler had read the body is unknown, so the connection is not reused.
        response = Rejection::internal("handler panicked").closing().into_response_for(&id);
    } else if let Some(Pending(rejection)) = response.extensions_mut().remove::<Pending>() {
        response = span.in_scope(|| rejection.into_response_for(&id));
    }
    let value = HeaderValue::try_from(id.as_str()).expect("request ids are plain ASCII");
    response.headers_mut().insert(REQUEST_ID_HEADER, value);
    span.record("status", response.status().as_u16());
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    span.in_scope(|| tracing::info!("request finished"));
    response
}
