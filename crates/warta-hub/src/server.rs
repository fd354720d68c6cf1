//! Serving the hub's router: plain HTTP or HTTPS from PEM files (rustls on the `ring`
//! provider), the client's address behind trusted reverse proxies, one log line per request,
//! and a shutdown that lets requests in flight finish within a grace.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use ipnet::IpNet;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The PEM files of the hub's certificate (chain, leaf first) and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why the certificate files cannot be used, in words for the person configuring the hub.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("the certificate file {} cannot be read: {source}", path.display())]
    CertUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the certificate file {} holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("the key file {} cannot be read: {source}", path.display())]
    KeyUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)", path.display())]
    NoKey { path: PathBuf },
    #[error("the private key in {} does not belong to the certificate in {}", key.display(), cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    #[error("the certificate {} and key {} cannot be used: {reason}", cert.display(), key.display())]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
}

/// Reads the certificate chain and key and builds the TLS configuration (HTTP/1.1 and h2).
pub fn load_tls(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let cert_pem = std::fs::read(&files.cert).map_err(|source| TlsError::CertUnreadable {
        path: files.cert.clone(),
        source,
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key_pem = std::fs::read(&files.key).map_err(|source| TlsError::KeyUnreadable {
        path: files.key.clone(),
        source,
    })?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| TlsError::NoKey {
        path: files.key.clone(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Unusable {
            cert: files.cert.clone(),
            key: files.key.clone(),
            reason: e.to_string(),
        })?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                cert: files.cert.clone(),
                key: files.key.clone(),
            },
            other => TlsError::Unusable {
                cert: files.cert.clone(),
                key: files.key.clone(),
                reason: other.to_string(),
            },
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Parses one trusted proxy: an address (`10.0.0.5`, `::1`) or a network (`10.0.0.0/8`).
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    s.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("\"{s}\" is neither an IP address nor a network like 10.0.0.0/8"))
}

/// The address of the client a request came from: the TCP peer, or — when the peer is a
/// trusted reverse proxy — the right-most address in `X-Forwarded-For` that is not itself a
/// trusted proxy. Login throttling and the audit log use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Works out the client address. Addresses a client wrote into `X-Forwarded-For` itself sit
/// left of what the proxies appended, so reading from the right, the first untrusted address
/// is the one the outermost trusted proxy saw; a client cannot choose it.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(&canonical(*ip)));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) => {
                client = ip;
                if !is_trusted(&ip) {
                    return ip;
                }
            }
            // Garbage: nothing left of it can be believed; the last trusted hop stands.
            None => return client,
        }
    }
    client
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// The route a response came from (`/api/v1/items/{id}`), so the request log never holds
/// what a path carries (ids are fine; signatures of signed URLs are not).
#[derive(Clone)]
struct RouteLabel(String);

async fn label_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut res = next.run(req).await;
    if let Some(route) = route {
        res.extensions_mut().insert(RouteLabel(route));
    }
    res
}

async fn observe(State(trusted): State<Arc<Vec<IpNet>>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| canonical(c.0.ip()));
    let client = peer.map(|p| client_addr(p, req.headers(), &trusted));
    if let Some(c) = client {
        req.extensions_mut().insert(ClientAddr(c));
    }
    let method = req.method().clone();
    let res = next.run(req).await;
    let route = res
        .extensions()
        .get::<RouteLabel>()
        .map_or("(no route)", |r| r.0.as_str());
    let status = res.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let client = client.map(|c| c.to_string()).unwrap_or_default();
    if route == "/healthz" {
        tracing::debug!(target: "warta_hub::request", method = %method, path = route, status, latency_ms, client, "request");
    } else if status >= 500 {
        tracing::warn!(target: "warta_hub::request", method = %method, path = route, status, latency_ms, client, "request");
    } else {
        tracing::info!(target: "warta_hub::request", method = %method, path = route, status, latency_ms, client, "request");
    }
    res
}

/// Wraps the router with the request log and the client-address extension.
pub(crate) fn wrap(router: Router, trusted: Vec<IpNet>) -> Router {
    router
        .route_layer(middleware::from_fn(label_route))
        .layer(middleware::from_fn_with_state(Arc::new(trusted), observe))
}

/// Serves `app` on `listener` until `handle` is shut down.
pub(crate) async fn serve(
    listener: std::net::TcpListener,
    app: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    handle: axum_server::Handle<SocketAddr>,
) -> std::io::Result<()> {
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(config) => {
            let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
            axum_server::tls_rustls::from_tcp_rustls(listener, config)?
                .handle(handle)
                .serve(make)
                .await
        }
        None => {
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(make)
                .await
        }
    }
}

/// Binds `addr` (the standard library's listener, which axum-server takes).
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Waits for a blocking thread to end, at most `grace`; whether it ended.
pub(crate) async fn join_within(thread: std::thread::JoinHandle<()>, grace: Duration) -> bool {
    let joined = tokio::task::spawn_blocking(move || {
        let _ = thread.join();
    });
    tokio::time::timeout(grace, joined).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_used_only_from_a_trusted_peer() {
        let trusted = vec![
            parse_proxy("10.0.0.0/8").unwrap(),
            parse_proxy("::1").unwrap(),
        ];
        // An untrusted peer's header is ignored.
        assert_eq!(
            client_addr(ip("198.51.100.7"), &xff("203.0.113.5"), &trusted),
            ip("198.51.100.7")
        );
        // A trusted peer: the right-most untrusted hop, not what the client wrote first.
        assert_eq!(
            client_addr(
                ip("10.0.0.2"),
                &xff("1.2.3.4, 203.0.113.5, 10.0.0.9"),
                &trusted
            ),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_addr(ip("::1"), &xff("203.0.113.5:4711"), &trusted),
            ip("203.0.113.5")
        );
        // No header, or garbage right of everything: the proxy itself.
        assert_eq!(
            client_addr(ip("10.0.0.2"), &HeaderMap::new(), &trusted),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_addr(ip("10.0.0.2"), &xff("203.0.113.5, nonsense"), &trusted),
            ip("10.0.0.2")
        );
        // A dual-stack socket's mapped address matches an IPv4 network.
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.2"), &xff("203.0.113.5"), &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn proxies_parse_as_addresses_or_networks() {
        assert_eq!(
            parse_proxy("192.168.1.7").unwrap(),
            "192.168.1.7/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_proxy("10.1.2.3/8").unwrap(),
            "10.0.0.0/8".parse::<IpNet>().unwrap()
        );
        assert!(
            parse_proxy("proxy.local")
                .unwrap_err()
                .contains("proxy.local")
        );
    }
}
