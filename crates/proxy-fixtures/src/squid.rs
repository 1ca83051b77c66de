//! A real squid on 127.0.0.1 (Unix only: its signals and file modes).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::{GRAPH_HOST, PUSH_HOST};

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
