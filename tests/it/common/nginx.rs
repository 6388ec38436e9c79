//! Debian's nginx on loopback, running the committed `docs/deploy/nginx.conf`
//! with its own prefix, pid, logs and temporary folders in a temporary
//! directory, stopped when dropped. `.ci/run` installs nginx and sets
//! `MINHBACH_NGINX_TESTS=required`, where a missing nginx fails the test.
#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether a missing nginx must fail the test rather than skip it.
pub fn required() -> bool {
    std::env::var("MINHBACH_NGINX_TESTS").as_deref() == Ok("required")
}

/// `$NGINX`, else Debian's `/usr/sbin/nginx`; `None` (and a note) when
/// absent and not required.
pub fn nginx_binary() -> Option<PathBuf> {
    let binary = std::env::var_os("NGINX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"));
    if binary.is_file() {
        return Some(binary);
    }
    assert!(
        !required(),
        "nginx is required (MINHBACH_NGINX_TESTS=required) but `{}` is missing",
        binary.display()
    );
    eprintln!("nginx not found (set NGINX or install `nginx`); the nginx test did not run");
    None
}

/// A free port on 127.0.0.1 (bound, then released for nginx).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

pub struct Nginx {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Serves `root` (the folder above the site) on `port` with the
    /// committed server block: only its `listen` and `root` lines change.
    pub fn start(binary: &Path, root: &Path, port: u16) -> Nginx {
        let dir = tempfile::tempdir().expect("temp dir");
        let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
        let server = std::fs::read_to_string(repository.join("docs/deploy/nginx.conf"))
            .expect("docs/deploy/nginx.conf");
        assert!(
            server.contains("    listen 80;\n") && server.contains("    root /srv/minhbach;\n")
        );
        let server = server
            .replace(
                "    listen 80;\n",
                &format!("    listen 127.0.0.1:{port};\n"),
            )
            .replace(
                "    root /srv/minhbach;\n",
                &format!("    root {};\n", root.display()),
            );
        let d = dir.path().display();
        let config = format!(
            "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n  include /etc/nginx/mime.types;\n  default_type application/octet-stream;\n\
             access_log {d}/access.log;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
             {server}\n}}\n"
        );
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, config).expect("write nginx.conf");
        // nginx's workers (user nobody when started as root) must read the site.
        allow_reading(root);
        let child = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx { child, port, dir };
        nginx.wait_ready();
        nginx
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log =
                    std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                panic!("nginx exited ({status}): {log}");
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nginx did not listen on port {} within 20 s", self.port);
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `dir` and the folders above it (up to the temporary directory) to
/// reading, as a web root is.
fn allow_reading(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let temp = std::env::temp_dir();
    let mut at = Some(dir);
    while let Some(folder) = at {
        if folder == temp || folder.parent().is_none() {
            break;
        }
        let _ = std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755));
        at = folder.parent();
    }
}

/// One response's status line and headers, lowercased names.
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `curl -sS -o /dev/null -D - URL`: what a client sees of `url`.
pub fn curl_head(url: &str) -> Head {
    let output = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", url])
        .output()
        .expect("run curl (install `curl`)");
    assert!(output.status.success(), "curl {url}: {output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Head { status, headers }
}
