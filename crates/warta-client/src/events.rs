//! Live updates: `GET /events`, the hub's change feed as server-sent events.
//!
//! [`SseParser`] follows the event-stream format of the HTML standard (lines ended by LF, CRLF
//! or CR, comments, `data` joined by newlines, `id` remembered for reconnecting); bytes may
//! arrive split anywhere. [`EventStream`] yields [`ChangeEvent`]s and knows the id to resume
//! from; reconnecting (with backoff) is the caller's choice.

use std::collections::VecDeque;

use reqwest::{Method, Response};
use warta_api::ChangeEvent;

use crate::{ClientError, ClientResult, HubClient, send};

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage {
    /// The `event:` field; `message` when absent.
    pub event: String,
    pub data: String,
    /// The stream's last event id when this event was dispatched.
    pub id: Option<String>,
}

/// Incremental parser of a `text/event-stream` body.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    /// The previous byte was CR: a following LF belongs to the same line end.
    after_cr: bool,
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The id a reconnect sends as `Last-Event-ID` (also set by events without data).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Feeds bytes; returns the events they completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                b'\n' => self.end_line(&mut out),
                _ => self.line.push(b),
            }
        }
        out
    }

    fn end_line(&mut self, out: &mut Vec<SseMessage>) {
        let mut raw = std::mem::take(&mut self.line);
        if !self.started {
            self.started = true;
            if raw.starts_with("\u{feff}".as_bytes()) {
                raw.drain(..3);
            }
        }
        let line = String::from_utf8_lossy(&raw);
        if line.is_empty() {
            if self.has_data {
                let mut data = std::mem::take(&mut self.data);
                if data.ends_with('\n') {
                    data.pop();
                }
                let event = std::mem::take(&mut self.event);
                out.push(SseMessage {
                    event: if event.is_empty() {
                        "message".into()
                    } else {
                        event
                    },
                    data,
                    id: self.last_id.clone(),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (&*line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            _ => {}
        }
    }
}

/// An open `GET /events` stream.
#[derive(Debug)]
pub struct EventStream {
    response: Response,
    parser: SseParser,
    ready: VecDeque<ChangeEvent>,
}

impl EventStream {
    /// The next change; `None` when the hub ended the stream (shutdown, session ended).
    pub async fn next(&mut self) -> Option<ClientResult<ChangeEvent>> {
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Some(Ok(e));
            }
            match self.response.chunk().await {
                Ok(Some(bytes)) => {
                    for m in self.parser.push(&bytes) {
                        match serde_json::from_str::<ChangeEvent>(&m.data) {
                            Ok(e) => self.ready.push_back(e),
                            Err(e) => {
                                return Some(Err(ClientError::Decode(format!(
                                    "an event that is not a ChangeEvent: {e}"
                                ))));
                            }
                        }
                    }
                }
                Ok(None) => return None,
                Err(e) => return Some(Err(ClientError::Network(e))),
            }
        }
    }

    /// The id to reconnect with ([`HubClient::events`]), once the hub sent one.
    pub fn last_event_id(&self) -> Option<i64> {
        self.parser.last_event_id()?.parse().ok()
    }
}

impl HubClient {
    /// `GET /events`: opens the change feed. With `last_event_id` (from
    /// [`EventStream::last_event_id`]) the hub first replays what happened since, or sends a
    /// `resync` event when it cannot.
    pub async fn events(&self, last_event_id: Option<i64>) -> ClientResult<EventStream> {
        let mut rb = self
            .request(Method::GET, "/events")
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = last_event_id {
            rb = rb.header("Last-Event-ID", id.to_string());
        }
        let response = send(rb).await?;
        Ok(EventStream {
            response,
            parser: SseParser::new(),
            ready: VecDeque::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_at_once(text: &str) -> Vec<SseMessage> {
        SseParser::new().push(text.as_bytes())
    }

    /// The same events whether the bytes come at once, one by one, or split at every place.
    fn every_split(text: &str) -> Vec<SseMessage> {
        let whole = all_at_once(text);
        let bytes = text.as_bytes();
        let mut p = SseParser::new();
        let one_by_one: Vec<_> = bytes.iter().flat_map(|b| p.push(&[*b])).collect();
        assert_eq!(one_by_one, whole);
        for cut in 0..=bytes.len() {
            let mut p = SseParser::new();
            let mut got = p.push(&bytes[..cut]);
            got.extend(p.push(&bytes[cut..]));
            assert_eq!(got, whole, "split at {cut}");
        }
        whole
    }

    #[test]
    fn events_with_ids_comments_and_multiline_data() {
        let got = every_split(
            ": keep-alive\n\nid: 7\ndata: {\"a\":1}\n\nevent: x\ndata:one\ndata:  two\n\n",
        );
        assert_eq!(
            got,
            vec![
                SseMessage {
                    event: "message".into(),
                    data: "{\"a\":1}".into(),
                    id: Some("7".into())
                },
                SseMessage {
                    event: "x".into(),
                    data: "one\n two".into(),
                    id: Some("7".into())
                },
            ]
        );
    }

    #[test]
    fn crlf_and_cr_line_ends_and_a_bom() {
        let got = every_split("\u{feff}id: 1\r\ndata: a\r\n\r\nid: 2\rdata: b\r\r");
        let data: Vec<_> = got.iter().map(|m| (m.id.clone(), m.data.clone())).collect();
        assert_eq!(
            data,
            vec![
                (Some("1".into()), "a".into()),
                (Some("2".into()), "b".into())
            ]
        );
    }

    #[test]
    fn an_event_without_data_only_moves_the_id() {
        let mut p = SseParser::new();
        assert!(p.push(b"id: 42\n\n").is_empty());
        assert_eq!(p.last_event_id(), Some("42"));
        // An unfinished event is not dispatched.
        assert!(p.push(b"id: 43\ndata: x\n").is_empty());
        assert_eq!(p.push(b"\n").len(), 1);
        assert_eq!(p.last_event_id(), Some("43"));
    }
}
