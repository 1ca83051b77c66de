//! Network fixtures for DriveWatch's tests of push through proxies: a test CA, a TLS front
//! that makes the emulator's plain socket.io port look like `https://push.drivewatch.test`, a
//! real squid on 127.0.0.1 that resolves the invented `*.drivewatch.test` names to 127.0.0.1 (so
//! no loopback exemption applies), and a tiny CONNECT proxy for credential and refusal cases.
//! The core's tests use it on the engine, the CLI's on the real binary.
//!
//! It depends on the emulator but never on DriveWatch's own crates, so both suites can use it.
//! It must never leave squid stopped or running after a test, and never write outside its
//! temporary folder.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graph_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[cfg(unix)]
mod squid;
#[cfg(unix)]
pub use squid::{Squid, squid_binary};

pub const PUSH_HOST: &str = "push.drivewatch.test";
pub const GRAPH_HOST: &str = "graph.drivewatch.test";

/// A test CA and one server certificate it signed, as PEM.
pub struct TestPki {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestPki {
    /// A CA and a server certificate for the invented names and `extra_names`.
    pub fn new(extra_names: &[String]) -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "DriveWatch test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let mut names = vec![PUSH_HOST.to_owned(), GRAPH_HOST.to_owned()];
        names.extend(extra_names.iter().cloned());
        let key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(names).unwrap();
        leaf.distinguished_name.push(DnType::CommonName, PUSH_HOST);
        let cert = leaf.signed_by(&key, &issuer).unwrap();
        Self {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    pub fn write(&self, dir: &Path) {
        std::fs::write(dir.join("ca.pem"), &self.ca_pem).unwrap();
        std::fs::write(dir.join("cert.pem"), &self.cert_pem).unwrap();
        std::fs::write(dir.join("key.pem"), &self.key_pem).unwrap();
    }

    /// A TLS acceptor presenting the server certificate.
    pub fn acceptor(&self) -> tokio_native_tls::TlsAcceptor {
        let identity =
            native_tls::Identity::from_pkcs8(self.cert_pem.as_bytes(), self.key_pem.as_bytes())
                .unwrap();
        tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap())
    }

    pub fn read(dir: &Path) -> Self {
        let r = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
        Self {
            ca_pem: r("ca.pem"),
            cert_pem: r("cert.pem"),
            key_pem: r("key.pem"),
        }
    }
}

/// Terminates TLS on `bind` and relays the plain bytes to `backend`.
pub struct TlsFront {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TlsFront {
    pub async fn start(pki: &TestPki, bind: IpAddr, backend: SocketAddr) -> Self {
        FrontListener::bind(bind).await.serve(pki, backend)
    }

    /// The TLS front of an emulator, on 127.0.0.1.
    pub async fn for_emulator(pki: &TestPki, emu: &Emulator) -> Self {
        Self::start(pki, IpAddr::V4(Ipv4Addr::LOCALHOST), emu.local_addr()).await
    }
}

/// A TLS front's port, bound before its backend exists: an emulator that must name the front in
/// its notificationUrls (`EmulatorConfig::with_push_origin`) starts after the port is known.
pub struct FrontListener {
    pub addr: SocketAddr,
    listener: TcpListener,
}

impl FrontListener {
    pub async fn bind(bind: IpAddr) -> Self {
        let listener = TcpListener::bind((bind, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        Self { addr, listener }
    }

    /// Terminates TLS with `pki`'s certificate and relays the plain bytes to `backend`.
    pub fn serve(self, pki: &TestPki, backend: SocketAddr) -> TlsFront {
        let acceptor = pki.acceptor();
        let listener = self.listener;
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(Ok(mut tls)) =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            addr: self.addr,
            task,
        }
    }
}

/// What the tiny proxy does with a `CONNECT`.
#[derive(Clone, Debug)]
pub enum Answer {
    /// Relay to the backend if `Proxy-Authorization` equals this (or always, with `None`);
    /// otherwise 407.
    Relay { authorization: Option<String> },
    /// Answer with this status and close.
    Refuse(u16),
}

/// One `CONNECT` the tiny proxy saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    pub target: String,
    pub authorization: Option<String>,
}

/// A minimal CONNECT proxy on 127.0.0.1 that relays every tunnel to one backend.
pub struct MiniProxy {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Drop for MiniProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MiniProxy {
    pub async fn start(answer: Answer, backend: SocketAddr) -> Self {
        Self::start_with(answer, backend, None).await
    }

    /// An `https://` proxy: TLS with `pki`'s certificate (which must name 127.0.0.1) first.
    pub async fn start_tls(answer: Answer, backend: SocketAddr, pki: &TestPki) -> Self {
        let acceptor = pki.acceptor();
        Self::start_with(answer, backend, Some(acceptor)).await
    }

    async fn start_with(
        answer: Answer,
        backend: SocketAddr,
        tls: Option<tokio_native_tls::TlsAcceptor>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (answer, log, tls) = (answer.clone(), log.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        None => serve(tcp, answer, backend, log).await,
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                serve(stream, answer, backend, log).await;
                            }
                        }
                    }
                });
            }
        });
        Self { port, seen, task }
    }

    pub fn url_with(&self, userinfo: &str) -> String {
        format!("http://{userinfo}127.0.0.1:{}", self.port)
    }

    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    mut tcp: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    answer: Answer,
    backend: SocketAddr,
    log: Arc<Mutex<Vec<Seen>>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.strip_prefix("CONNECT "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    let authorization = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, v)| v.trim().to_owned());
    log.lock().unwrap().push(Seen {
        target,
        authorization: authorization.clone(),
    });
    let refuse = |status: u16| {
        format!(
            "HTTP/1.1 {status} Refused\r\nProxy-Authenticate: Basic realm=\"test\"\r\n\
             Content-Length: 7\r\nConnection: close\r\n\r\nrefused"
        )
    };
    match answer {
        Answer::Refuse(status) => {
            let _ = tcp.write_all(refuse(status).as_bytes()).await;
        }
        Answer::Relay {
            authorization: want,
        } if want.is_some() && want != authorization => {
            let _ = tcp.write_all(refuse(407).as_bytes()).await;
        }
        Answer::Relay { .. } => {
            let Ok(mut upstream) = TcpStream::connect(backend).await else {
                let _ = tcp.write_all(refuse(502).as_bytes()).await;
                return;
            };
            if tcp
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .await
                .is_ok()
            {
                let _ = tokio::io::copy_bidirectional(&mut tcp, &mut upstream).await;
            }
        }
    }
}

/// A fresh notificationUrl for `user` (a socketIo subscription on their drive).
pub async fn notification_url(emu: &Emulator, user: &str) -> String {
    let (access, _) = emu.issue_tokens(user).unwrap();
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/me/drive/root/subscriptions/socketIo",
            emu.graph_url()
        ))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["notificationUrl"].as_str().unwrap().to_owned()
}

/// The query value `token` of a notificationUrl (to check it leaks nowhere).
pub fn token_of(url: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}
