//! The OpenAPI 3.1 document of the hub's HTTP API, generated from the code.
//!
//! Every route is registered through `utoipa_axum`'s `OpenApiRouter::routes(routes!(handler))`
//! in [`crate::http`], which adds the handler to the axum router and its `#[utoipa::path]`
//! description to the document in one step: a route cannot exist without being documented.
//! The hub serves the document at `GET /api/v1/openapi.json`; `docs/openapi.json` is a copy
//! kept in step by a drift test (`tests/openapi.rs`).

use std::sync::OnceLock;

use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToResponse};
use warta_api::{ApiError, ErrorCode};

/// Name of the bearer-token security scheme in the document.
pub const BEARER: &str = "bearer";

/// The parts of the document that no single route contributes: title, the security scheme,
/// and the shared error responses routes refer to.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Warta hub API",
        description = "The HTTP API of a Warta hub: the desktop app, the `warta` CLI and any other \
client use it. Sign in with `POST /api/v1/auth/login` and send the token as \
`Authorization: Bearer <token>`. Every error is an `ApiError` whose `code` says what went wrong; \
`message` explains it in plain English.",
    ),
    modifiers(&BearerScheme),
    components(
        schemas(ApiError, ErrorCode, warta_api::ChangeEvent, warta_api::ChangeKind),
        responses(
            BadRequest,
            Unauthenticated,
            BadCredentials,
            Forbidden,
            NotFound,
            Conflict,
            TooLarge,
            RefusedType,
            Locked,
            TooManyAttempts
        )
    ),
    tags(
        (name = "session", description = "First-run set-up, signing in and out"),
        (name = "users", description = "User accounts (admin)"),
        (name = "items", description = "Items, their workflow, revisions and comments"),
        (name = "attachments", description = "Photos, documents and videos attached to items"),
        (name = "uploads", description = "Resumable uploads of large files (tus 1.0)"),
        (name = "publishing", description = "Websites the office publishes to"),
        (name = "site backups", description = "Backups of the websites' content, restores and their proof"),
        (name = "guard", description = "The website guard: watched pages, checks, incidents"),
        (name = "reports", description = "Reports (DOCX, PDF, CSV) and the dashboard's per-step figures"),
        (name = "incidents", description = "Security incidents (SOP-D, SOP-B): who holds the SOPs' roles, incidents, their steps, evidence and timeline"),
        (name = "office", description = "SOPs, holidays, media settings, audit log"),
        (name = "meta", description = "Health check and this document"),
    )
)]
pub(crate) struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The request is malformed: a field is missing or invalid (`field` names it), a path or query
/// parameter does not parse, or the body is not the JSON this route takes (`validation`).
#[derive(ToResponse)]
pub struct BadRequest(pub ApiError);

/// No session token, or it expired or was revoked (`unauthenticated`).
#[derive(ToResponse)]
pub struct Unauthenticated(pub ApiError);

/// Wrong user name or password (`bad_credentials`).
#[derive(ToResponse)]
pub struct BadCredentials(pub ApiError);

/// The caller's roles do not allow this (`forbidden`).
#[derive(ToResponse)]
pub struct Forbidden(pub ApiError);

/// No such thing, or the caller may not see it (`not_found`).
#[derive(ToResponse)]
pub struct NotFound(pub ApiError);

/// The request conflicts with the current state: an action not possible in the item's step
/// (`invalid_transition`, with `allowed_actions`), a save based on an older version
/// (`version_conflict`, with `current_version`), set-up already done (`already_set_up`), a
/// blob that was never uploaded (`missing_blob`), or the caller's edit lock lapsed
/// (`lock_expired`, with `holder` if someone else has the item now). Nothing was changed.
#[derive(ToResponse)]
pub struct Conflict(pub ApiError);

/// The upload is larger than the office's limit (`too_large`).
#[derive(ToResponse)]
pub struct TooLarge(pub ApiError);

/// The file's type, detected from its bytes, is not accepted, or its content is unusable
/// (`refused_type`).
#[derive(ToResponse)]
pub struct RefusedType(pub ApiError);

/// Another user holds the item's edit lock (`locked`, with `holder`).
#[derive(ToResponse)]
pub struct Locked(pub ApiError);

/// Too many failed sign-ins for this account or from this address (`too_many_attempts`,
/// with `retry_after_secs`).
#[derive(ToResponse)]
pub struct TooManyAttempts(pub ApiError);

/// The whole document, built once from the router's routes.
pub fn document() -> &'static Document {
    static DOC: OnceLock<Document> = OnceLock::new();
    DOC.get_or_init(|| crate::http::routes().split_for_parts().1)
}

/// The document as pretty-printed JSON, exactly as `docs/openapi.json` holds it.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut s = document()
            .to_pretty_json()
            .expect("the OpenAPI document serialises");
        s.push('\n');
        s
    })
}

/// Raw bytes: a file's content (request bodies of uploads, downloaded files).
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for Binary {}
