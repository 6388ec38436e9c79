//! `minhbach serve`: localhost only, no path outside the site, live reload.

use crate::common;

use common::{SAMPLE, TestPortal, page_file};
use minhbach::site::routes;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        common::stop(&mut self.0);
    }
}

fn get(port: u16, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// Starts `minhbach serve --port 0 -o out` in the portal; returns the server
/// (killed when dropped) and the port it printed.
fn start(portal: &TestPortal, out: &Path) -> (Server, u16) {
    let (server, port, _) = start_with(portal, &["-o", out.to_str().unwrap()]);
    (server, port)
}

/// Starts `minhbach serve --port 0 ARGS` in the portal, its standard error
/// going to `serve.log`; returns the server, the port and its process id.
/// The server's temporary folder (`TMPDIR`), made in the test's own.
fn temp_dir(portal: &TestPortal) -> std::path::PathBuf {
    let dir = portal.dir.path().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A preview without `-o` builds into a private folder of its own, removed
/// when it stops on SIGTERM as on Ctrl+C.
#[test]
fn serve_stops_cleanly_on_sigterm_and_removes_its_private_folder() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let (mut server, port, _) = start_with(&portal, &[]);
    assert_eq!(get(port, "/").0, "HTTP/1.1 200 OK");
    let folders = || std::fs::read_dir(temp_dir(&portal)).unwrap().count();
    assert_eq!(folders(), 1, "the preview's folder while it runs");
    let status = common::stop(&mut server.0).expect("stopped within 10 s");
    assert!(status.success(), "{status:?}");
    assert_eq!(folders(), 0, "the preview's folder is removed");
}

fn start_with(portal: &TestPortal, args: &[&str]) -> (Server, u16, u32) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("minhbach"))
        .current_dir(portal.root())
        .args(["serve", "--port", "0"])
        .args(args)
        // A preview without `-o` builds into a folder made here.
        .env("TMPDIR", temp_dir(portal))
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(portal.dir.path().join("serve.log")).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let pid = child.id();
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port: u16 = line
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (server, port, pid)
}

#[test]
fn serve_previews_with_live_reload_and_stays_inside_the_site() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("preview");
    let (server, port) = start(&portal, &out);

    let (status, body) = get(port, "/");
    assert!(status.contains("200"), "{status}");
    assert!(
        body.contains("/__minhbach/version"),
        "the reload script is injected"
    );
    let (status, _) = get(port, &routes::fund("bao-so-5"));
    assert!(status.contains("200"), "{status}");
    for outside in [
        "/../config.toml",
        "/%2e%2e/config.toml",
        "/..%2f..%2fconfig.toml",
    ] {
        let (status, _) = get(port, outside);
        assert!(status.contains("404"), "{outside}: {status}");
    }
    let (_, first) = get(port, "/__minhbach/version");

    std::fs::write(
        portal.root().join("content/moi.md"),
        "+++\ntitle = \"Trang mới\"\n+++\nxin chào\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, version) = get(port, "/__minhbach/version");
        if version != first {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rebuild after a content change; the server printed:\n{}",
            std::fs::read_to_string(portal.dir.path().join("serve.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, body) = get(port, "/moi/");
    assert!(
        status.contains("200") && body.contains("xin chào"),
        "{status}"
    );
    drop(server);
}

/// Sends raw request bytes; returns the status line and the body.
fn request(port: u16, raw: &[u8]) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(raw).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text.lines().next().unwrap_or("").to_string();
    let body = match response.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(index) => response[index + 4..].to_vec(),
        None => Vec::new(),
    };
    (status, body)
}

#[test]
fn serve_listens_on_loopback_only_and_never_serves_outside_the_site() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("preview");
    let (server, port) = start(&portal, &out);
    // Bound to 127.0.0.1 itself, not to every address: on Linux all of
    // 127.0.0.0/8 is this machine, so a socket bound to 0.0.0.0 (or any
    // other loopback address) would accept a connection to 127.0.0.2.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    if cfg!(target_os = "linux") {
        let error = TcpStream::connect(("127.0.0.2", port)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
    }

    // Links inside the served folder that lead out of it.
    let config = std::fs::read(portal.root().join("config.toml")).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(portal.root().join("config.toml"), out.join("leak.txt"))
            .unwrap();
        std::os::unix::fs::symlink(portal.root(), out.join("portal")).unwrap();
        std::os::unix::fs::symlink("/etc", out.join("etc")).unwrap();
    }
    let (status, _) = get(port, "/");
    assert!(status.contains("200"), "{status}");
    let outside = [
        "/leak.txt",
        "/portal/config.toml",
        "/portal/.minhbach/secret",
        "/etc/passwd",
        "/../config.toml",
        "/%2e%2e/config.toml",
        "/%2E%2E/config.toml",
        "/..%2fconfig.toml",
        "/..%2Fconfig.toml",
        "/%2e%2e%2fconfig.toml",
        "/quy/%2e%2e/%2e%2e/config.toml",
        "/quy/..%2f..%2fconfig.toml",
        "/..%5cconfig.toml",
        "/..\\config.toml",
        "/%252e%252e%252fconfig.toml",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "/index.html%00",
        "/%00../config.toml",
        "/%c0%ae%c0%ae/config.toml",
        "/.%2e/config.toml",
    ];
    for path in outside {
        let (status, body) = request(
            port,
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
        );
        assert!(status.contains("404"), "{path}: {status}");
        assert!(
            !body.windows(config.len()).any(|w| w == config.as_slice()),
            "{path} served config.toml"
        );
        assert!(!String::from_utf8_lossy(&body).contains("root:"), "{path}");
    }
    // An absolute-form target is a path like any other: still confined.
    let (status, _) = request(
        port,
        format!("GET http://127.0.0.1:{port}/../config.toml HTTP/1.1\r\n\r\n").as_bytes(),
    );
    assert!(status.contains("404"), "{status}");
    // Only GET and HEAD.
    let (status, _) = request(port, b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert!(status.contains("405"), "{status}");
    let (status, body) = request(port, b"HEAD / HTTP/1.1\r\n\r\n");
    assert!(status.contains("200") && body.is_empty(), "{status}");
    // DNS rebinding: a page on another site whose name resolves to
    // 127.0.0.1 sends its own name in `Host`, and is refused.
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1.evil.example",
    ] {
        let (status, body) = request(
            port,
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        );
        assert!(status.contains("403"), "{host}: {status}");
        assert!(!String::from_utf8_lossy(&body).contains("<html"), "{host}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let (status, _) = request(
            port,
            format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        );
        assert!(status.contains("200"), "{host}: {status}");
    }
    // Many idle connections at once: past the cap they are closed, and the
    // server still answers once they go.
    let idle: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", port)).ok())
        .collect();
    drop(idle);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (status, _) = get(port, "/");
    assert!(status.contains("200"), "{status}");
    // A 1 MB request line is cut at 16 KB and answered, and the server goes on.
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 1 << 20));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let _ = stream.write_all(&long);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let (status, _) = get(port, "/");
    assert!(status.contains("200"), "{status}");
    drop(server);
}

/// Many connections that send nothing, or a byte now and then, neither
/// stall the preview nor hold it for ever: each request has a deadline.
#[test]
fn slow_connections_neither_stall_nor_hold_the_preview() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("preview");
    let (server, port) = start(&portal, &out);
    let slow: Vec<TcpStream> = (0..70)
        .map(|_| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.write_all(b"GET / HTTP/1.1\r\n").unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (status, _) = get(port, "/");
    assert!(
        status.contains("200"),
        "answered beside 70 slow connections: {status:?}"
    );

    // A client sending a header byte every 300 ms is cut off, although no
    // single read waits long.
    let mut trickle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    trickle.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    trickle
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut closed = false;
    for _ in 0..100 {
        if trickle.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 64];
        match trickle.read(&mut buf) {
            Ok(_) => {
                closed = true;
                break;
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "a request trickling in for 30 s was never cut off");
    drop(slow);
    drop(server);
}

/// Without `-o`, the preview is built in a new private folder (mode 0700,
/// random name), not a predictable `minhbach-serve-<pid>` another user of
/// the machine could prepare.
#[cfg(unix)]
#[test]
fn the_default_preview_folder_is_private_and_unpredictable() {
    use std::os::unix::fs::PermissionsExt;
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let (server, _, pid) = start_with(&portal, &[]);
    let log = portal.dir.path().join("serve.log");
    let printed = std::fs::read_to_string(&log).unwrap();
    let output = printed
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no output folder in {printed:?}"));
    let folder = Path::new(output).parent().unwrap();
    let name = folder.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("minhbach-serve-"), "{name}");
    assert_ne!(name, format!("minhbach-serve-{pid}"));
    let mode = std::fs::metadata(folder).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o700, "{}", folder.display());
    assert!(Path::new(output).join(page_file(routes::HOME)).is_file());
    drop(server);
}

/// Open pages are told of a rebuild by a push (server-sent events on the
/// version's URL), not by polling; the file system tells the preview that a
/// source changed.
#[test]
fn serve_pushes_a_rebuild_to_open_pages_as_an_event() {
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("preview");
    let (server, port) = start(&portal, &out);
    let (_, page) = get(port, "/");
    assert!(
        page.contains("new EventSource(\"/__minhbach/version\")"),
        "{page}"
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /__minhbach/version HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut next_data = || loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("the event stream ended");
        }
        if let Some(data) = line.strip_prefix("data: ") {
            return data.trim().to_string();
        }
    };
    let first = next_data();
    std::fs::write(
        portal.root().join("content/moi.md"),
        "+++\ntitle = \"Trang mới\"\n+++\nxin chào\n",
    )
    .unwrap();
    let second = next_data();
    assert_ne!(first, second, "a rebuild is pushed");
    let (status, body) = get(port, "/moi/");
    assert!(
        status.contains("200") && body.contains("xin chào"),
        "{status}"
    );
    drop(server);
}

/// In Chromium: an open page reloads by itself when a source changes.
#[test]
fn serve_an_open_page_in_chromium_reloads_after_a_change() {
    use common::browser::{Chromium, chromium_binary, required};
    let Some(binary) = chromium_binary() else {
        assert!(!required(), "Chromium is required (install `chromium`)");
        eprintln!("site_serve: Chromium missing; the browser test did not run");
        return;
    };
    let portal = TestPortal::new();
    portal.append(SAMPLE).assert().success();
    let out = portal.dir.path().join("preview");
    let (server, port) = start(&portal, &out);
    let mut browser = Chromium::launch(&binary);
    browser.navigate(&format!("http://127.0.0.1:{port}/gioi-thieu/"));
    browser.wait_for("document.readyState === 'complete'");
    // The page marks itself; a reload forgets the mark.
    browser.eval("window.__before_reload = true; 1");
    // Let its event stream deliver the version it was built at.
    std::thread::sleep(Duration::from_millis(500));
    let page = portal.root().join("content/gioi-thieu.md");
    let text = std::fs::read_to_string(&page)
        .unwrap_or_else(|_| "+++\ntitle = \"Giới thiệu\"\n+++\n".to_string());
    std::fs::write(&page, format!("{text}\nĐã sửa lúc xem trước.\n")).unwrap();
    browser.wait_for(
        "!window.__before_reload && document.readyState === 'complete' \
         && document.body.innerText.includes('Đã sửa lúc xem trước')",
    );
    drop(server);
}
