//! tierdesk HTTP API (SPEC §11–§12): the router, the auth extractor, problem+json errors and
//! the OpenAPI document generated from the handlers.

mod extract;
pub mod jobs;
mod problem;
mod routes;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tierdesk_app::App;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use problem::ApiError;

/// Largest request body accepted; larger ones get 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Notifications being applied at once; more are refused with 503 / 429 instead of queueing
/// without bound.
pub const INTAKE_SLOTS: usize = 256;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The application services.
    pub app: App,
    /// Permits for monitoring notifications in flight.
    pub intake_slots: std::sync::Arc<tokio::sync::Semaphore>,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "tierdesk API", description = "Tiered service management: tickets, L1→L2→L3 escalation, SLA clocks."),
    components(schemas(problem::Problem, problem::FieldError)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// The router and the OpenAPI document built from the same route table.
pub fn router_and_openapi(app: App) -> (Router, utoipa::openapi::OpenApi) {
    router_with_intake_slots(app, INTAKE_SLOTS)
}

/// [`router_and_openapi`] with `slots` notifications applied at once (tests use 0 to see the
/// overload answers).
pub fn router_with_intake_slots(app: App, slots: usize) -> (Router, utoipa::openapi::OpenApi) {
    let (router, doc) =
        routes::table(OpenApiRouter::with_openapi(ApiDoc::openapi())).split_for_parts();
    let doc_json = doc.clone();
    let router = routes::extra_methods(router)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc_json.clone();
                async move { axum::Json(doc) }
            }),
        )
        .fallback(routes::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            record_latency,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::extract::Request| {
            tracing::debug_span!("request", method = %req.method(), path = %redacted_path(req.uri().path()))
        }))
        .with_state(AppState {
            app,
            intake_slots: std::sync::Arc::new(tokio::sync::Semaphore::new(slots)),
        });
    (router, doc)
}

/// The request path for logs, with integration keys (the last segment of intake URLs) hidden.
fn redacted_path(path: &str) -> String {
    match path.strip_prefix("/api/v1/intake/") {
        Some(rest) => match rest.split_once('/') {
            Some((kind, _)) => format!("/api/v1/intake/{kind}/***"),
            None => path.to_owned(),
        },
        None => path.to_owned(),
    }
}

/// Records each request's latency by method, route template and status.
async fn record_latency(
    axum::extract::State(app): axum::extract::State<App>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    app.metrics.http_request(
        &method,
        &route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp
}

/// The router.
pub fn router(app: App) -> Router {
    router_and_openapi(app).0
}

/// Serves until `shutdown` completes, then drains in-flight requests. The search indexer always
/// runs; with `background_jobs` the process also runs the SLA timer and the webhook deliverer.
pub async fn serve(
    listener: TcpListener,
    app: App,
    background_jobs: bool,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = vec![tokio::spawn(jobs::kb_indexer(app.clone(), stop_rx.clone()))];
    if background_jobs {
        tasks.push(tokio::spawn(jobs::sla_timer(app.clone(), stop_rx.clone())));
        tasks.push(tokio::spawn(jobs::heartbeat_watch(
            app.clone(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(jobs::webhook_deliverer(app.clone(), stop_rx)));
    }
    let served = axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    served
}

#[cfg(test)]
mod tests {
    use super::redacted_path;

    #[test]
    fn intake_keys_are_hidden_in_logged_paths() {
        assert_eq!(
            redacted_path("/api/v1/intake/alertmanager/0123456789abcdef0123456789abcdef"),
            "/api/v1/intake/alertmanager/***"
        );
        assert_eq!(
            redacted_path("/api/v1/intake/heartbeat/k"),
            "/api/v1/intake/heartbeat/***"
        );
        assert_eq!(
            redacted_path("/api/v1/intake/alertmanager"),
            "/api/v1/intake/alertmanager"
        );
        assert_eq!(
            redacted_path("/api/v1/tickets/INC-1"),
            "/api/v1/tickets/INC-1"
        );
    }
}
