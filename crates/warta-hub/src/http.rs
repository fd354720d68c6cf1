//! The HTTP transport: axum routes under `/api/v1`, each a thin adapter over [`Office`].
//!
//! Architecture invariant: handlers hold no business rules; permission checks live in
//! `Office`, so every transport (HTTP, CLI) enforces the same ones.
//!
//! Every route is added with `.routes(routes!(handler))` on an `OpenApiRouter`, so its
//! `#[utoipa::path]` annotation (parameters, body, every status it answers with) is in the
//! OpenAPI document by construction (see [`crate::openapi`]). Requests that do not parse are
//! answered with an `ApiError` (400 `validation`) by the extractors in [`extract`], never with
//! axum's plain-text rejections.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde::Deserialize;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warta_api as api;

use crate::attachments::Variant;
use crate::error::{HubError, HubResult};
use crate::office::{Caller, Office};
use crate::openapi::{
    BadCredentials, BadRequest, Conflict, Forbidden, Locked, NotFound, RefusedType, TooLarge,
    TooManyAttempts, Unauthenticated,
};
use crate::serial::serial;
pub use extract::{Json, Path, Query};

type Hub = State<Arc<Office>>;

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        if let HubError::Internal(e) = &self {
            tracing::error!("internal error: {e:#}");
        }
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.to_api())).into_response()
    }
}

/// Extractors that answer a request that does not parse with an `ApiError` (400, `validation`,
/// naming what did not parse), as the OpenAPI document says, instead of axum's plain text.
pub mod extract {
    use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
    use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
    use axum::http::request::Parts;
    use axum::response::{IntoResponse, Response};
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    use crate::error::HubError;

    /// A JSON body (`Content-Type: application/json`, at most 2 MB), or a JSON response.
    pub struct Json<T>(pub T);

    /// Path parameters.
    pub struct Path<T>(pub T);

    /// Query-string parameters.
    pub struct Query<T>(pub T);

    fn json_refused(e: JsonRejection) -> HubError {
        let message = match &e {
            JsonRejection::MissingJsonContentType(_) => {
                "send the body as JSON with \"Content-Type: application/json\"".to_string()
            }
            JsonRejection::BytesRejection(_) if e.status().as_u16() == 413 => {
                "the request body is larger than 2 MB".to_string()
            }
            _ => format!("the body is not what this request takes: {}", e.body_text()),
        };
        HubError::validation("body", message)
    }

    impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
        type Rejection = HubError;

        async fn from_request(req: Request, state: &S) -> Result<Self, HubError> {
            match <axum::Json<T> as FromRequest<S>>::from_request(req, state).await {
                Ok(axum::Json(v)) => Ok(Json(v)),
                Err(e) => Err(json_refused(e)),
            }
        }
    }

    /// An optional body: none when the request has no `Content-Type`.
    impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for Json<T> {
        type Rejection = HubError;

        async fn from_request(req: Request, state: &S) -> Result<Option<Self>, HubError> {
            match <axum::Json<T> as OptionalFromRequest<S>>::from_request(req, state).await {
                Ok(v) => Ok(v.map(|axum::Json(v)| Json(v))),
                Err(e) => Err(json_refused(e)),
            }
        }
    }

    impl<T: Serialize> IntoResponse for Json<T> {
        fn into_response(self) -> Response {
            axum::Json(self.0).into_response()
        }
    }

    impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
        type Rejection = HubError;

        async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HubError> {
            match axum::extract::Path::<T>::from_request_parts(parts, state).await {
                Ok(axum::extract::Path(v)) => Ok(Path(v)),
                Err(e @ PathRejection::FailedToDeserializePathParams(_)) => {
                    Err(HubError::validation(
                        "path",
                        format!("the address is malformed: {}", e.body_text()),
                    ))
                }
                Err(e) => Err(HubError::Internal(anyhow::anyhow!(
                    "path parameters: {}",
                    e.body_text()
                ))),
            }
        }
    }

    impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
        type Rejection = HubError;

        async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HubError> {
            match axum::extract::Query::<T>::from_request_parts(parts, state).await {
                Ok(axum::extract::Query(v)) => Ok(Query(v)),
                Err(e @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                    Err(HubError::validation(
                        "query",
                        format!("the query string is malformed: {}", e.body_text()),
                    ))
                }
                Err(e) => Err(HubError::Internal(anyhow::anyhow!(
                    "query: {}",
                    e.body_text()
                ))),
            }
        }
    }
}

/// Runs blocking hub work (SQLite, argon2) off the async executor; answers only once the
/// group commit holding its writes is done.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> HubResult<T> + Send + 'static,
) -> HubResult<T> {
    // The thread does not wait for its group commit; this task does, before answering.
    let (result, pending) =
        tokio::task::spawn_blocking(move || crate::office::deferring_commit_waits(f))
            .await
            .map_err(|e| HubError::Internal(anyhow::anyhow!("worker failed: {e}")))?;
    if let Some(pending) = pending {
        pending.wait().await?;
    }
    result
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

impl FromRequestParts<Arc<Office>> for Caller {
    type Rejection = HubError;

    async fn from_request_parts(parts: &mut Parts, office: &Arc<Office>) -> HubResult<Caller> {
        let token = bearer(&parts.headers).ok_or(HubError::Unauthenticated)?;
        // A remembered live session needs no database and no blocking thread.
        if let Some(caller) = office.authenticate_cached(token) {
            return Ok(caller);
        }
        let token = token.to_string();
        let office = office.clone();
        blocking(move || office.authenticate(&token)).await
    }
}

/// Every route of the hub that the OpenAPI document describes, paths as served (under
/// `/api/v1`, plus `/healthz`). To add a route: write the handler with its
/// `#[utoipa::path(...)]` (see ARCHITECTURE.md, "Adding an API route") and add it here with
/// `.routes(routes!(handler))`; handlers of the same path and different methods go in one
/// `routes!`.
pub fn routes() -> OpenApiRouter<Arc<Office>> {
    let api = OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(setup_status, setup))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_users, add_user))
        .routes(routes!(update_user))
        .routes(routes!(my_sessions))
        .routes(routes!(revoke_my_session))
        .routes(routes!(user_sessions))
        .routes(routes!(revoke_user_sessions))
        .routes(routes!(list_units, add_unit))
        .routes(routes!(rename_unit))
        .routes(routes!(tasks))
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, save_item))
        .routes(routes!(act))
        .routes(routes!(claim))
        .routes(routes!(unpublish))
        .routes(routes!(correct))
        .routes(routes!(retry_publishing))
        .routes(routes!(set_attachment_text))
        .routes(routes!(publish_targets, add_publish_target))
        .routes(routes!(update_publish_target))
        .routes(routes!(site_backups, back_up_site))
        .routes(routes!(site_backup_detail))
        .routes(routes!(verify_site_backup))
        .routes(routes!(restore_site))
        .routes(routes!(restore_published))
        .routes(routes!(site_restores))
        .routes(routes!(site_restore))
        .routes(routes!(keep_lock, release_lock))
        .routes(routes!(crate::live::events))
        .routes(routes!(add_comment))
        .routes(routes!(upload))
        .routes(routes!(prepared_photo))
        .routes(routes!(attach_blob))
        .merge(crate::uploads::routes())
        .merge(crate::guard_http::routes())
        .merge(crate::reports::routes())
        .merge(crate::incidents_http::routes())
        .routes(routes!(download))
        .routes(routes!(download_signed))
        .routes(routes!(blob_exists, put_blob))
        .routes(routes!(media_settings, set_media_settings))
        .routes(routes!(revisions))
        .routes(routes!(revision))
        .routes(routes!(diff))
        .routes(routes!(timeline))
        .routes(routes!(preview))
        .routes(routes!(render))
        .routes(routes!(sops))
        .routes(routes!(check_sop))
        .routes(routes!(holidays, set_holidays))
        .routes(routes!(verify_audit))
        // Unknown paths under /api/v1 get an ApiError, not an empty 404.
        .fallback(|| async { HubError::NotFound("route") });
    OpenApiRouter::with_openapi(<crate::openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(healthz))
        .nest(api::API_PREFIX, api)
}

/// Builds the hub's router: the API, the health check, and the published site.
pub fn router(office: Arc<Office>) -> Router {
    let site = ServeDir::new(office.site_root()).append_index_html_on_directories(true);
    let (routes, _document) = routes().split_for_parts();
    // Clients authenticate with bearer tokens, never cookies, so any origin may call
    // (the desktop webview's origin differs per platform).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(Any);
    routes
        .nest_service("/site", site)
        .layer(cors)
        .with_state(office)
}

/// Answers when the hub runs.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()),
    responses((status = 200, description = "The hub is up", body = String, content_type = "text/plain", example = "ok")))]
async fn healthz() -> &'static str {
    "ok"
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object, content_type = "application/json")))]
async fn openapi_json() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        crate::openapi::json(),
    )
        .into_response()
}

// ---------- set-up and sessions ----------

/// Whether the first admin account still has to be created.
#[utoipa::path(get, path = "/setup", tag = "session", security(()),
    responses((status = 200, description = "OK", body = api::SetupStatus)))]
async fn setup_status(State(o): Hub) -> HubResult<Json<api::SetupStatus>> {
    blocking(move || o.setup_status()).await.map(Json)
}

/// First run: creates the first admin account and signs it in. Refused once one exists.
#[utoipa::path(post, path = "/setup", tag = "session", security(()),
    request_body = api::SetupRequest,
    responses(
        (status = 200, description = "OK", body = api::LoginResponse),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
    ))]
async fn setup(
    State(o): Hub,
    Json(req): Json<api::SetupRequest>,
) -> HubResult<Json<api::LoginResponse>> {
    blocking(move || o.setup(req)).await.map(Json)
}

/// Signs in; the token goes in the `Authorization: Bearer` header of later requests.
/// Throttled per account and per address.
#[utoipa::path(post, path = "/auth/login", tag = "session", security(()),
    request_body = api::LoginRequest,
    responses(
        (status = 200, description = "OK", body = api::LoginResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = BadCredentials),
        (status = 429, response = TooManyAttempts),
    ))]
async fn login(
    State(o): Hub,
    client: Option<axum::Extension<crate::server::ClientAddr>>,
    Json(req): Json<api::LoginRequest>,
) -> HubResult<Json<api::LoginResponse>> {
    // The TCP peer, or the client a trusted reverse proxy names (see `server::client_addr`).
    let address = client.map(|axum::Extension(c)| c.0);
    blocking(move || o.login_from(req, address)).await.map(Json)
}

/// Ends the session whose token is sent.
#[utoipa::path(post, path = "/auth/logout", tag = "session", security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, response = Unauthenticated),
    ))]
async fn logout(State(o): Hub, _c: Caller, headers: HeaderMap) -> HubResult<StatusCode> {
    // The Caller extractor has checked the session is live: an unknown, expired or revoked
    // token gets 401 like everywhere else.
    let token = bearer(&headers)
        .ok_or(HubError::Unauthenticated)?
        .to_string();
    blocking(move || o.logout(&token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "session", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = api::User),
        (status = 401, response = Unauthenticated),
    ))]
async fn me(c: Caller) -> Json<api::User> {
    Json(api::User {
        id: c.id,
        username: c.username,
        display_name: c.display_name,
        roles: c.roles,
        unit: c.unit,
        active: true,
    })
}

/// The caller's own live sessions (this laptop's is marked `current`).
#[utoipa::path(get, path = "/me/sessions", tag = "session", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::SessionInfo>),
        (status = 401, response = Unauthenticated),
    ))]
async fn my_sessions(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::SessionInfo>>> {
    blocking(move || o.my_sessions(&c)).await.map(Json)
}

/// Ends one of the caller's own sessions (for example a laptop left elsewhere).
#[utoipa::path(delete, path = "/me/sessions/{id}", tag = "session", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Session id", example = 3)),
    responses(
        (status = 204, description = "The session is ended"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn revoke_my_session(State(o): Hub, c: Caller, Path(id): Path<i64>) -> HubResult<StatusCode> {
    blocking(move || o.revoke_my_session(&c, id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's live sessions (admin).
#[utoipa::path(get, path = "/users/{id}/sessions", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", example = 2)),
    responses(
        (status = 200, description = "OK", body = Vec<api::SessionInfo>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn user_sessions(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::SessionInfo>>> {
    blocking(move || o.user_sessions(&c, id)).await.map(Json)
}

/// Ends every live session of a user (admin); they must sign in again.
#[utoipa::path(post, path = "/users/{id}/sessions/revoke", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", example = 2)),
    responses(
        (status = 200, description = "OK", body = api::RevokedSessions),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn revoke_user_sessions(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::RevokedSessions>> {
    blocking(move || o.revoke_user_sessions(&c, id))
        .await
        .map(Json)
}

// ---------- units ----------

/// The office's units, by name.
#[utoipa::path(get, path = "/units", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::Unit>),
        (status = 401, response = Unauthenticated),
    ))]
async fn list_units(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::Unit>>> {
    blocking(move || o.list_units(&c)).await.map(Json)
}

/// Adds a unit (admin). Names are unique ignoring case.
#[utoipa::path(post, path = "/units", tag = "users", security(("bearer" = [])),
    request_body = api::UnitInput,
    responses(
        (status = 201, description = "Created", body = api::Unit),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn add_unit(
    State(o): Hub,
    c: Caller,
    Json(u): Json<api::UnitInput>,
) -> HubResult<(StatusCode, Json<api::Unit>)> {
    blocking(move || o.add_unit(&c, u))
        .await
        .map(|u| (StatusCode::CREATED, Json(u)))
}

/// Renames a unit (admin); its users move with it.
#[utoipa::path(put, path = "/units/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Unit id", example = 1)),
    request_body = api::UnitInput,
    responses(
        (status = 200, description = "OK", body = api::Unit),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn rename_unit(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(u): Json<api::UnitInput>,
) -> HubResult<Json<api::Unit>> {
    blocking(move || o.rename_unit(&c, id, u)).await.map(Json)
}

// ---------- users ----------

/// Every user account (admin).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::User>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn list_users(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::User>>> {
    blocking(move || o.list_users(&c)).await.map(Json)
}

/// Adds a user account (admin).
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])),
    request_body = api::NewUser,
    responses(
        (status = 201, description = "Created", body = api::User),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn add_user(
    State(o): Hub,
    c: Caller,
    Json(u): Json<api::NewUser>,
) -> HubResult<(StatusCode, Json<api::User>)> {
    blocking(move || o.add_user(Some(&c), u))
        .await
        .map(|u| (StatusCode::CREATED, Json(u)))
}

/// Changes a user's name, roles, unit, whether the account is active, and optionally its
/// password (admin).
#[utoipa::path(put, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, description = "User id", example = 2)),
    request_body = api::UpdateUser,
    responses(
        (status = 200, description = "OK", body = api::User),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn update_user(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(u): Json<api::UpdateUser>,
) -> HubResult<Json<api::User>> {
    blocking(move || o.update_user(&c, id, u)).await.map(Json)
}

// ---------- items ----------

/// "My tasks": items waiting for the caller's roles, most urgent first.
#[utoipa::path(get, path = "/tasks", tag = "items", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::ItemSummary>),
        (status = 401, response = Unauthenticated),
    ))]
async fn tasks(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::ItemSummary>>> {
    serial(&o, move |o| o.tasks(&c)).await.map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// `all` (the default), `published` or `mine`.
    #[serde(default)]
    #[param(required = false)]
    filter: String,
    /// Full-text search over title, summary, body and tags: every word must appear; a word
    /// ending in `*` matches as a prefix. Newest first. Blank means no search.
    q: Option<String>,
    /// Items per page, 1 to 500 (default 200).
    limit: Option<i64>,
    /// Items to skip (default 0).
    offset: Option<i64>,
}

/// Items the caller may see.
#[utoipa::path(get, path = "/items", tag = "items", security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Vec<api::ItemSummary>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ))]
async fn list_items(
    State(o): Hub,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> HubResult<Json<Vec<api::ItemSummary>>> {
    serial(&o, move |o| {
        let page = crate::office::Page::new(q.limit, q.offset)?;
        o.list_items(
            &c,
            &q.filter,
            q.q.as_deref().filter(|s| !s.trim().is_empty()),
            page,
        )
    })
    .await
    .map(Json)
}

/// Creates an item in its SOP's first step (reporters). With an `Idempotency-Key` the create
/// happens once: repeating it with the same key (the first answer was lost) returns the item
/// made then, with 200 instead of 201.
#[utoipa::path(post, path = "/items", tag = "items", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header,
        description = "The client's key for this create (1-128 visible ASCII characters, e.g. a UUID); per author")),
    request_body = api::ItemContent,
    responses(
        (status = 201, description = "Created", body = api::ItemDetail),
        (status = 200, description = "Made before with this Idempotency-Key; the item as it is now", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn create_item(
    State(o): Hub,
    c: Caller,
    headers: HeaderMap,
    Json(content): Json<api::ItemContent>,
) -> HubResult<(StatusCode, Json<api::ItemDetail>)> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    HubError::validation(
                        "Idempotency-Key",
                        "the Idempotency-Key header must be visible ASCII characters",
                    )
                })?
                .to_owned(),
        ),
    };
    serial(&o, move |o| o.create_item_once(&c, content, key.as_deref()))
        .await
        .map(|(d, created)| {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(d))
        })
}

/// An item with its attachments, comments, step times and what the caller may do now.
#[utoipa::path(get, path = "/items/{id}", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn get_item(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::ItemDetail>> {
    serial(&o, move |o| o.get_item(&c, id)).await.map(Json)
}

/// Saves new content, based on the version it was read at; a stale save is refused (409) and
/// nothing is overwritten.
#[utoipa::path(put, path = "/items/{id}", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body = api::SaveItem,
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 423, response = Locked),
    ))]
async fn save_item(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(s): Json<api::SaveItem>,
) -> HubResult<Json<api::ItemDetail>> {
    serial(&o, move |o| o.save_item(&c, id, s)).await.map(Json)
}

/// Takes a workflow action (`submit`, `approve`, `reject`, ...: the item's `actions` lists the
/// possible ones).
#[utoipa::path(post, path = "/items/{id}/actions/{action}", tag = "items", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Item id", example = 1),
        ("action" = String, Path, description = "Action id from the SOP definition"),
    ),
    request_body(content = Option<api::ActionRequest>, description = "A note, or a publishing time; may be left out"),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 423, response = Locked),
    ))]
async fn act(
    State(o): Hub,
    c: Caller,
    Path((id, action)): Path<(i64, String)>,
    body: Option<Json<Option<api::ActionRequest>>>,
) -> HubResult<Json<api::ItemDetail>> {
    let req = body.and_then(|Json(b)| b).unwrap_or_default();
    if action == "publish" {
        // Publishing may render and write the office's own site at once: not on the request
        // thread.
        return blocking(move || o.act(&c, id, &action, req))
            .await
            .map(Json);
    }
    serial(&o, move |o| o.act(&c, id, &action, req))
        .await
        .map(Json)
}

/// Takes a published item off the websites (publishers).
#[utoipa::path(post, path = "/items/{id}/unpublish", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body(content = Option<api::ActionRequest>, description = "The reason; may be left out"),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 423, response = Locked),
    ))]
async fn unpublish(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    body: Option<Json<Option<api::ActionRequest>>>,
) -> HubResult<Json<api::ItemDetail>> {
    let req = body.and_then(|Json(b)| b).unwrap_or_default();
    blocking(move || o.unpublish(&c, id, req)).await.map(Json)
}

/// Reopens a published item for a correction (editors).
#[utoipa::path(post, path = "/items/{id}/correct", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body(content = Option<api::ActionRequest>, description = "The reason; may be left out"),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 423, response = Locked),
    ))]
async fn correct(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    body: Option<Json<Option<api::ActionRequest>>>,
) -> HubResult<Json<api::ItemDetail>> {
    let req = body.and_then(|Json(b)| b).unwrap_or_default();
    blocking(move || o.correct(&c, id, req)).await.map(Json)
}

/// Retries the item's pending publications at once (publishers).
#[utoipa::path(post, path = "/items/{id}/publishing/retry", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
    ))]
async fn retry_publishing(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::ItemDetail>> {
    blocking(move || o.retry_publishing(&c, id)).await.map(Json)
}

/// Claims the item's edit lock (editors).
#[utoipa::path(post, path = "/items/{id}/claim", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 423, response = Locked),
    ))]
async fn claim(State(o): Hub, c: Caller, Path(id): Path<i64>) -> HubResult<Json<api::ItemDetail>> {
    serial(&o, move |o| o.claim(&c, id)).await.map(Json)
}

/// The lock holder keeps the edit lock: it lapses after a time without activity otherwise.
#[utoipa::path(put, path = "/items/{id}/lock", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "The lock, lasting from now", body = api::LockInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 423, response = Locked),
    ))]
async fn keep_lock(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::LockInfo>> {
    serial(&o, move |o| o.keep_lock(&c, id)).await.map(Json)
}

/// Releases the caller's edit lock on the item.
#[utoipa::path(delete, path = "/items/{id}/lock", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::ItemDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 423, response = Locked),
    ))]
async fn release_lock(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::ItemDetail>> {
    serial(&o, move |o| o.release_lock(&c, id)).await.map(Json)
}

/// Adds a comment to the item.
#[utoipa::path(post, path = "/items/{id}/comments", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body = api::NewComment,
    responses(
        (status = 201, description = "Created", body = api::Comment),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn add_comment(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(n): Json<api::NewComment>,
) -> HubResult<(StatusCode, Json<api::Comment>)> {
    serial(&o, move |o| o.add_comment(&c, id, &n.body))
        .await
        .map(|c| (StatusCode::CREATED, Json(c)))
}

/// The item's saved versions, newest first.
#[utoipa::path(get, path = "/items/{id}/revisions", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = Vec<api::RevisionSummary>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn revisions(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::RevisionSummary>>> {
    serial(&o, move |o| o.revisions(&c, id)).await.map(Json)
}

/// One saved version of the item.
#[utoipa::path(get, path = "/items/{id}/revisions/{version}", tag = "items", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Item id", example = 1),
        ("version" = i64, Path, description = "Version number"),
    ),
    responses(
        (status = 200, description = "OK", body = api::Revision),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn revision(
    State(o): Hub,
    c: Caller,
    Path((id, version)): Path<(i64, i64)>,
) -> HubResult<Json<api::Revision>> {
    blocking(move || o.revision(&c, id, version))
        .await
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffQuery {
    /// The older version.
    from: i64,
    /// The newer version.
    to: i64,
}

/// Line diff of two versions of the item, field by field.
#[utoipa::path(get, path = "/items/{id}/diff", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1), DiffQuery),
    responses(
        (status = 200, description = "OK", body = api::RevisionDiff),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn diff(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<DiffQuery>,
) -> HubResult<Json<api::RevisionDiff>> {
    blocking(move || o.diff(&c, id, q.from, q.to))
        .await
        .map(Json)
}

/// What happened to the item, from the audit log.
#[utoipa::path(get, path = "/items/{id}/timeline", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = Vec<api::TimelineEntry>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn timeline(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::TimelineEntry>>> {
    blocking(move || o.timeline(&c, id)).await.map(Json)
}

/// The page exactly as it will appear on the site.
#[utoipa::path(get, path = "/items/{id}/preview", tag = "items", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::PagePreview),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn preview(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::PagePreview>> {
    blocking(move || o.preview(&c, id)).await.map(Json)
}

/// Markdown rendered to the sanitised HTML publishing uses (the editor's preview).
#[utoipa::path(post, path = "/render", tag = "items", security(("bearer" = [])),
    request_body = api::RenderRequest,
    responses(
        (status = 200, description = "OK", body = api::RenderResponse),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ))]
async fn render(
    _c: Caller,
    Json(r): Json<api::RenderRequest>,
) -> HubResult<Json<api::RenderResponse>> {
    if r.markdown.len() > 1_000_000 {
        return Err(HubError::validation(
            "markdown",
            "the text is longer than 1 MB",
        ));
    }
    blocking(move || {
        Ok(api::RenderResponse {
            html: warta_render::render_markdown(&r.markdown),
        })
    })
    .await
    .map(Json)
}

// ---------- attachments ----------

/// Alternative text and caption of an attachment (photos).
#[utoipa::path(put, path = "/items/{id}/attachments/{attachment}/text", tag = "attachments", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "Item id", example = 1),
        ("attachment" = i64, Path, description = "Attachment id"),
    ),
    request_body = api::AttachmentText,
    responses(
        (status = 200, description = "OK", body = api::Attachment),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 423, response = Locked),
    ))]
async fn set_attachment_text(
    State(o): Hub,
    c: Caller,
    Path((id, attachment)): Path<(i64, i64)>,
    Json(t): Json<api::AttachmentText>,
) -> HubResult<Json<api::Attachment>> {
    blocking(move || o.set_attachment_text(&c, id, attachment, t))
        .await
        .map(Json)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UploadQuery {
    /// The file's name; its type is decided by its bytes, never by this name.
    filename: String,
}

/// Attaches a file: the body is the file itself, streamed (never whole in memory). Photos get
/// renditions, documents and videos previews.
#[utoipa::path(post, path = "/items/{id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1), UploadQuery),
    request_body(content = inline(crate::openapi::Binary), content_type = "application/octet-stream", description = "The file"),
    responses(
        (status = 201, description = "Created", body = api::Attachment),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = TooLarge),
        (status = 415, response = RefusedType),
        (status = 423, response = Locked),
    ))]
async fn upload(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> HubResult<(StatusCode, Json<api::Attachment>)> {
    let filename = warta_media::validate_filename(&q.filename).map_err(crate::media_error)?;
    let limit = {
        let (o, c) = (o.clone(), c.clone());
        blocking(move || {
            o.check_can_attach(&c, id)?;
            Ok(o.media_settings()?.max_attachment_bytes)
        })
        .await?
    };
    if declared_length(&headers).is_some_and(|n| n > limit) {
        return Err(HubError::TooLarge { limit });
    }
    let reader =
        tokio_util::io::StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let blob = o
        .blobs()
        .put_stream(reader, limit)
        .await
        .map_err(crate::media_error)?;
    blocking(move || o.record_attachment(&c, id, &filename, &blob))
        .await
        .map(|a| (StatusCode::CREATED, Json(a)))
}

/// Attaches a photo whose renditions the client made; every blob it names was uploaded first
/// with `PUT /blobs/{sha256}`, and each rendition is checked before it is accepted.
#[utoipa::path(post, path = "/items/{id}/attachments/prepared", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id", example = 1)),
    request_body = api::PreparedPhoto,
    responses(
        (status = 201, description = "Created", body = api::Attachment),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = RefusedType),
        (status = 423, response = Locked),
    ))]
async fn prepared_photo(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(p): Json<api::PreparedPhoto>,
) -> HubResult<(StatusCode, Json<api::Attachment>)> {
    blocking(move || o.record_prepared_photo(&c, id, p))
        .await
        .map(|a| (StatusCode::CREATED, Json(a)))
}

/// A file the caller finished with a resumable upload (`/uploads`), attached like an original
/// sent whole: its type told from its bytes, renditions or previews made by the hub.
#[utoipa::path(post, path = "/items/{id}/attachments/blob", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Item id")),
    request_body = api::AttachBlob,
    responses(
        (status = 201, description = "Created", body = api::Attachment),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = TooLarge),
        (status = 415, response = RefusedType),
        (status = 423, response = Locked),
    ))]
async fn attach_blob(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(b): Json<api::AttachBlob>,
) -> HubResult<(StatusCode, Json<api::Attachment>)> {
    blocking(move || o.attach_uploaded_blob(&c, id, b))
        .await
        .map(|a| (StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct VariantQuery {
    /// `display` (the default: a photo's web rendition, otherwise the file), `thumb`,
    /// `original` (of photos: editors and above) or `web_copy` (a video's web-size MP4, once
    /// made).
    #[serde(default)]
    #[param(required = false)]
    variant: String,
}

/// An attachment's content, with its detected type.
#[utoipa::path(get, path = "/attachments/{id}/content", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id"), VariantQuery),
    responses(
        (status = 200, description = "The file", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn download(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<VariantQuery>,
) -> HubResult<Response> {
    let variant = Variant::parse(&q.variant)?;
    let file = blocking(move || o.attachment_file(&c, id, variant)).await?;
    serve_file(file).await
}

/// An attachment's content through a signed address (an attachment's `url`, `thumb_url`,
/// `original_url`, `web_copy_url`): no bearer token needed, valid while the issuing hub runs.
#[utoipa::path(get, path = "/attachments/{id}/signed/{variant}/{sig}", tag = "attachments", security(()),
    params(
        ("id" = i64, Path, description = "Attachment id"),
        ("variant" = String, Path, description = "`display`, `thumb`, `original` or `web_copy`"),
        ("sig" = String, Path, description = "Signature"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 404, response = NotFound),
    ))]
async fn download_signed(
    State(o): Hub,
    Path((id, variant, sig)): Path<(i64, String, String)>,
) -> HubResult<Response> {
    let variant = Variant::parse(&variant).map_err(|_| HubError::NotFound("attachment"))?;
    let file = blocking(move || o.signed_attachment_file(id, variant, &sig)).await?;
    serve_file(file).await
}

/// Whether the hub has a blob with this SHA-256 for the caller (so the client need not send
/// it): stored, and uploaded (or attached) by the caller before. Someone else's blob answers 404:
/// sending its bytes is the proof of holding the file that attaching it by digest needs.
#[utoipa::path(head, path = "/blobs/{sha}", tag = "attachments", security(("bearer" = [])),
    params(("sha" = String, Path, description = "SHA-256 of the content, lower-case hex")),
    responses(
        (status = 200, description = "The hub has it, and the caller has sent it before"),
        (status = 404, description = "The hub does not have it, or not from the caller"),
        (status = 400, description = "Malformed request"),
        (status = 401, description = "Sign in first"),
        (status = 403, description = "The caller may not upload"),
    ))]
async fn blob_exists(State(o): Hub, c: Caller, Path(sha): Path<String>) -> HubResult<StatusCode> {
    let exists = blocking(move || o.blob_exists(&c, &sha)).await?;
    Ok(if exists {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

/// Uploads a blob named by its SHA-256 (a rendition or original a client made), streamed to
/// disk and checked against its name.
#[utoipa::path(put, path = "/blobs/{sha}", tag = "attachments", security(("bearer" = [])),
    params(("sha" = String, Path, description = "SHA-256 of the content, lower-case hex")),
    request_body(content = inline(crate::openapi::Binary), content_type = "application/octet-stream", description = "The blob"),
    responses(
        (status = 200, description = "The hub already had it"),
        (status = 201, description = "Stored"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 413, response = TooLarge),
        (status = 415, response = RefusedType),
    ))]
async fn put_blob(
    State(o): Hub,
    c: Caller,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> HubResult<StatusCode> {
    if sha.len() != 64
        || !sha
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(HubError::validation(
            "sha256",
            "name blobs by their SHA-256 in lower-case hex",
        ));
    }
    let (limit, held) = {
        let (o, c, sha) = (o.clone(), c.clone(), sha.clone());
        blocking(move || {
            o.check_can_upload_blob(&c)?;
            Ok((
                o.media_settings()?.max_attachment_bytes,
                o.holds_blob(&c, &sha)?,
            ))
        })
        .await?
    };
    if declared_length(&headers).is_some_and(|n| n > limit) {
        return Err(HubError::TooLarge { limit });
    }
    // Stored and already shown to be held by this caller: nothing to read. Stored but someone
    // else's: the bytes are read and hashed all the same, as the caller's proof.
    let existed = o.blobs().exists(&sha);
    if existed && held {
        return Ok(StatusCode::OK);
    }
    if let Some(len) = declared_length(&headers).filter(|n| *n <= SMALL_BLOB_BYTES) {
        // A rendition: read whole, then written, synced and checked in one blocking turn.
        // Streamed, every file operation of it was a turn of its own.
        let bytes = axum::body::to_bytes(body, len as usize)
            .await
            .map_err(|_| {
                HubError::validation("body", "the body does not match its Content-Length")
            })?;
        blocking(move || {
            let stored = o
                .blobs()
                .put_bytes(&bytes, limit)
                .map_err(crate::media_error)?;
            o.accept_blob(&c, &sha, &stored)
        })
        .await?;
        return Ok(if existed {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        });
    }
    let reader =
        tokio_util::io::StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let stored = o
        .blobs()
        .put_stream(reader, limit)
        .await
        .map_err(crate::media_error)?;
    blocking(move || o.accept_blob(&c, &sha, &stored)).await?;
    Ok(if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    })
}

/// Blobs up to this size (as declared) are read whole before they are stored: renditions and
/// thumbnails, a few per photo. At most this much per concurrent upload is held in memory.
const SMALL_BLOB_BYTES: u64 = 256 * 1024;

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

pub(crate) async fn serve_file(
    (path, mime, name): (std::path::PathBuf, String, String),
) -> HubResult<Response> {
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| HubError::Internal(anyhow::anyhow!("opening blob: {e}")))?;
    let len = file.metadata().await.map(|m| m.len()).ok();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    let ascii: String = name
        .chars()
        .map(|ch| {
            if ch.is_ascii_graphic() && ch != '"' && ch != '\\' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

// ---------- publishing ----------

/// The websites the office publishes to (publishers and admins).
#[utoipa::path(get, path = "/targets", tag = "publishing", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::PublishTargetInfo>),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn publish_targets(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::PublishTargetInfo>>> {
    blocking(move || o.publish_targets(&c)).await.map(Json)
}

/// Adds a website; its secret goes to the OS keyring or the encrypted secrets file (admin).
#[utoipa::path(post, path = "/targets", tag = "publishing", security(("bearer" = [])),
    request_body = api::PublishTargetInput,
    responses(
        (status = 200, description = "OK", body = api::PublishTargetInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn add_publish_target(
    State(o): Hub,
    c: Caller,
    Json(t): Json<api::PublishTargetInput>,
) -> HubResult<Json<api::PublishTargetInfo>> {
    blocking(move || o.add_publish_target(&c, t))
        .await
        .map(Json)
}

/// Changes a website; leave `secret` out to keep the stored one (admin).
#[utoipa::path(put, path = "/targets/{id}", tag = "publishing", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Website id", example = 1)),
    request_body = api::PublishTargetInput,
    responses(
        (status = 200, description = "OK", body = api::PublishTargetInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn update_publish_target(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(t): Json<api::PublishTargetInput>,
) -> HubResult<Json<api::PublishTargetInfo>> {
    blocking(move || o.update_publish_target(&c, id, t))
        .await
        .map(Json)
}

// ---------- website backups, restores and their proof ----------

/// A website's content backups, newest first (publishers and admins).
#[utoipa::path(get, path = "/targets/{id}/site-backups", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Website id", example = 1)),
    responses(
        (status = 200, description = "OK", body = Vec<api::SiteBackupInfo>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn site_backups(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::SiteBackupInfo>>> {
    blocking(move || o.site_backups(&c, id)).await.map(Json)
}

/// Backs a website's content up now and reads the backup back; a failure is answered as a
/// backup in state `failed` with its reason (publishers and admins).
#[utoipa::path(post, path = "/targets/{id}/site-backups", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Website id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::SiteBackupInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn back_up_site(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::SiteBackupInfo>> {
    blocking(move || o.back_up_site(&c, id)).await.map(Json)
}

/// What a website backup holds: its posts, pages, files and terms.
#[utoipa::path(get, path = "/site-backups/{id}", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Backup id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::SiteBackupDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn site_backup_detail(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::SiteBackupDetail>> {
    blocking(move || o.site_backup_detail(&c, id))
        .await
        .map(Json)
}

/// Reads a website backup back (every blob's hash, the manifest); 400 says what is damaged.
#[utoipa::path(post, path = "/site-backups/{id}/verify", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Backup id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::SiteBackupInfo),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn verify_site_backup(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::SiteBackupInfo>> {
    blocking(move || o.verify_site_backup(&c, id))
        .await
        .map(Json)
}

/// Restores one post, page or file (`key`) or everything to a backup, and checks the restored
/// pages with the guard before and after (the restore report).
#[utoipa::path(post, path = "/site-backups/{id}/restore", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Backup id", example = 1)),
    request_body = api::SiteRestoreInput,
    responses(
        (status = 200, description = "OK", body = api::SiteRestoreReport),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn restore_site(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(input): Json<api::SiteRestoreInput>,
) -> HubResult<Json<api::SiteRestoreReport>> {
    blocking(move || o.restore_site(&c, id, input))
        .await
        .map(Json)
}

/// Restores an item's page on a website to the version Warta published, with the same proof.
#[utoipa::path(post, path = "/targets/{id}/restore-published", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Website id", example = 1)),
    request_body = api::SitePublishedRestoreInput,
    responses(
        (status = 200, description = "OK", body = api::SiteRestoreReport),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn restore_published(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(input): Json<api::SitePublishedRestoreInput>,
) -> HubResult<Json<api::SiteRestoreReport>> {
    blocking(move || o.restore_published(&c, id, input))
        .await
        .map(Json)
}

/// A website's restore reports, newest first.
#[utoipa::path(get, path = "/targets/{id}/site-restores", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Website id", example = 1)),
    responses(
        (status = 200, description = "OK", body = Vec<api::SiteRestoreReport>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn site_restores(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::SiteRestoreReport>>> {
    blocking(move || o.site_restores(&c, id)).await.map(Json)
}

/// One restore report: what was restored, by whom and why, and the checks before and after.
#[utoipa::path(get, path = "/site-restores/{id}", tag = "site backups", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Restore id", example = 1)),
    responses(
        (status = 200, description = "OK", body = api::SiteRestoreReport),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn site_restore(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::SiteRestoreReport>> {
    blocking(move || o.site_restore(&c, id)).await.map(Json)
}

// ---------- office settings, SOPs, audit ----------

/// The office's media settings.
#[utoipa::path(get, path = "/settings/media", tag = "office", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = api::MediaSettings),
        (status = 401, response = Unauthenticated),
    ))]
async fn media_settings(State(o): Hub, _c: Caller) -> HubResult<Json<api::MediaSettings>> {
    blocking(move || o.media_settings_view()).await.map(Json)
}

/// Changes the office's media settings (admin).
#[utoipa::path(put, path = "/settings/media", tag = "office", security(("bearer" = [])),
    request_body = api::MediaSettings,
    responses(
        (status = 200, description = "OK", body = api::MediaSettings),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn set_media_settings(
    State(o): Hub,
    c: Caller,
    Json(s): Json<api::MediaSettings>,
) -> HubResult<Json<api::MediaSettings>> {
    blocking(move || o.set_media_settings(&c, s))
        .await
        .map(Json)
}

/// The SOPs the office runs.
#[utoipa::path(get, path = "/sops", tag = "office", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::SopSummary>),
        (status = 401, response = Unauthenticated),
    ))]
async fn sops(State(o): Hub, _c: Caller) -> Json<Vec<api::SopSummary>> {
    Json(o.sops())
}

/// Validates a SOP definition before it is adopted (admin).
#[utoipa::path(post, path = "/sops/check", tag = "office", security(("bearer" = [])),
    request_body = api::SopCheckRequest,
    responses(
        (status = 200, description = "OK", body = api::SopCheckResult),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn check_sop(
    State(o): Hub,
    c: Caller,
    Json(r): Json<api::SopCheckRequest>,
) -> HubResult<Json<api::SopCheckResult>> {
    blocking(move || o.check_sop(&c, r)).await.map(Json)
}

/// The office's holidays (days the SLA calendar skips).
#[utoipa::path(get, path = "/holidays", tag = "office", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<api::Holiday>),
        (status = 401, response = Unauthenticated),
    ))]
async fn holidays(State(o): Hub, _c: Caller) -> HubResult<Json<Vec<api::Holiday>>> {
    blocking(move || o.holiday_list()).await.map(Json)
}

/// Replaces the office's holiday list (admin).
#[utoipa::path(put, path = "/holidays", tag = "office", security(("bearer" = [])),
    request_body = Vec<api::Holiday>,
    responses(
        (status = 200, description = "OK", body = Vec<api::Holiday>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn set_holidays(
    State(o): Hub,
    c: Caller,
    Json(list): Json<Vec<api::Holiday>>,
) -> HubResult<Json<Vec<api::Holiday>>> {
    blocking(move || o.set_holidays(&c, list)).await.map(Json)
}

/// Verifies the audit log's hash chain (admin).
#[utoipa::path(get, path = "/audit/verify", tag = "office", security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = api::AuditReport),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn verify_audit(State(o): Hub, c: Caller) -> HubResult<Json<api::AuditReport>> {
    blocking(move || o.verify_audit(Some(&c))).await.map(Json)
}
