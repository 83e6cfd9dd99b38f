//! The generated router's state and fallbacks (404, 405), the layer that names each route's operation, and the layer
//! around every route: the request id (the client's if sane, else a fresh UUID) for the handler and on the response,
//! a span per request, panic recovery into the enveloped 500, the rendering of rejections that need the request id,
//! and the request metrics.

use std::convert::Infallible;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::http::header::HeaderValue;
use axum::response::{IntoResponse, Response};
use tower::util::MapResponseLayer;
use tower::{Layer, Service};

use crate::context::CURRENT_REQUEST;
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

/// The operation that answered a request (its `operationId`), on the response's extensions: set by [`operation`]
/// on every route of a generated router, read by the request metrics and by layers of the implementer's own (an
/// audit log, say). Responses of the 404 and 405 fallbacks have none, nor has the 500 of a handler that panicked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationId(pub &'static str);

/// The layer a generated router puts on the handler of operation `id`: it marks the response with [`OperationId`].
pub fn operation(id: &'static str) -> MapResponseLayer<impl Fn(Response) -> Response + Clone + Send + Sync + 'static> {
    MapResponseLayer::new(move |mut response: Response| {
        response.extensions_mut().insert(OperationId(id));
        response
    })
}

/// The names of the request metrics, recorded through the `metrics` facade (nothing is recorded until the binary
/// installs a recorder, such as `metrics-exporter-prometheus`).
pub mod metric {
    /// Counter of answered requests, labelled `operation` (the `operationId`; empty for 404/405 answers outside
    /// every operation, and for the 500 of a handler that panicked) and `status` (the class: `2xx`, `4xx`, …).
    pub const REQUESTS: &str = "http_requests_total";
    /// Histogram of the time from a request's arrival to its answer's head, in seconds, labelled as [`REQUESTS`].
    pub const DURATION: &str = "http_request_duration_seconds";

    /// Describes the request metrics to the installed recorder (their help text and unit).
    pub fn describe() {
        metrics::describe_counter!(REQUESTS, "Requests answered, by operation and status class");
        metrics::describe_histogram!(
            DURATION,
            metrics::Unit::Seconds,
            "Time from a request's arrival to its answer, by operation and status class"
        );
    }

    /// Records one answered request.
    pub(crate) fn record(operation: &'static str, status: u16, elapsed: std::time::Duration) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let labels = [("operation", operation), ("status", class)];
        metrics::counter!(REQUESTS, &labels).increment(1);
        metrics::histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
    }
}

/// Wraps the generated routes with what every response needs: panic recovery, the request id and a span.
pub fn layers(routes: Router) -> Router {
    routes.layer(RequestContextLayer)
}

/// The one layer around every route: assigns the request id (the client's if sane; the [`RequestId`] extractor reads
/// it while the route runs), runs the request in a span with method, path, id, status and latency (never headers or
/// bodies), turns a panic into the enveloped 500, renders pending rejections with the id, and sets `x-request-id`.
///
/// One hand-written service, kept for its measured cost: tower-http's `SetRequestIdLayer`,
/// `PropagateRequestIdLayer`, `TraceLayer` and `CatchPanicLayer` with a `from_fn` for pending rejections (in
/// commit 69ca063) took about 8 k more instructions per create of `secrets-server` (6 % of 130.5 k) and about 11 k per
/// 422 (25 % of 44.3 k): request and response extension maps, boxed bodies and services, and repeated header
/// lookups (callgrind, 400 requests; see the commit that brought this back for the method).
#[derive(Clone, Copy)]
struct RequestContextLayer;

impl<S> Layer<S> for RequestContextLayer {
    type Service = RequestContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestContext { inner }
    }
}

#[derive(Clone)]
struct RequestContext<S> {
    inner: S,
}

impl<S> Service<Request> for RequestContext<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RequestContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let id = RequestId::for_request(request.headers());
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = %id,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let inner = {
            let _entered = span.enter();
            panic::catch_unwind(AssertUnwindSafe(|| {
                CURRENT_REQUEST.sync_scope(id.clone(), || self.inner.call(request))
            }))
        };
        RequestContextFuture {
            inner: inner.ok(),
            id,
            span,
            started,
        }
    }
}

pin_project_lite::pin_project! {
    struct RequestContextFuture<F> {
        // `None`: the handler panicked before returning its future.
        #[pin]
        inner: Option<F>,
        id: RequestId,
        span: tracing::Span,
        started: Instant,
    }
}

impl<F> Future for RequestContextFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let polled = match this.inner.as_pin_mut() {
            // The payload is not logged: a panic message can quote anything the handler had in hand.
            Some(inner) => panic::catch_unwind(AssertUnwindSafe(|| {
                CURRENT_REQUEST.sync_scope(this.id.clone(), || inner.poll(cx))
            }))
            .map_err(drop),
            None => Err(()),
        };
        let mut response = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(mut response))) => match response.extensions_mut().remove::<Pending>() {
                Some(Pending(rejection)) => {
                    // Answered again with the id, keeping what the route marked the answer with (its
                    // `OperationId`): a 5xx is counted under its operation, not under none.
                    let marks = std::mem::take(response.extensions_mut());
                    let mut answer = rejection.into_response_for(this.id);
                    answer.extensions_mut().extend(marks);
                    answer
                }
                None => response,
            },
            // Whether the handler had read the body is unknown, so the connection is not reused.
            Err(()) => Rejection::internal("handler panicked")
                .closing()
                .into_response_for(this.id),
        };
        let value = HeaderValue::try_from(this.id.as_str()).expect("request ids are plain ASCII");
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
        let elapsed = this.started.elapsed();
        let status = response.status().as_u16();
        let operation = response.extensions().get::<OperationId>().map_or("", |id| id.0);
        metric::record(operation, status, elapsed);
        this.span.record("status", status);
        this.span.record("latency_ms", elapsed.as_millis() as u64);
        tracing::info!("request finished");
        Poll::Ready(Ok(response))
    }
}
