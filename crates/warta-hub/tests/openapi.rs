//! The OpenAPI document: generated from the router, served by the hub, committed as
//! `docs/openapi.json`, structurally sound, and true about which routes exist and which need a
//! session. Requests that do not parse are answered with an `ApiError`, as it says.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use warta_hub::{HubConfig, RunningHub, SystemClock};

const API: &str = "/api/v1";

fn document() -> Value {
    serde_json::from_str(warta_hub::openapi::json()).expect("the document is JSON")
}

async fn start() -> (RunningHub, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let hub = warta_hub::start(HubConfig::solo(dir.path()), Arc::new(SystemClock))
        .await
        .unwrap();
    (hub, dir)
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every (path, method, operation) of the document.
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            assert!(
                METHODS.contains(&method.as_str()),
                "{path}: unexpected key {method}"
            );
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

/// `docs/openapi.json` is the generated document. When it is not, it is rewritten and the
/// test fails, so the change shows up in `git diff` and gets committed.
#[test]
fn committed_document_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    let generated = warta_hub::openapi::json();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        std::fs::write(&path, generated).unwrap();
        panic!(
            "docs/openapi.json was out of date with the code; it has been regenerated: commit it"
        );
    }
}

#[test]
fn document_is_openapi_3_1_and_every_operation_is_complete() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"],
        serde_json::json!({"type": "http", "scheme": "bearer"})
    );
    let ops = operations(&doc);
    assert!(ops.len() >= 45, "only {} operations documented", ops.len());
    let mut ids = BTreeSet::new();
    for (path, method, op) in &ops {
        let at = format!("{} {path}", method.to_uppercase());
        assert!(
            path == "/healthz" || path.starts_with(API),
            "{at}: outside {API}"
        );
        let id = op["operationId"].as_str().unwrap_or_default();
        assert!(!id.is_empty(), "{at}: no operationId");
        assert!(
            ids.insert(id.to_string()),
            "{at}: operationId {id} used twice"
        );
        assert!(op["summary"].is_string(), "{at}: no summary");
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{at}: no tag"
        );
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{at}: no security"));
        assert!(!security.is_empty(), "{at}: empty security");
        let responses = op["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{at}: no responses"));
        assert!(
            responses.keys().any(|s| s.starts_with('2')),
            "{at}: no success response"
        );
        for (status, r) in responses {
            let code: u16 = status
                .parse()
                .unwrap_or_else(|_| panic!("{at}: status {status}"));
            assert!((200..500).contains(&code), "{at}: documents {code}");
            let r = resolve(&doc, r);
            assert!(
                r["description"].is_string(),
                "{at} {status}: no description"
            );
            if code >= 400 && method != "head" {
                assert_eq!(
                    r["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ApiError",
                    "{at} {status}: errors are ApiError"
                );
            }
        }
        // Authenticated operations can always answer 401.
        if security.iter().any(|s| s.get("bearer").is_some()) {
            assert!(
                responses.contains_key("401"),
                "{at}: needs a session but no 401"
            );
        }
        // Every `{param}` of the path is declared, and nothing else is declared in the path.
        let in_path: BTreeSet<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        let declared: BTreeSet<String> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| {
                        assert_eq!(p["required"], true, "{at}: path parameter not required");
                        p["name"].as_str().unwrap().to_string()
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(in_path, declared, "{at}: path parameters");
        // A path parameter can fail to parse (an id past i64, a word for a number): the answer
        // is then 400, which must be documented.
        if !in_path.is_empty() {
            assert!(
                responses.contains_key("400"),
                "{at}: has path parameters but no 400"
            );
        }
    }
    // Every reference points at something in the document.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        assert!(!pointer(&doc, &r).is_null(), "dangling reference {r}");
    }
}

/// Exactly the routes that take no session say so: set-up, login, signed downloads, the health
/// check and the document itself.
#[test]
fn public_operations_are_the_expected_ones() {
    let doc = document();
    let public: BTreeSet<String> = operations(&doc)
        .into_iter()
        .filter(|(_, _, op)| {
            op["security"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s.as_object().is_some_and(|o| o.is_empty()))
        })
        .map(|(path, method, _)| format!("{} {path}", method.to_uppercase()))
        .collect();
    let expected: BTreeSet<String> = [
        "GET /healthz",
        "GET /api/v1/openapi.json",
        "GET /api/v1/setup",
        "POST /api/v1/setup",
        "POST /api/v1/auth/login",
        "GET /api/v1/attachments/{id}/signed/{variant}/{sig}",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    assert_eq!(public, expected);
}

fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v["$ref"].as_str() {
        Some(r) => pointer(doc, r),
        None => v,
    }
}

fn pointer<'a>(doc: &'a Value, r: &str) -> &'a Value {
    let p = r
        .strip_prefix('#')
        .unwrap_or_else(|| panic!("external reference {r}"));
    doc.pointer(p).unwrap_or(&Value::Null)
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_string());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The document the hub serves is the generated one.
#[tokio::test]
async fn hub_serves_the_document() {
    let (hub, _dir) = start().await;
    let r = reqwest::get(format!("{}{API}/openapi.json", hub.base_url()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served: Value = r.json().await.unwrap();
    assert_eq!(served, document());
    hub.shutdown().await;
}

/// Fills a path's parameters with values of their documented types.
fn concrete(path: &str, op: &Value) -> String {
    let mut kinds = BTreeMap::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        kinds.insert(
            p["name"].as_str().unwrap().to_string(),
            p["schema"]["type"].as_str().unwrap_or("string").to_string(),
        );
    }
    path.split('/')
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if kinds.get(name).map(String::as_str) == Some("integer") => "1".into(),
                Some(_) => "x".into(),
                None => s.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

fn is_route_fallback(status: StatusCode, body: &Value) -> bool {
    status == StatusCode::NOT_FOUND && body["message"] == "route not found"
}

/// Every documented operation exists in the router with its method, and its `security` is
/// true: without a token, operations that need a session answer 401, the others never do.
/// (Routes are added to the router and the document together, so this guards the build
/// of the router itself: nesting, prefixes, path syntax.)
#[tokio::test]
async fn every_documented_operation_is_routed_and_guarded_as_documented() {
    let (hub, _dir) = start().await;
    let http = reqwest::Client::new();
    let doc = document();
    // The check can tell: an undocumented path gets the fallback.
    let r = http
        .get(format!("{}{API}/no/such/route", hub.base_url()))
        .send()
        .await
        .unwrap();
    let status = r.status();
    assert!(is_route_fallback(status, &r.json().await.unwrap()));
    for (path, method, op) in operations(&doc) {
        let url = format!("{}{}", hub.base_url(), concrete(&path, &op));
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = http.request(m.clone(), &url).send().await.unwrap();
        let status = r.status();
        let body: Value = if m == Method::HEAD {
            Value::Null
        } else {
            r.json().await.unwrap_or(Value::Null)
        };
        let at = format!("{m} {path}");
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{at}: method not routed"
        );
        assert!(!is_route_fallback(status, &body), "{at}: not routed");
        let needs_session = op["security"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("bearer").is_some());
        if needs_session {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{at}: served without a session"
            );
            if m != Method::HEAD {
                assert_eq!(body["code"], "unauthenticated", "{at}");
            }
        } else {
            assert_ne!(
                status,
                StatusCode::UNAUTHORIZED,
                "{at}: documented as public"
            );
            assert!(status.as_u16() < 500, "{at}: {status}");
        }
    }
    hub.shutdown().await;
}

/// Requests that do not parse get an `ApiError` (400, `validation`) in JSON, as the document
/// says, never axum's plain-text rejections (415, 422) or a 500.
#[tokio::test]
async fn malformed_requests_get_an_api_error() {
    let (hub, _dir) = start().await;
    let base = hub.base_url();
    let http = reqwest::Client::new();
    let office = hub.office().clone();
    let token = tokio::task::spawn_blocking(move || {
        office
            .add_user(
                None,
                warta_api::NewUser {
                    username: "admin".into(),
                    display_name: "Admin".into(),
                    password: "password-123".into(),
                    roles: vec![warta_api::Role::Admin, warta_api::Role::Reporter],
                    unit: "IT".into(),
                },
            )
            .unwrap();
        office
            .login(warta_api::LoginRequest {
                username: "admin".into(),
                password: "password-123".into(),
            })
            .unwrap()
            .token
    })
    .await
    .unwrap();
    let json = "application/json";
    let cases: Vec<(Method, String, Option<&str>, &str, &str)> = vec![
        // (method, path, content type, body, field)
        (
            Method::POST,
            format!("{API}/items"),
            Some(json),
            "{not json",
            "body",
        ),
        (
            Method::POST,
            format!("{API}/items"),
            Some(json),
            "{\"title\": 5}",
            "body",
        ),
        (Method::POST, format!("{API}/items"), None, "{}", "body"),
        (
            Method::POST,
            format!("{API}/items"),
            Some("text/plain"),
            "{}",
            "body",
        ),
        (
            Method::POST,
            format!("{API}/auth/login"),
            Some(json),
            "[]",
            "body",
        ),
        (Method::GET, format!("{API}/items/abc"), None, "", "path"),
        (
            Method::GET,
            format!("{API}/items/99999999999999999999"),
            None,
            "",
            "path",
        ),
        (
            Method::GET,
            format!("{API}/items/1/diff?from=x&to=2"),
            None,
            "",
            "query",
        ),
        (
            Method::GET,
            format!("{API}/items/1/diff"),
            None,
            "",
            "query",
        ),
        (
            Method::POST,
            format!("{API}/items/1/attachments"),
            None,
            "",
            "query",
        ),
        (
            Method::POST,
            format!("{API}/items/1/actions/submit"),
            Some(json),
            "{\"note\": 1}",
            "body",
        ),
    ];
    for (m, path, ctype, body, field) in cases {
        let mut req = http
            .request(m.clone(), format!("{base}{path}"))
            .bearer_auth(&token)
            .body(body.to_string());
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        let r = req.send().await.unwrap();
        let at = format!("{m} {path} {ctype:?} {body:?}");
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{at}");
        assert_eq!(r.headers()["content-type"], json, "{at}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["code"], "validation", "{at}");
        assert_eq!(e["field"], field, "{at}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{at}");
    }
    // An action's body may be left out, or be JSON null, as documented.
    for body in [None, Some("null")] {
        let mut req = http
            .post(format!("{base}{API}/items/424242/actions/submit"))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.header("content-type", json).body(b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{body:?}");
    }
    hub.shutdown().await;
}

/// No route is added to the router except through `OpenApiRouter::routes(routes!(...))`:
/// a plain axum `.route(` in the hub's source would serve a path the document does not show.
#[test]
fn no_route_bypasses_the_document() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            checked += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let line = line.replace("OpenApiRouter::new()", "");
                for bypass in [".route(", ".route_service(", "Router::new()"] {
                    assert!(
                        !line.contains(bypass),
                        "{}:{}: `{bypass}` adds a route the OpenAPI document does not show; \
                         use `.routes(routes!(handler))` with a #[utoipa::path] handler",
                        path.display(),
                        n + 1
                    );
                }
            }
        }
    }
    assert!(checked > 5);
}

/// Signing out needs a live session like every other route that says so: a revoked token is
/// refused, not silently accepted.
#[tokio::test]
async fn logout_needs_a_live_session() {
    let (hub, _dir) = start().await;
    let office = hub.office().clone();
    let token = tokio::task::spawn_blocking(move || {
        office
            .add_user(
                None,
                warta_api::NewUser {
                    username: "rina".into(),
                    display_name: "Rina".into(),
                    password: "password-123".into(),
                    roles: vec![warta_api::Role::Reporter],
                    unit: "IKP".into(),
                },
            )
            .unwrap();
        office
            .login(warta_api::LoginRequest {
                username: "rina".into(),
                password: "password-123".into(),
            })
            .unwrap()
            .token
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}{API}/auth/logout", hub.base_url());
    for (token, expected) in [
        (token.as_str(), StatusCode::NO_CONTENT),
        (token.as_str(), StatusCode::UNAUTHORIZED),
        ("no-such-token", StatusCode::UNAUTHORIZED),
    ] {
        let r = http.post(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), expected, "{token}");
    }
    hub.shutdown().await;
}
