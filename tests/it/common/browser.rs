//! Driving headless Chromium for the browser tests: Debian's `chromium`
//! (`.ci/run` installs it) over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`, so no WebSocket client is needed), and a tiny
//! static server on 127.0.0.1 for a built site.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Whether a missing browser must fail the test (`.ci/run` sets
/// `MINHBACH_BROWSER_TESTS=required`) rather than skip it.
pub fn required() -> bool {
    std::env::var("MINHBACH_BROWSER_TESTS").as_deref() == Ok("required")
}

// ---- a static file server ---------------------------------------------------

/// Serves `root` on an ephemeral port, one thread per connection (HTTP/1.1,
/// `Connection: close`, no compression), with `Cache-Control: no-store` so
/// a file changed on disk is fetched again, and single byte ranges
/// (`Range: bytes=A-B`) answered as static hosts answer them (nginx, GitHub
/// Pages, S3 all do).
pub fn serve(root: PathBuf) -> String {
    serve_files(root, true)
}

/// [`serve`] for a host that ignores `Range` and answers with whole files
/// (Python's `http.server` does).
pub fn serve_ignoring_ranges(root: PathBuf) -> String {
    serve_files(root, false)
}

fn serve_files(root: PathBuf, ranges: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                let _ = respond(stream, &root, ranges);
            });
        }
    });
    format!("http://{address}")
}

fn respond(mut stream: TcpStream, root: &Path, ranges: bool) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut range = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("range")
            && ranges
        {
            range = value.trim().strip_prefix("bytes=").map(str::to_string);
        }
    }
    let target = request.split(' ').nth(1).unwrap_or("/");
    let path = percent_decode(target.split(['?', '#']).next().unwrap_or("/"));
    let mut file = root.join(path.trim_start_matches('/'));
    if path.split('/').any(|part| part == "..") {
        file = root.join("no such file");
    }
    if file.is_dir() {
        file = file.join("index.html");
    }
    let (mut status, mut body, kind) = match std::fs::read(&file) {
        Ok(body) => ("200 OK", body, content_type(&file)),
        Err(_) => ("404 Not Found", b"not found".to_vec(), "text/plain"),
    };
    let mut content_range = String::new();
    if let (Some(range), "200 OK") = (range, status) {
        let size = body.len();
        match byte_range(&range, size) {
            Some((first, last)) => {
                status = "206 Partial Content";
                content_range = format!("Content-Range: bytes {first}-{last}/{size}\r\n");
                body = body[first..=last].to_vec();
            }
            None => {
                status = "416 Range Not Satisfiable";
                content_range = format!("Content-Range: bytes */{size}\r\n");
                body.clear();
            }
        }
    }
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n{content_range}Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)
}

/// `A-B` or `A-` of a file of `size` bytes, clamped to its end, as
/// RFC 9110 §14.1.2 reads it; `None` when it starts past the end.
fn byte_range(range: &str, size: usize) -> Option<(usize, usize)> {
    let (first, last) = range.split_once('-')?;
    let first: usize = first.trim().parse().ok()?;
    let last = match last.trim() {
        "" => size.checked_sub(1)?,
        last => last.parse::<usize>().ok()?.min(size.checked_sub(1)?),
    };
    (first <= last).then_some((first, last))
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("jpg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---- Chromium over the DevTools protocol ------------------------------------

pub struct Chromium {
    child: Child,
    commands: std::io::PipeWriter,
    replies: BufReader<std::io::PipeReader>,
    next_id: u64,
    session: String,
    /// Protocol events received while waiting for replies.
    pub events: Vec<Value>,
    done: Arc<AtomicBool>,
    _profile: tempfile::TempDir,
}

pub fn chromium_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
}

impl Chromium {
    pub fn launch(binary: &Path) -> Chromium {
        let profile = tempfile::tempdir().expect("profile dir");
        let (command_reader, command_writer) = std::io::pipe().expect("pipe");
        let (reply_reader, reply_writer) = std::io::pipe().expect("pipe");
        let (read_fd, write_fd) = (command_reader.as_raw_fd(), reply_writer.as_raw_fd());
        let mut command = Command::new(binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls (fcntl,
        // dup2) are made, on descriptors this process owns.
        unsafe {
            command.pre_exec(move || {
                let read_copy = libc::fcntl(read_fd, libc::F_DUPFD, 10);
                let write_copy = libc::fcntl(write_fd, libc::F_DUPFD, 10);
                if read_copy < 0
                    || write_copy < 0
                    || libc::dup2(read_copy, 3) < 0
                    || libc::dup2(write_copy, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("chromium starts");
        drop(command_reader);
        drop(reply_writer);
        // A watchdog, so a hung browser fails the test instead of hanging it.
        let done = Arc::new(AtomicBool::new(false));
        let (pid, finished) = (child.id() as i32, done.clone());
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(300) {
                if finished.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            // SAFETY: plain kill(2) of the browser this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        });
        let mut browser = Chromium {
            child,
            commands: command_writer,
            replies: BufReader::new(reply_reader),
            next_id: 0,
            session: String::new(),
            events: Vec::new(),
            done,
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}), false);
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            false,
        );
        browser.session = attached["sessionId"]
            .as_str()
            .expect("a session")
            .to_string();
        for domain in [
            "Page.enable",
            "Runtime.enable",
            "Log.enable",
            "Network.enable",
        ] {
            browser.call(domain, json!({}), true);
        }
        browser
    }

    pub fn call(&mut self, method: &str, params: Value, in_page: bool) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if in_page {
            message["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&message).expect("json");
        bytes.push(0);
        self.commands
            .write_all(&bytes)
            .expect("chromium reads commands");
        loop {
            let mut buffer = Vec::new();
            let read = self.replies.read_until(0, &mut buffer).expect("read");
            assert!(read > 0, "chromium exited while running {method}");
            buffer.pop();
            let reply: Value = serde_json::from_slice(&buffer).expect("a JSON message");
            if reply["id"] == json!(id) {
                assert!(
                    reply.get("error").is_none(),
                    "{method} failed: {}",
                    reply["error"]
                );
                return reply["result"].clone();
            }
            if reply.get("method").is_some() {
                self.events.push(reply);
            }
        }
    }

    pub fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            true,
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!(
                "`{}` threw: {exception}",
                &expression[..expression.len().min(80)]
            );
        }
        result["result"]["value"].clone()
    }

    pub fn set_width(&mut self, width: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": true}),
            true,
        );
    }

    /// Adds `latency_ms` to every request (DevTools network emulation, from
    /// sending it to its response headers), without limiting throughput: a
    /// request that waits for another's response starts a latency later.
    pub fn emulate_latency(&mut self, latency_ms: f64) {
        self.call(
            "Network.emulateNetworkConditions",
            json!({"offline": false, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1}),
            true,
        );
    }

    /// Polls until `condition` is true (at most 30 s).
    pub fn wait_for(&mut self, condition: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if self.eval(&format!("!!({condition})")) == json!(true) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let page =
            self.eval("document.querySelector('main') && document.querySelector('main').innerText");
        panic!("timed out waiting for `{condition}`; the page shows:\n{page}");
    }

    /// Starts loading `url`; events seen before are forgotten, so what
    /// `events` holds afterwards belongs to this page.
    pub fn navigate(&mut self, url: &str) {
        self.events.clear();
        self.call("Page.navigate", json!({"url": url}), true);
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
