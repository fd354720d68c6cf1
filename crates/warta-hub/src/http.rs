//! The HTTP transport: axum routes under `/api/v1`, each a thin adapter over [`Office`].
//!
//! Architecture invariant: handlers hold no business rules; permission checks live in
//! `Office`, so every transport (HTTP, CLI) enforces the same ones.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures_util::TryStreamExt;
use serde::Deserialize;
use tower_http::cors::{Any, CorsLayer};
use tower_http::services::ServeDir;
use warta_api as api;

use crate::attachments::Variant;
use crate::error::{HubError, HubResult};
use crate::office::{Caller, Office};

type Hub = State<Arc<Office>>;

impl IntoResponse for HubError {
    fn into_response(self) -> Response {
        if let HubError::Internal(e) = &self {
            tracing::error!("internal error: {e:#}");
        }
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.to_api())).into_response()
    }
}

/// Runs blocking hub work (SQLite, argon2) off the async executor.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> HubResult<T> + Send + 'static,
) -> HubResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HubError::Internal(anyhow::anyhow!("worker failed: {e}")))?
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
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
        let token = bearer(&parts.headers)
            .ok_or(HubError::Unauthenticated)?
            .to_string();
        let office = office.clone();
        blocking(move || office.authenticate(&token)).await
    }
}

/// Builds the hub's router: the API, the health check, and the published site.
pub fn router(office: Arc<Office>) -> Router {
    let site = ServeDir::new(office.site_root()).append_index_html_on_directories(true);
    let api = Router::new()
        .route("/setup", get(setup_status).post(setup))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .route("/users", get(list_users).post(add_user))
        .route("/users/{id}", put(update_user))
        .route("/tasks", get(tasks))
        .route("/items", get(list_items).post(create_item))
        .route("/items/{id}", get(get_item).put(save_item))
        .route("/items/{id}/actions/{action}", post(act))
        .route("/items/{id}/claim", post(claim))
        .route("/items/{id}/unpublish", post(unpublish))
        .route("/items/{id}/correct", post(correct))
        .route("/items/{id}/publishing/retry", post(retry_publishing))
        .route(
            "/items/{id}/attachments/{attachment}/text",
            put(set_attachment_text),
        )
        .route("/targets", get(publish_targets).post(add_publish_target))
        .route("/targets/{id}", put(update_publish_target))
        .route("/items/{id}/lock", axum::routing::delete(release_lock))
        .route("/items/{id}/comments", post(add_comment))
        .route("/items/{id}/attachments", post(upload))
        .route("/items/{id}/attachments/prepared", post(prepared_photo))
        .route("/attachments/{id}/content", get(download))
        .route(
            "/attachments/{id}/signed/{variant}/{sig}",
            get(download_signed),
        )
        .route(
            "/blobs/{sha}",
            axum::routing::head(blob_exists).put(put_blob),
        )
        .route(
            "/settings/media",
            get(media_settings).put(set_media_settings),
        )
        .route("/items/{id}/revisions", get(revisions))
        .route("/items/{id}/revisions/{version}", get(revision))
        .route("/items/{id}/diff", get(diff))
        .route("/items/{id}/timeline", get(timeline))
        .route("/items/{id}/preview", get(preview))
        .route("/render", post(render))
        .route("/sops", get(sops))
        .route("/sops/check", post(check_sop))
        .route("/holidays", get(holidays).put(set_holidays))
        .route("/audit/verify", get(verify_audit))
        .fallback(|| async { HubError::NotFound("route") });
    // Clients authenticate with bearer tokens, never cookies, so any origin may call
    // (the desktop webview's origin differs per platform).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers(Any);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .nest(api::API_PREFIX, api)
        .nest_service("/site", site)
        .layer(cors)
        .with_state(office)
}

async fn setup_status(State(o): Hub) -> HubResult<Json<api::SetupStatus>> {
    blocking(move || o.setup_status()).await.map(Json)
}

async fn setup(
    State(o): Hub,
    Json(req): Json<api::SetupRequest>,
) -> HubResult<Json<api::LoginResponse>> {
    blocking(move || o.setup(req)).await.map(Json)
}

async fn login(
    State(o): Hub,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Json(req): Json<api::LoginRequest>,
) -> HubResult<Json<api::LoginResponse>> {
    let address = peer.map(|axum::Extension(c)| c.0.ip());
    blocking(move || o.login_from(req, address)).await.map(Json)
}

async fn logout(State(o): Hub, headers: HeaderMap) -> HubResult<StatusCode> {
    let token = bearer(&headers)
        .ok_or(HubError::Unauthenticated)?
        .to_string();
    blocking(move || o.logout(&token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

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

async fn list_users(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::User>>> {
    blocking(move || o.list_users(&c)).await.map(Json)
}

async fn add_user(
    State(o): Hub,
    c: Caller,
    Json(u): Json<api::NewUser>,
) -> HubResult<(StatusCode, Json<api::User>)> {
    blocking(move || o.add_user(Some(&c), u))
        .await
        .map(|u| (StatusCode::CREATED, Json(u)))
}

async fn update_user(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(u): Json<api::UpdateUser>,
) -> HubResult<Json<api::User>> {
    blocking(move || o.update_user(&c, id, u)).await.map(Json)
}

async fn tasks(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::ItemSummary>>> {
    blocking(move || o.tasks(&c)).await.map(Json)
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    filter: String,
}

async fn list_items(
    State(o): Hub,
    c: Caller,
    Query(q): Query<ListQuery>,
) -> HubResult<Json<Vec<api::ItemSummary>>> {
    blocking(move || o.list_items(&c, &q.filter))
        .await
        .map(Json)
}

async fn create_item(
    State(o): Hub,
    c: Caller,
    Json(content): Json<api::ItemContent>,
) -> HubResult<(StatusCode, Json<api::ItemDetail>)> {
    blocking(move || o.create_item(&c, content))
        .await
        .map(|d| (StatusCode::CREATED, Json(d)))
}

async fn get_item(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::ItemDetail>> {
    blocking(move || o.get_item(&c, id)).await.map(Json)
}

async fn save_item(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(s): Json<api::SaveItem>,
) -> HubResult<Json<api::ItemDetail>> {
    blocking(move || o.save_item(&c, id, s)).await.map(Json)
}

async fn act(
    State(o): Hub,
    c: Caller,
    Path((id, action)): Path<(i64, String)>,
    body: Option<Json<api::ActionRequest>>,
) -> HubResult<Json<api::ItemDetail>> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    blocking(move || o.act(&c, id, &action, req))
        .await
        .map(Json)
}

async fn unpublish(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    body: Option<Json<api::ActionRequest>>,
) -> HubResult<Json<api::ItemDetail>> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    blocking(move || o.unpublish(&c, id, req)).await.map(Json)
}

async fn correct(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    body: Option<Json<api::ActionRequest>>,
) -> HubResult<Json<api::ItemDetail>> {
    let req = body.map(|Json(b)| b).unwrap_or_default();
    blocking(move || o.correct(&c, id, req)).await.map(Json)
}

async fn retry_publishing(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::ItemDetail>> {
    blocking(move || o.retry_publishing(&c, id)).await.map(Json)
}

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

async fn publish_targets(State(o): Hub, c: Caller) -> HubResult<Json<Vec<api::PublishTargetInfo>>> {
    blocking(move || o.publish_targets(&c)).await.map(Json)
}

async fn add_publish_target(
    State(o): Hub,
    c: Caller,
    Json(t): Json<api::PublishTargetInput>,
) -> HubResult<Json<api::PublishTargetInfo>> {
    blocking(move || o.add_publish_target(&c, t))
        .await
        .map(Json)
}

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

async fn claim(State(o): Hub, c: Caller, Path(id): Path<i64>) -> HubResult<Json<api::ItemDetail>> {
    blocking(move || o.claim(&c, id)).await.map(Json)
}

async fn release_lock(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::ItemDetail>> {
    blocking(move || o.release_lock(&c, id)).await.map(Json)
}

async fn add_comment(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Json(n): Json<api::NewComment>,
) -> HubResult<(StatusCode, Json<api::Comment>)> {
    blocking(move || o.add_comment(&c, id, &n.body))
        .await
        .map(|c| (StatusCode::CREATED, Json(c)))
}

#[derive(Deserialize)]
struct UploadQuery {
    filename: String,
}

/// Streams the body into the blob store (never whole in memory), then records it.
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

#[derive(Deserialize)]
struct VariantQuery {
    #[serde(default)]
    variant: String,
}

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

async fn download_signed(
    State(o): Hub,
    Path((id, variant, sig)): Path<(i64, String, String)>,
) -> HubResult<Response> {
    let variant = Variant::parse(&variant).map_err(|_| HubError::NotFound("attachment"))?;
    let file = blocking(move || o.signed_attachment_file(id, variant, &sig)).await?;
    serve_file(file).await
}

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

async fn blob_exists(State(o): Hub, c: Caller, Path(sha): Path<String>) -> HubResult<StatusCode> {
    let exists = blocking(move || o.blob_exists(&c, &sha)).await?;
    Ok(if exists {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    })
}

/// A blob named by its SHA-256, streamed to disk and checked against its name.
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
    let limit = {
        let o = o.clone();
        blocking(move || {
            o.check_can_upload_blob(&c)?;
            Ok(o.media_settings()?.max_attachment_bytes)
        })
        .await?
    };
    if declared_length(&headers).is_some_and(|n| n > limit) {
        return Err(HubError::TooLarge { limit });
    }
    if o.blobs().exists(&sha) {
        return Ok(StatusCode::OK);
    }
    let reader =
        tokio_util::io::StreamReader::new(body.into_data_stream().map_err(std::io::Error::other));
    let stored = o
        .blobs()
        .put_stream(reader, limit)
        .await
        .map_err(crate::media_error)?;
    blocking(move || o.accept_blob(&sha, &stored)).await?;
    Ok(StatusCode::CREATED)
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

async fn media_settings(State(o): Hub, _c: Caller) -> HubResult<Json<api::MediaSettings>> {
    blocking(move || o.media_settings()).await.map(Json)
}

async fn set_media_settings(
    State(o): Hub,
    c: Caller,
    Json(s): Json<api::MediaSettings>,
) -> HubResult<Json<api::MediaSettings>> {
    blocking(move || o.set_media_settings(&c, s))
        .await
        .map(Json)
}

async fn serve_file(
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

async fn revisions(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::RevisionSummary>>> {
    blocking(move || o.revisions(&c, id)).await.map(Json)
}

async fn revision(
    State(o): Hub,
    c: Caller,
    Path((id, version)): Path<(i64, i64)>,
) -> HubResult<Json<api::Revision>> {
    blocking(move || o.revision(&c, id, version))
        .await
        .map(Json)
}

#[derive(Deserialize)]
struct DiffQuery {
    from: i64,
    to: i64,
}

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

async fn timeline(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<Vec<api::TimelineEntry>>> {
    blocking(move || o.timeline(&c, id)).await.map(Json)
}

async fn preview(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
) -> HubResult<Json<api::PagePreview>> {
    blocking(move || o.preview(&c, id)).await.map(Json)
}

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

async fn sops(State(o): Hub, _c: Caller) -> Json<Vec<api::SopSummary>> {
    Json(o.sops())
}

async fn holidays(State(o): Hub, _c: Caller) -> HubResult<Json<Vec<api::Holiday>>> {
    blocking(move || o.holiday_list()).await.map(Json)
}

async fn set_holidays(
    State(o): Hub,
    c: Caller,
    Json(list): Json<Vec<api::Holiday>>,
) -> HubResult<Json<Vec<api::Holiday>>> {
    blocking(move || o.set_holidays(&c, list)).await.map(Json)
}

async fn verify_audit(State(o): Hub, c: Caller) -> HubResult<Json<api::AuditReport>> {
    blocking(move || o.verify_audit(Some(&c))).await.map(Json)
}

async fn check_sop(
    State(o): Hub,
    c: Caller,
    Json(r): Json<api::SopCheckRequest>,
) -> HubResult<Json<api::SopCheckResult>> {
    blocking(move || o.check_sop(&c, r)).await.map(Json)
}
