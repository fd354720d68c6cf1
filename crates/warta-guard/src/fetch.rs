//! Fetching a watched page without trusting it.
//!
//! - only `http` and `https`, only the hosts the office configured; a redirect elsewhere is not
//!   followed (it is reported, see [`Fetched::redirected_away`]);
//! - no loopback, private, link-local or otherwise internal address, looked up by our own
//!   resolver so a name cannot point there either — unless the office's own site lives there
//!   ([`Fetcher::allow_private`]);
//! - the body is read up to [`Limits::max_bytes`] and for at most [`Limits::timeout`]; a bigger
//!   or never-ending answer is cut there and marked, never buffered whole.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use url::Url;

/// How much of a page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of body read at most (default 4 MiB: a large government page is a few hundred KB).
    pub max_bytes: usize,
    /// The whole fetch, connection to last byte (default 20 s).
    pub timeout: Duration,
    /// Redirects followed within the allowed hosts (default 5).
    pub max_redirects: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 4 * 1024 * 1024,
            timeout: Duration::from_secs(20),
            max_redirects: 5,
        }
    }
}

/// Who the request says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Browser,
    /// A search engine's crawler (Googlebot), to catch pages shown only to search engines.
    Crawler,
}

impl Agent {
    pub fn user_agent(self) -> &'static str {
        match self {
            Agent::Browser => {
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
            }
            Agent::Crawler => {
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
            }
        }
    }
}

/// Why a body stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    Size,
    Time,
}

/// What a fetch got.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// Where the body came from (after redirects within the allowed hosts).
    pub url: Url,
    pub status: u16,
    /// The body, decoded as UTF-8 (invalid bytes replaced), possibly cut.
    pub body: String,
    pub cut: Option<Cut>,
    /// A redirect to a host outside the allowed ones, not followed.
    pub redirected_away: Option<Url>,
    /// When the site's TLS certificate ends (https only).
    pub certificate_expires: Option<DateTime<Utc>>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("only http and https addresses are checked: {0}")]
    NotHttp(String),
    #[error("{0} is not one of the office's sites")]
    HostNotAllowed(String),
    #[error("{0} is an internal address (loopback, private or link-local)")]
    Internal(String),
    #[error("cannot fetch {url}: {message}")]
    Network { url: String, message: String },
    #[error("no answer from {0} in time")]
    Timeout(String),
}

/// Whether an address is internal: loopback, private, link-local, unspecified, shared
/// (carrier NAT), unique local, or an IPv4 address inside IPv6.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
                || v4.octets()[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Resolves names, dropping internal addresses unless they are allowed.
struct GuardedResolver {
    allow_internal: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow_internal;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || !is_internal(a.ip()))
                .collect();
            if found.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> =
                    FetchError::Internal(host).to_string().into();
                return Err(err);
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

fn host_allowed(allowed: &[String], host: &str) -> bool {
    allowed.is_empty()
        || allowed.iter().any(|a| {
            let a = a.trim().to_ascii_lowercase();
            let host = host.to_ascii_lowercase();
            host == a
                || host.strip_prefix("www.") == Some(a.as_str())
                || a.strip_prefix("www.") == Some(host.as_str())
                || host.ends_with(&format!(".{a}"))
        })
}

/// Fetches pages of the office's sites. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    limits: Limits,
    hosts: Arc<Vec<String>>,
    allow_internal: bool,
    extra_roots: Arc<Vec<reqwest::Certificate>>,
}

/// A certificate file that could not be read as a PEM certificate authority.
#[derive(Debug, thiserror::Error)]
#[error("not a PEM certificate: {0}")]
pub struct BadCertificate(String);

impl Fetcher {
    /// A fetcher for pages on `hosts` (a host allows its subdomains; empty: any host).
    pub fn new(hosts: Vec<String>, limits: Limits) -> Self {
        Self::build(hosts, limits, false)
    }

    /// The same, also fetching from internal addresses: for an office whose site runs on its
    /// own network, and for tests on loopback.
    pub fn allow_private(hosts: Vec<String>, limits: Limits) -> Self {
        Self::build(hosts, limits, true)
    }

    /// The same fetcher also trusting the certificate authorities in `pem` (one or more PEM
    /// certificates), for an office whose site has a certificate from its own authority. The
    /// system's roots stay trusted.
    pub fn trusting(self, pem: &[u8]) -> Result<Self, BadCertificate> {
        let found = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| BadCertificate(e.to_string()))?;
        if found.is_empty() {
            return Err(BadCertificate("no certificate in the file".into()));
        }
        let mut roots = (*self.extra_roots).clone();
        roots.extend(found);
        let hosts = (*self.hosts).clone();
        Ok(Self::build_with(
            hosts,
            self.limits,
            self.allow_internal,
            roots,
        ))
    }

    fn build(hosts: Vec<String>, limits: Limits, allow_internal: bool) -> Self {
        Self::build_with(hosts, limits, allow_internal, Vec::new())
    }

    fn build_with(
        hosts: Vec<String>,
        limits: Limits,
        allow_internal: bool,
        extra_roots: Vec<reqwest::Certificate>,
    ) -> Self {
        let hosts = Arc::new(hosts);
        let follow = Arc::clone(&hosts);
        let max_redirects = limits.max_redirects;
        let policy = redirect::Policy::custom(move |attempt| {
            let stays = attempt
                .url()
                .host_str()
                .is_some_and(|h| host_allowed(&follow, h))
                && matches!(attempt.url().scheme(), "http" | "https");
            if stays && attempt.previous().len() <= max_redirects {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let mut builder = reqwest::Client::builder()
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver { allow_internal }))
            .connect_timeout(limits.timeout)
            .tls_info(true);
        for root in &extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder.build().expect("the HTTP client must build");
        Fetcher {
            client,
            limits,
            hosts,
            allow_internal,
            extra_roots: Arc::new(extra_roots),
        }
    }

    /// Fetches `url` as `agent`.
    pub async fn fetch(&self, url: &Url, agent: Agent) -> Result<Fetched, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::NotHttp(url.to_string()));
        }
        let host = url.host_str().unwrap_or_default().to_string();
        if !host_allowed(&self.hosts, &host) {
            return Err(FetchError::HostNotAllowed(host));
        }
        // Addresses written as numbers never reach the resolver.
        if let Some(ip) = url
            .host_str()
            .and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok())
            && !self.allow_internal
            && is_internal(ip)
        {
            return Err(FetchError::Internal(host));
        }
        let started = Instant::now();
        let deadline = started + self.limits.timeout;
        let network = |e: reqwest::Error| {
            // The cause is deeper down (a refused connection, our resolver's refusal).
            let mut causes = String::new();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                causes = format!("{causes}: {cause}");
                source = cause.source();
            }
            let message = format!("{}{causes}", e.without_url());
            FetchError::Network {
                url: url.to_string(),
                message,
            }
        };
        let request = self
            .client
            .get(url.clone())
            .header(reqwest::header::USER_AGENT, agent.user_agent())
            .header(
                reqwest::header::ACCEPT,
                "text/html,application/xhtml+xml,*/*;q=0.8",
            );
        let mut response = match tokio::time::timeout_at(deadline.into(), request.send()).await {
            Ok(r) => r.map_err(network)?,
            Err(_) => return Err(FetchError::Timeout(url.to_string())),
        };
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        let redirected_away = if response.status().is_redirection() {
            response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| final_url.join(l).ok())
        } else {
            None
        };
        let certificate_expires = response
            .extensions()
            .get::<reqwest::tls::TlsInfo>()
            .and_then(|info| info.peer_certificate())
            .and_then(|der| x509_parser::parse_x509_certificate(der).ok())
            .and_then(|(_, cert)| {
                DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
            });

        let mut body: Vec<u8> = Vec::new();
        let mut cut = None;
        loop {
            match tokio::time::timeout_at(deadline.into(), response.chunk()).await {
                Err(_) => {
                    cut = Some(Cut::Time);
                    break;
                }
                Ok(Err(e)) => return Err(network(e)),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => {
                    let room = self.limits.max_bytes - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        cut = Some(Cut::Size);
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
            }
        }
        Ok(Fetched {
            url: final_url,
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            cut,
            redirected_away,
            certificate_expires,
            elapsed: started.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.5.5",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["103.10.20.30", "8.8.8.8", "2001:4860::8888"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn a_host_allows_its_subdomains_and_www() {
        let allowed = vec!["kaltimprov.go.id".to_string()];
        assert!(host_allowed(&allowed, "kaltimprov.go.id"));
        assert!(host_allowed(&allowed, "www.kaltimprov.go.id"));
        assert!(host_allowed(&allowed, "diskominfo.kaltimprov.go.id"));
        assert!(!host_allowed(&allowed, "evilkaltimprov.go.id"));
        assert!(!host_allowed(&allowed, "kaltimprov.go.id.evil.example"));
    }
}
