//! What the push-through-proxy tests stand on: a test CA, a TLS front that makes the emulator's
//! plain socket.io port look like `https://push.drivewatch.test`, a real squid on 127.0.0.1 that
//! resolves the invented `*.drivewatch.test` names to 127.0.0.1 (so no loopback exemption
//! applies), a tiny CONNECT proxy for credential and refusal cases, and a transport wrapper
//! that gives the emulator's loopback notificationUrls the https origin a real service would use.
//!
//! It must never leave squid stopped or running after a test, and never write outside its
//! temporary folder.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drivewatch_core::push::{LinkEvent, PushError, PushLink, PushTransport};
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use graph_emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

mod watch;
pub use watch::*;

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
        let identity =
            native_tls::Identity::from_pkcs8(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
                .unwrap();
        let acceptor =
            tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap());
        let listener = TcpListener::bind((bind, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
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
        Self { addr, task }
    }

    /// The TLS front of an emulator, on 127.0.0.1.
    pub async fn for_emulator(pki: &TestPki, emu: &Emulator) -> Self {
        Self::start(pki, IpAddr::V4(Ipv4Addr::LOCALHOST), emu.local_addr()).await
    }
}

/// Gives the emulator's `http://127.0.0.1:PORT/notifications?...` the origin `origin`
/// (`https://push.drivewatch.test:PORT`), as the real service hands out https URLs.
pub struct Readdress {
    pub inner: Arc<dyn PushTransport>,
    pub origin: String,
}

pub fn readdress(url: &str, origin: &str) -> String {
    let parsed = url::Url::parse(url).unwrap();
    let mut out = url::Url::parse(origin).unwrap();
    out.set_path(parsed.path());
    out.set_query(parsed.query());
    out.to_string()
}

impl PushTransport for Readdress {
    fn connect<'a>(
        &'a self,
        notification_url: &'a str,
        events: mpsc::UnboundedSender<LinkEvent>,
    ) -> BoxFuture<'a, Result<Box<dyn PushLink>, PushError>> {
        async move {
            let url = readdress(notification_url, &self.origin);
            self.inner.connect(&url, events).await
        }
        .boxed()
    }
}

/// `squid`, when installed; `None` (after saying why) when it is not and `CI` is unset.
pub fn squid_binary() -> Option<PathBuf> {
    let found = ["/usr/sbin/squid", "/usr/bin/squid"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|path| {
                std::env::split_paths(&path)
                    .map(|d| d.join("squid"))
                    .find(|p| p.is_file())
            })
        });
    match found {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => {
            panic!("squid is not installed (cargo xtask deps installs it); CI must run this test")
        }
        None => {
            eprintln!("SKIPPED: squid is not installed (run `cargo xtask deps`)");
            None
        }
    }
}

/// A squid on 127.0.0.1 that resolves the invented names to 127.0.0.1 and allows `CONNECT` to
/// unprivileged ports only.
pub struct Squid {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for Squid {
    fn drop(&mut self) {
        // A stopped squid must not outlive the test.
        let _ = self.signal("CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Squid {
    pub async fn start(binary: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Squid started as root drops to its own user, which must write its logs here.
        set_mode(dir.path(), 0o777);
        let port = free_port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("hosts"),
            format!("127.0.0.1 {PUSH_HOST} {GRAPH_HOST}\n"),
        )
        .unwrap();
        let conf = format!(
            "http_port 127.0.0.1:{port}\n\
             pid_filename {d}/squid.pid\n\
             cache_log {d}/cache.log\n\
             access_log stdio:{d}/access.log\n\
             cache_store_log none\n\
             netdb_filename none\n\
             coredump_dir {d}\n\
             hosts_file {d}/hosts\n\
             cache deny all\n\
             cache_mem 8 MB\n\
             pinger_enable off\n\
             shutdown_lifetime 0 seconds\n\
             visible_hostname drivewatch-test\n\
             acl tunnel_ports port 1024-65535\n\
             acl CONNECT method CONNECT\n\
             http_access deny CONNECT !tunnel_ports\n\
             http_access allow CONNECT\n\
             http_access deny all\n"
        );
        std::fs::write(dir.path().join("squid.conf"), conf).unwrap();
        for f in ["hosts", "squid.conf"] {
            set_mode(&dir.path().join(f), 0o644);
        }
        let stderr = std::fs::File::create(dir.path().join("stderr.log")).unwrap();
        let child = Command::new(binary)
            .args(["-N", "-f"])
            .arg(dir.path().join("squid.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("squid starts");
        let mut squid = Self { port, dir, child };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if let Ok(Some(status)) = squid.child.try_wait() {
                panic!("squid exited ({status}): {}", squid.logs());
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "squid did not listen: {}",
                squid.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        squid
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `kill -SIG` on the squid process (STOP freezes every tunnel it relays; CONT resumes).
    pub fn signal(&self, sig: &str) -> std::io::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -{sig} failed")))
        }
    }

    pub fn logs(&self) -> String {
        let r = |n: &str| std::fs::read_to_string(self.dir.path().join(n)).unwrap_or_default();
        format!("stderr: {}\ncache.log: {}", r("stderr.log"), r("cache.log"))
    }

    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
        let identity =
            native_tls::Identity::from_pkcs8(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
                .unwrap();
        let acceptor =
            tokio_native_tls::TlsAcceptor::from(native_tls::TlsAcceptor::new(identity).unwrap());
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
