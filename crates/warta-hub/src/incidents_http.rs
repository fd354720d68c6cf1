//! The incidents' routes (`/incidents/...`, `/sops/{sop}/roles`): one-line adapters over the
//! `Office` methods in `incidents.rs`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::TryStreamExt as _;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warta_api as api;

use crate::error::{HubError, HubResult};
use crate::http::{Json, Path, Query, blocking};
use crate::office::{Caller, Office, Page};
use crate::openapi::{BadRequest, Conflict, Forbidden, NotFound, TooLarge, Unauthenticated};

type Hub = State<Arc<Office>>;

pub(crate) fn routes() -> OpenApiRouter<Arc<Office>> {
    OpenApiRouter::new()
        .routes(routes!(sop_roles, set_sop_roles))
        .routes(routes!(list_incidents, create_incident))
        .routes(routes!(incident_tasks))
        .routes(routes!(get_incident))
        .routes(routes!(act_on_incident))
        .routes(routes!(comment_on_incident))
        .routes(routes!(add_incident_evidence))
        .routes(routes!(incident_evidence_content))
        .routes(routes!(incident_timeline))
}

/// Who holds each role of an SOP (admins). SOP-A's roles are the users' office roles.
#[utoipa::path(get, path = "/sops/{sop}/roles", tag = "incidents", security(("bearer" = [])),
    params(("sop" = String, Path, description = "SOP id", example = "sop-d")),
    responses(
        (status = 200, description = "OK", body = api::SopRoles),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn sop_roles(
    State(o): Hub,
    c: Caller,
    Path(sop): Path<String>,
) -> HubResult<Json<api::SopRoles>> {
    blocking(move || o.sop_roles(&c, &sop)).await.map(Json)
}

/// Sets who holds each role of an SOP (admins): every role to the users given for it, a role
/// left out to nobody.
#[utoipa::path(put, path = "/sops/{sop}/roles", tag = "incidents", security(("bearer" = [])),
    params(("sop" = String, Path, description = "SOP id", example = "sop-d")),
    request_body = api::SopRolesInput,
    responses(
        (status = 200, description = "OK", body = api::SopRoles),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn set_sop_roles(
    State(o): Hub,
    c: Caller,
    Path(sop): Path<String>,
    Json(input): Json<api::SopRolesInput>,
) -> HubResult<Json<api::SopRoles>> {
    blocking(move || o.set_sop_roles(&c, &sop, input))
        .await
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `open`, `closed` or `all` (the default).
    #[param(required = false)]
    state: Option<String>,
    /// `sop-d`, `sop-b` or `all` (the default).
    #[param(required = false)]
    sop: Option<String>,
    /// At most this many (default 200, at most 500).
    #[param(required = false)]
    limit: Option<i64>,
    #[param(required = false)]
    offset: Option<i64>,
}

/// Incidents the caller may see (admins, holders of the SOP's roles, whoever reported it),
/// newest first.
#[utoipa::path(get, path = "/incidents", tag = "incidents", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Vec<api::IncidentSummary>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ))]
async fn list_incidents(
    State(o): Hub,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> HubResult<Json<Vec<api::IncidentSummary>>> {
    let page = Page::new(q.limit, q.offset)?;
    blocking(move || o.list_incidents(&c, q.state.as_deref(), q.sop.as_deref(), page))
        .await
        .map(Json)
}

/// Reports an incident (the form): it opens at the SOP's first step.
#[utoipa::path(post, path = "/incidents", tag = "incidents", security(("bearer" = [])),
    request_body = api::NewIncident,
    responses(
        (status = 201, description = "Created", body = api::IncidentDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ))]
async fn create_incident(
    State(o): Hub,
    c: Caller,
    Json(new): Json<api::NewIncident>,
) -> HubResult<(StatusCode, Json<api::IncidentDetail>)> {
    blocking(move || o.create_incident(&c, new))
        .await
        .map(|d| (StatusCode::CREATED, Json(d)))
}

/// "My tasks" of incidents: open incidents whose current step waits for a role the caller
/// holds, soonest due first, overdue marked.
#[utoipa::path(get, path = "/incidents/tasks", tag = "incidents", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::IncidentSummary>),
        (status = 401, response = Unauthenticated),
    ))]
async fn incident_tasks(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::IncidentSummary>>> {
    blocking(move || o.incident_tasks(&c)).await.map(Json)
}

/// One incident: its step history, the caller's possible actions, comments and evidence.
#[utoipa::path(get, path = "/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::IncidentDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn get_incident(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::IncidentDetail>> {
    blocking(move || o.get_incident(&c, id)).await.map(Json)
}

/// Takes an action of the incident's current step (only a holder of the step's role).
#[utoipa::path(post, path = "/incidents/{id}/actions/{action}", tag = "incidents", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Incident id", example = 1),
        ("action" = String, Path, description = "Action id of the current step", example = "forward"),
    ),
    request_body = api::IncidentActionRequest,
    responses(
        (status = 200, description = "OK", body = api::IncidentDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ))]
async fn act_on_incident(
    State(o): Hub,
    c: Caller,
    Path((id, action)): Path<(i64, String)>,
    Json(req): Json<api::IncidentActionRequest>,
) -> HubResult<Json<api::IncidentDetail>> {
    blocking(move || o.act_incident(&c, id, &action, req))
        .await
        .map(Json)
}

/// Comments on an incident.
#[utoipa::path(post, path = "/incidents/{id}/comments", tag = "incidents", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1)),
    request_body = api::NewComment,
    responses(
        (status = 201, description = "Created", body = api::Comment),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn comment_on_incident(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(new): Json<api::NewComment>,
) -> HubResult<(StatusCode, Json<api::Comment>)> {
    blocking(move || o.add_incident_comment(&c, id, &new.body))
        .await
        .map(|x| (StatusCode::CREATED, Json(x)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EvidenceQuery {
    /// The file's name.
    filename: String,
}

/// Attaches a file as evidence (any type: logs, captures, screenshots), streamed into the
/// blob store and named by its SHA-256.
#[utoipa::path(post, path = "/incidents/{id}/evidence", tag = "incidents", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1), EvidenceQuery),
    request_body(content = inline(crate::openapi::Binary), content_type = "application/octet-stream", description = "The file"),
    responses(
        (status = 201, description = "Created", body = api::IncidentEvidence),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
    ))]
async fn add_incident_evidence(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<EvidenceQuery>,
    headers: HeaderMap,
    body: Body,
) -> HubResult<(StatusCode, Json<api::IncidentEvidence>)> {
    let filename = warta_media::validate_filename(&q.filename).map_err(crate::media_error)?;
    let limit = {
        let (o, c) = (o.clone(), c.clone());
        blocking(move || o.check_can_add_evidence(&c, id)).await?
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(HubError::TooLarge { limit });
    }
    let reader =
        tokio_util::io::StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let blob = o
        .blobs()
        .put_stream(reader, limit)
        .await
        .map_err(crate::media_error)?;
    blocking(move || o.record_incident_evidence(&c, id, &filename, &blob))
        .await
        .map(|e| (StatusCode::CREATED, Json(e)))
}

/// A piece of evidence's bytes (a guard page version as plain text).
#[utoipa::path(get, path = "/incidents/{id}/evidence/{evidence_id}/content", tag = "incidents", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Incident id", example = 1),
        ("evidence_id" = i64, Path, description = "Evidence id", example = 1),
    ),
    responses(
        (status = 200, description = "The file", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn incident_evidence_content(
    State(o): Hub,
    c: Caller,
    Path((id, evidence_id)): Path<(i64, i64)>,
) -> HubResult<Response> {
    let file = blocking(move || o.incident_evidence_file(&c, id, evidence_id)).await?;
    crate::http::serve_file(file).await
}

/// The incident's history from the audit log (actions, comments, evidence, overdue notices,
/// refusals).
#[utoipa::path(get, path = "/incidents/{id}/timeline", tag = "incidents", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1)),
    responses(
        (status = 200, description = "OK", body = Vec<api::TimelineEntry>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn incident_timeline(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::TimelineEntry>>> {
    blocking(move || o.incident_timeline(&c, id))
        .await
        .map(Json)
}
