//! The website guard's routes (`/guard/...`): one-line adapters over the `Office` methods in
//! `guard.rs`, for admins and publishers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warta_api as api;

use crate::error::HubResult;
use crate::http::{Json, Path, Query, blocking};
use crate::office::{Caller, Office};
use crate::openapi::{BadRequest, Forbidden, NotFound, Unauthenticated};

type Hub = State<Arc<Office>>;

pub(crate) fn routes() -> OpenApiRouter<Arc<Office>> {
    OpenApiRouter::new()
        .routes(routes!(sites))
        .routes(routes!(set_site))
        .routes(routes!(pages, add_page))
        .routes(routes!(page, update_page, remove_page))
        .routes(routes!(check_now))
        .routes(routes!(approve_baseline))
        .routes(routes!(checks))
        .routes(routes!(incidents))
        .routes(routes!(incident))
        .routes(routes!(resolve))
        .routes(routes!(body))
}

/// The office's websites with the guard's settings.
#[utoipa::path(get, path = "/guard/sites", tag = "guard", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::GuardSite>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn sites(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::GuardSite>>> {
    blocking(move || o.guard_sites(&c)).await.map(Json)
}

/// Changes a website's public address, allowed domains and whether it is watched; its home
/// page is watched from then on (fetching from private addresses: admin).
#[utoipa::path(put, path = "/guard/sites/{id}", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Website id", example = 1)),
    request_body = api::GuardSiteInput,
    responses(
        (status = 200, description = "OK", body = api::GuardSite),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn set_site(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(input): Json<api::GuardSiteInput>,
) -> HubResult<Json<api::GuardSite>> {
    blocking(move || o.guard_set_site(&c, id, input))
        .await
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PagesQuery {
    /// Only the pages of this website.
    #[param(required = false)]
    target_id: Option<i64>,
}

/// The watched pages with their last check and state.
#[utoipa::path(get, path = "/guard/pages", tag = "guard", security(("bearer" = [])),
    params(PagesQuery),
    responses(
        (status = 200, description = "OK", body = Vec<api::GuardPage>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn pages(
    State(o): Hub,
    c: Caller,
    Query(q): Query<PagesQuery>,
) -> HubResult<Json<Vec<api::GuardPage>>> {
    blocking(move || o.guard_pages(&c, q.target_id))
        .await
        .map(Json)
}

/// Watches a home or section page of one of the office's websites.
#[utoipa::path(post, path = "/guard/pages", tag = "guard", security(("bearer" = [])),
    request_body = api::GuardPageInput,
    responses(
        (status = 200, description = "OK", body = api::GuardPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn add_page(
    State(o): Hub,
    c: Caller,
    Json(input): Json<api::GuardPageInput>,
) -> HubResult<Json<api::GuardPage>> {
    blocking(move || o.guard_add_page(&c, input))
        .await
        .map(Json)
}

/// One watched page.
#[utoipa::path(get, path = "/guard/pages/{id}", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Watched page id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::GuardPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn page(State(o): Hub, c: Caller, Path(id): Path<i64>) -> HubResult<Json<api::GuardPage>> {
    blocking(move || o.guard_page(&c, id)).await.map(Json)
}

/// Changes a watched page's interval and noise patterns (regular expressions of text the
/// baseline comparison ignores: dates, counters).
#[utoipa::path(put, path = "/guard/pages/{id}", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Watched page id", example = 1)),
    request_body = api::GuardPageUpdate,
    responses(
        (status = 200, description = "OK", body = api::GuardPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn update_page(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(update): Json<api::GuardPageUpdate>,
) -> HubResult<Json<api::GuardPage>> {
    blocking(move || o.guard_update_page(&c, id, update))
        .await
        .map(Json)
}

/// Stops watching a page (its incidents stay).
#[utoipa::path(delete, path = "/guard/pages/{id}", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Watched page id", example = 1)),
    responses(
        (status = 204, description = "No longer watched"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn remove_page(State(o): Hub, c: Caller, Path(id): Path<i64>) -> HubResult<StatusCode> {
    blocking(move || o.guard_remove_page(&c, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks a page now and answers with what was found.
#[utoipa::path(post, path = "/guard/pages/{id}/check", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Watched page id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::GuardCheck),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn check_now(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::GuardCheck>> {
    o.guard_check_now(&c, id).await.map(Json)
}

/// Approves the page as last fetched as its baseline.
#[utoipa::path(post, path = "/guard/pages/{id}/baseline", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Watched page id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::GuardPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn approve_baseline(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::GuardPage>> {
    blocking(move || o.guard_approve_baseline(&c, id))
        .await
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ChecksQuery {
    /// Only the checks of this page.
    #[param(required = false)]
    page_id: Option<i64>,
    /// At most this many (default 100, at most 500).
    #[param(required = false, minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// Recent checks, newest first.
#[utoipa::path(get, path = "/guard/checks", tag = "guard", security(("bearer" = [])),
    params(ChecksQuery),
    responses(
        (status = 200, description = "OK", body = Vec<api::GuardCheck>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn checks(
    State(o): Hub,
    c: Caller,
    Query(q): Query<ChecksQuery>,
) -> HubResult<Json<Vec<api::GuardCheck>>> {
    blocking(move || o.guard_checks(&c, q.page_id, q.limit.unwrap_or(100)))
        .await
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct IncidentsQuery {
    /// `open` or `resolved`; all when left out.
    #[param(required = false)]
    state: Option<String>,
}

/// Guard incidents, newest first.
#[utoipa::path(get, path = "/guard/incidents", tag = "guard", security(("bearer" = [])),
    params(IncidentsQuery),
    responses(
        (status = 200, description = "OK", body = Vec<api::GuardIncidentSummary>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn incidents(
    State(o): Hub,
    c: Caller,
    Query(q): Query<IncidentsQuery>,
) -> HubResult<Json<Vec<api::GuardIncidentSummary>>> {
    blocking(move || o.guard_incidents(&c, q.state.as_deref().filter(|s| !s.is_empty())))
        .await
        .map(Json)
}

/// One incident with its evidence: the findings, both versions' hashes and the diff.
#[utoipa::path(get, path = "/guard/incidents/{id}", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::GuardIncident),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn incident(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::GuardIncident>> {
    blocking(move || o.guard_incident(&c, id)).await.map(Json)
}

/// Resolves an open incident (a later finding on the page opens a new one).
#[utoipa::path(post, path = "/guard/incidents/{id}/resolve", tag = "guard", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1)),
    request_body = api::GuardResolveRequest,
    responses(
        (status = 200, description = "OK", body = api::GuardIncident),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn resolve(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(req): Json<api::GuardResolveRequest>,
) -> HubResult<Json<api::GuardIncident>> {
    blocking(move || o.guard_resolve(&c, id, req))
        .await
        .map(Json)
}

/// A stored version of a page (evidence), as plain text so that it is never rendered.
#[utoipa::path(get, path = "/guard/bodies/{hash}", tag = "guard", security(("bearer" = [])),
    params(("hash" = String, Path, description = "SHA-256 of the stored version")),
    responses(
        (status = 200, description = "The page's HTML as text", body = String, content_type = "text/plain"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn body(State(o): Hub, c: Caller, Path(hash): Path<String>) -> HubResult<Response> {
    let text = blocking(move || o.guard_body(&c, &hash)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        text,
    )
        .into_response())
}
