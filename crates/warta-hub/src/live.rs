//! `GET /api/v1/events`: the change feed ([`crate::events`]) as server-sent events.
//!
//! Each event is `id: <seq>` and `data: <ChangeEvent as JSON>`; idle streams get a keep-alive
//! comment. A client reconnecting with `Last-Event-ID` is replayed what it missed (or told to
//! resync). The stream ends when the caller's session ends or the server shuts down.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};

use crate::error::{HubError, HubResult};
use crate::events::open_stream;
use crate::office::{Caller, Office};
use crate::openapi::{BadRequest, Unauthenticated};

/// `Last-Event-ID`: absent or empty for a first connection, else a seq this hub sent.
fn last_event_id(headers: &HeaderMap) -> HubResult<Option<i64>> {
    let Some(v) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("?").trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| {
        HubError::validation(
            "Last-Event-ID",
            "Last-Event-ID must be the id of an event this stream sent (a number)",
        )
    })
}

/// The office's changes as server-sent events, live (see docs/API.md, "Live updates").
#[utoipa::path(get, path = "/events", tag = "items", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received, when reconnecting: what happened since \
            is replayed first, or a `resync` event is sent")),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "An endless stream: each event is `id: <seq>` and `data: <ChangeEvent \
                as JSON>` (schema `ChangeEvent`); `:` keep-alive comments; it ends when the \
                session ends or the hub shuts down"),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
    ))]
pub(crate) async fn events(
    State(office): State<Arc<Office>>,
    caller: Caller,
    headers: HeaderMap,
) -> HubResult<impl IntoResponse> {
    let token = crate::http::bearer(&headers)
        .ok_or(HubError::Unauthenticated)?
        .to_string();
    let after = last_event_id(&headers)?;
    let keep_alive = office.events().timing().keep_alive;
    let state = open_stream(office, token, caller, after).await?;
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        let change = state.next().await?;
        let data = serde_json::to_string(&change).expect("a ChangeEvent serialises");
        let event = Event::default().id(change.seq.to_string()).data(data);
        Some((Ok::<_, Infallible>(event), state))
    });
    Ok((
        // Reverse proxies (nginx) must pass events on at once.
        [(
            HeaderName::from_static("x-accel-buffering"),
            HeaderValue::from_static("no"),
        )],
        Sse::new(stream).keep_alive(KeepAlive::new().interval(keep_alive)),
    ))
}
