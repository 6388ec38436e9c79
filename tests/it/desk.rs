//! The officers' desk (`minhbach desk`) over plain HTTP, as a browser or a
//! script would use it: its security (session token, CSRF, Origin, Host,
//! body limit) and an officer's day (record, review, restart, sign, verify).

use crate::common;

use common::browser::{Chromium, chromium_binary, required};
use common::{TestPortal, minhbach};
use minhbach::site::routes;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

/// A running desk: the child process, its address and its one-time token.
struct Desk {
    child: Child,
    host: String,
    token: String,
}

impl Desk {
    fn start(portal: &TestPortal) -> Desk {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("minhbach"));
        command
            .current_dir(portal.root())
            .env("MINHBACH_TIME", common::TIME)
            // Its preview folder goes here, not into the machine's /tmp.
            .env("TMPDIR", temp_dir(portal))
            .args(["desk", "--port", "0", "--key"])
            .arg(&portal.officer_key)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("desk starts");
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .expect("desk prints its address");
        // Keep draining standard output so the desk never blocks on it.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = reader.read_to_end(&mut sink);
        });
        let url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        let rest = url.strip_prefix("http://").unwrap();
        let (host, query) = rest.split_once("/?token=").expect("a token in the link");
        Desk {
            child,
            host: host.to_string(),
            token: query.to_string(),
        }
    }

    /// One HTTP/1.1 request; returns (status, head, body).
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut stream = TcpStream::connect(&self.host).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.host));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        // The desk may refuse before reading the body (and close): a write
        // error past that point is part of the answer, not a failure.
        let _ = stream.write_all(body);
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let text = String::from_utf8_lossy(&bytes).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        Response {
            status,
            head: head.to_string(),
            body: body.to_string(),
        }
    }

    /// Opens a session with the one-time token; returns the cookie header.
    fn login(&self) -> String {
        let response = self.request("GET", &format!("/?token={}", self.token), &[], b"");
        assert_eq!(response.status, 303, "{}", response.head);
        let cookie = response
            .head
            .lines()
            .find_map(|line| line.strip_prefix("set-cookie: "))
            .expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        cookie.split(';').next().unwrap().to_string()
    }

    fn origin(&self) -> String {
        format!("http://{}", self.host)
    }

    fn get(&self, cookie: &str, path: &str) -> Response {
        self.request("GET", path, &[("Cookie", cookie)], b"")
    }

    /// Posts a form the way a browser on the desk's page does.
    fn post(&self, cookie: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = csrf_of(&self.get(cookie, "/").body);
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        let body = serde_urlencoded::to_string(&all).unwrap();
        let origin = self.origin();
        self.request(
            "POST",
            path,
            &[
                ("Cookie", cookie),
                ("Origin", &origin),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            body.as_bytes(),
        )
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        common::stop(&mut self.child);
    }
}

/// The desk's temporary folder (`TMPDIR`), made in the test's own.
fn temp_dir(portal: &TestPortal) -> PathBuf {
    let dir = portal.dir.path().join("tmp");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Response {
    status: u16,
    head: String,
    body: String,
}

fn csrf_of(page: &str) -> String {
    let start = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[start..start + page[start..].find('"').unwrap()].to_string()
}

fn draft_path(portal: &TestPortal) -> PathBuf {
    portal.root().join(".minhbach/desk/draft.jsonl")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn fund_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("id", "bao-so-5"),
        ("name", "Ủng hộ đồng bào bão số 5"),
        ("description", "Quỹ cứu trợ"),
        ("target", ""),
        ("accounts[0].bank_bin", "970415"),
        ("accounts[0].number", "113000006100"),
        ("accounts[0].holder", "UBMTTQ TINH QUANG TRI"),
        ("accounts[1].bank_bin", "970436"),
        ("accounts[1].number", "0071000123456"),
        ("accounts[1].holder", "UBMTTQ TINH QUANG TRI"),
    ]
}

/// SIGTERM (`kill`, a service manager, the machine shutting down) stops the
/// desk as Ctrl+C does: cleanly, its preview folder removed.
#[test]
fn desk_stops_cleanly_on_sigterm_and_removes_its_preview_folder() {
    let portal = TestPortal::new();
    let mut desk = Desk::start(&portal);
    let folders = || std::fs::read_dir(temp_dir(&portal)).unwrap().count();
    assert_eq!(folders(), 1, "the preview's folder while the desk runs");
    let status = common::stop(&mut desk.child).expect("stopped within 10 s");
    assert!(status.success(), "{status:?}");
    assert_eq!(folders(), 0, "the preview's folder is removed");
}

#[test]
fn desk_refuses_requests_without_the_session_token() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let before = portal.snapshot();
    assert_eq!(desk.get("", "/").status, 401);
    assert_eq!(desk.get("minhbach_desk=forged", "/review").status, 401);
    let wrong = desk.request("GET", "/?token=0000", &[], b"");
    assert_eq!(wrong.status, 401);
    let origin = desk.origin();
    let post = desk.request(
        "POST",
        "/record/fund",
        &[
            ("Origin", &origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        b"id=x&name=x&description=x",
    );
    assert_eq!(post.status, 401);
    // The one-time token opens one session, once.
    let cookie = desk.login();
    assert_eq!(desk.get(&cookie, "/").status, 200);
    let again = desk.request("GET", &format!("/?token={}", desk.token), &[], b"");
    assert_eq!(again.status, 401);
    assert_eq!(portal.snapshot(), before);
    assert!(!draft_path(&portal).exists());
}

#[test]
fn desk_refuses_wrong_csrf_other_origin_other_host_and_oversized_bodies() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let csrf = csrf_of(&desk.get(&cookie, "/").body);
    let form = |csrf: &str| {
        let mut fields = vec![("csrf", csrf)];
        fields.extend(fund_fields());
        serde_urlencoded::to_string(&fields).unwrap()
    };
    let origin = desk.origin();
    let plain = ("Content-Type", "application/x-www-form-urlencoded");
    let before = portal.snapshot();

    let wrong_csrf = desk.request(
        "POST",
        "/record/fund",
        &[("Cookie", &cookie), ("Origin", &origin), plain],
        form("0123").as_bytes(),
    );
    assert_eq!(wrong_csrf.status, 403);
    assert!(wrong_csrf.body.contains("CSRF"));
    let no_csrf = desk.request(
        "POST",
        "/record/fund",
        &[("Cookie", &cookie), ("Origin", &origin), plain],
        b"id=x",
    );
    assert_eq!(no_csrf.status, 403);
    let other_origin = desk.request(
        "POST",
        "/record/fund",
        &[
            ("Cookie", &cookie),
            ("Origin", "http://evil.example"),
            plain,
        ],
        form(&csrf).as_bytes(),
    );
    assert_eq!(other_origin.status, 403);
    let no_origin = desk.request(
        "POST",
        "/record/fund",
        &[("Cookie", &cookie), plain],
        form(&csrf).as_bytes(),
    );
    assert_eq!(no_origin.status, 403);
    let other_host = desk.request(
        "POST",
        "/record/fund",
        &[
            ("Host", "evil.example"),
            ("Cookie", &cookie),
            ("Origin", "http://evil.example"),
            plain,
        ],
        form(&csrf).as_bytes(),
    );
    assert_eq!(other_host.status, 403);
    let rebinding = desk.request(
        "GET",
        "/",
        &[("Host", "evil.example"), ("Cookie", &cookie)],
        b"",
    );
    assert_eq!(rebinding.status, 403);
    let mut huge = form(&csrf).into_bytes();
    huge.extend(std::iter::repeat_n(b'a', 17 << 20));
    let oversized = desk.request(
        "POST",
        "/record/fund",
        &[("Cookie", &cookie), ("Origin", &origin), plain],
        &huge,
    );
    assert_eq!(oversized.status, 413);
    assert!(oversized.body.contains("quá lớn"), "{}", oversized.body);

    assert_eq!(portal.snapshot(), before);
    assert!(!draft_path(&portal).exists());
    // The same form, from the desk's page, is accepted.
    let accepted = desk.request(
        "POST",
        "/record/fund",
        &[("Cookie", &cookie), ("Origin", &origin), plain],
        form(&csrf).as_bytes(),
    );
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert!(read(&draft_path(&portal)).contains("bao-so-5"));
    assert_eq!(portal.snapshot(), before, "recording never touches ledger/");
}

#[test]
fn desk_records_reviews_survives_a_restart_and_signs_one_checkpoint() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let ok = |response: Response| {
        assert_eq!(response.status, 303, "{}", response.body);
    };
    ok(desk.post(&cookie, "/record/fund", &fund_fields()));
    ok(desk.post(
        &cookie,
        "/record/donation",
        &[
            ("fund", "bao-so-5"),
            ("donor", "Nguyễn Văn An"),
            ("amount", "2.000.000"),
            ("date", "2025-09-12"),
            ("channel", "cash"),
            ("ref", "BN-0001"),
            ("note", ""),
        ],
    ));
    ok(desk.post(
        &cookie,
        "/record/household",
        &[
            ("id", "qt-0001"),
            ("head", "Lê Thị Hoa"),
            ("province", "Quảng Trị"),
            ("district", ""),
            ("commune", "xã Vĩnh Linh"),
            ("village", ""),
            ("circumstances", "Nhà sập do lũ"),
            ("support", "repair"),
            ("planned", "30.000.000"),
            ("photo_consent", "true"),
            ("citizen_id", "045190001234"),
            ("phone", "0912345678"),
        ],
    ));
    // An overdraft is refused before signing, with the figures.
    let overdraft = desk.post(
        &cookie,
        "/record/disbursement",
        &[
            ("fund", "bao-so-5"),
            ("amount", "5.000.000"),
            ("date", "2025-09-13"),
            ("household", "qt-0001"),
            ("payee", ""),
            ("purpose", "Sửa nhà"),
        ],
    );
    assert_eq!(overdraft.status, 422);
    assert!(overdraft.body.contains("id=\"form-error\""));
    assert!(overdraft.body.contains("2.000.000"), "{}", overdraft.body);
    assert!(overdraft.body.contains("5.000.000"));
    ok(desk.post(
        &cookie,
        "/record/disbursement",
        &[
            ("fund", "bao-so-5"),
            ("amount", "1.500.000"),
            ("date", "2025-09-13"),
            ("household", "qt-0001"),
            ("payee", ""),
            ("purpose", "Tạm ứng sửa nhà"),
        ],
    ));
    // The household's private fields are never written nor shown back.
    let draft = read(&draft_path(&portal));
    assert!(!draft.contains("045190001234") && !draft.contains("0912345678"));
    assert!(draft.contains("citizen_id_hmac"));
    let review = desk.get(&cookie, "/review");
    assert_eq!(review.status, 200);
    assert!(review.body.contains("id=\"sign\""));
    assert_eq!(
        review.body.matches("class=\"ok\"").count(),
        4,
        "{}",
        review.body
    );
    assert!(!review.body.contains("045190001234"));
    assert_eq!(
        review
            .body
            .matches("src=\"data:image/svg+xml;base64,")
            .count(),
        2,
        "the VietQR code of each of the fund's accounts"
    );
    let search = desk.get(&cookie, "/record/disbursement?q=vinh+linh");
    assert!(search.body.contains("Lê Thị Hoa"), "{}", search.body);

    // A restart keeps the draft.
    drop(desk);
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let review = desk.get(&cookie, "/review");
    assert_eq!(review.body.matches("class=\"ok\"").count(), 4);

    let before = portal.snapshot();
    let signed = desk.post(&cookie, "/sign", &[]);
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert!(signed.body.contains("id=\"signed\""));
    assert!(signed.body.contains("id=\"build\""));
    assert_ne!(portal.snapshot(), before);
    assert_eq!(read(&draft_path(&portal)).trim(), "");
    portal.run(&["verify"]).assert().success();
    let ledger = read(&portal.segment());
    assert!(ledger.contains("Nguyễn Văn An") && !ledger.contains("045190001234"));
    assert_eq!(
        read(&portal.ledger().join("checkpoint")).lines().nth(1),
        Some("6")
    );

    // A correction shows the entry as it stands and amends what changed.
    let form = desk.get(&cookie, "/record/correction?target=3");
    assert!(
        form.body
            .contains("name=\"amend.amount\" value=\"2000000\""),
        "{}",
        form.body
    );
    ok(desk.post(
        &cookie,
        "/record/correction",
        &[
            ("target", "3"),
            ("reason", "Nhập sai số tiền"),
            ("amend.fund", "bao-so-5"),
            ("amend.donor", "Nguyễn Văn An"),
            ("amend.amount", "2.500.000"),
            ("amend.date", "2025-09-12"),
            ("amend.channel", "cash"),
            ("amend.ref", "BN-0001"),
        ],
    ));
    assert!(read(&draft_path(&portal)).contains(r#""amend":{"amount":2500000}"#));
    let signed = desk.post(&cookie, "/sign", &[]);
    assert_eq!(signed.status, 200, "{}", signed.body);
    portal.run(&["verify"]).assert().success();
    let site = portal.root().join("public");
    let all_html: String = walkdir::WalkDir::new(&site)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| read(e.path()))
        .collect();
    for shown in ["Nguyễn Văn An", "2.500.000", "Tạm ứng sửa nhà", "bao-so-5"] {
        assert!(all_html.contains(shown), "the site does not show {shown}");
    }
    let lookup = desk.get(&cookie, "/lookup?q=nguyen+van+an");
    assert!(lookup.body.contains("BN-0001"), "{}", lookup.body);
    // A household's page as the public will see it, from the desk.
    let lookup = desk.get(&cookie, "/lookup?q=qt-0001");
    let preview = format!("/site{}", routes::household("qt-0001"));
    assert!(
        lookup.body.contains(&format!("href=\"{preview}\"")),
        "{}",
        lookup.body
    );
    let page = desk.get(&cookie, &preview);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Lê Thị Hoa") || page.body.contains("L. T. H"),
        "{}",
        page.body
    );
    assert!(page.body.contains("/site/style.css") || page.body.contains("/site/"));
    assert_eq!(
        desk.get("", &preview).status,
        401,
        "the preview needs the session"
    );
}

#[test]
fn desk_a_refused_entry_is_not_drafted_and_output_is_escaped() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let refused = desk.post(
        &cookie,
        "/record/donation",
        &[
            ("fund", "<script>alert(1)</script>"),
            ("donor", "x"),
            ("amount", "1000"),
            ("date", "2025-09-12"),
            ("channel", "cash"),
        ],
    );
    assert_eq!(refused.status, 422);
    assert!(!refused.body.contains("<script>alert(1)"));
    assert!(!draft_path(&portal).exists());
    minhbach()
        .current_dir(portal.root())
        .arg("verify")
        .assert()
        .success();
}

/// A small JPEG carrying an EXIF segment with a GPS-like marker.
fn jpeg_with_exif() -> Vec<u8> {
    let image = image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
    let mut jpeg = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let payload = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0GPS 16.8163N 107.1003E";
    let mut segment = vec![0xFF, 0xE1];
    segment.extend(((payload.len() + 2) as u16).to_be_bytes());
    segment.extend_from_slice(payload);
    let mut out = jpeg[..2].to_vec();
    out.extend(segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----deskboundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, filename, bytes) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn desk_progress_photos_are_stripped_staged_by_content_and_signed() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let csrf = csrf_of(&desk.get(&cookie, "/record/progress").body);
    let origin = desk.origin();
    let photo = jpeg_with_exif();
    let post = |files: &[(&str, &str, &[u8])]| {
        let (content_type, body) = multipart(
            &[
                ("csrf", &csrf),
                ("household", "qt-0001"),
                ("date", "2025-09-20"),
                ("stage", "started"),
                ("caption", "Khởi công"),
                ("note", ""),
            ],
            files,
        );
        desk.request(
            "POST",
            "/record/progress",
            &[
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", &content_type),
            ],
            &body,
        )
    };
    // Not an image: refused, nothing staged.
    let refused = post(&[("photos", "../../ledger/evil.jpg", b"not an image at all")]);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(!draft_path(&portal).exists());

    let recorded = post(&[("photos", "../../ledger/nha.jpg", &photo)]);
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    let uploads = portal.root().join(".minhbach/desk/uploads");
    let staged: Vec<_> = std::fs::read_dir(&uploads)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(staged.len(), 1, "{staged:?}");
    let name = staged[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(name.ends_with(".jpg") && name.len() == 68, "{name}");
    let bytes = std::fs::read(&staged[0]).unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8]));
    assert!(!bytes.windows(4).any(|w| w == b"Exif") && !bytes.windows(3).any(|w| w == b"GPS"));
    assert!(
        !portal.ledger().join("evil.jpg").exists() && !portal.ledger().join("nha.jpg").exists()
    );
    assert!(read(&draft_path(&portal)).contains(&name));

    let signed = desk.post(&cookie, "/sign", &[]);
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(
        std::fs::read(portal.ledger().join("media").join(&name)).unwrap(),
        bytes
    );
    assert!(!staged[0].exists(), "staged photos are removed once signed");
    portal.run(&["verify"]).assert().success();
}

// ---- in Chromium, as an officer --------------------------------------------

/// The desk in a browser: fills and submits forms as an officer would.
struct Officer {
    browser: Chromium,
    base: String,
    axe: String,
    problems: Vec<String>,
}

impl Officer {
    /// Opens `path` and waits for it to load.
    fn open(&mut self, path: &str) {
        self.browser.navigate(&format!("{}{path}", self.base));
        self.settle();
    }

    fn settle(&mut self) {
        std::thread::sleep(Duration::from_millis(300));
        self.browser
            .wait_for("document.readyState === 'complete' && !window.__leaving");
    }

    /// Fills `form[data-kind=KIND]` (radios by value) and submits it with its button.
    fn submit(&mut self, kind: &str, fields: serde_json::Value) {
        self.submit_with(kind, fields, "button#record");
    }

    /// Fills `form[data-kind=KIND]` and presses the button at `button`.
    fn submit_with(&mut self, kind: &str, fields: serde_json::Value, button: &str) {
        let script = format!(
            "(() => {{ const form = document.querySelector('form[data-kind={kind}]'); \
             if (!form) throw new Error('no form {kind}'); \
             for (const [name, value] of Object.entries({fields})) {{ \
               const input = form.elements[name]; \
               if (!input) throw new Error('no input ' + name); \
               if (input instanceof RadioNodeList) {{ for (const r of input) r.checked = r.value === value; }} \
               else input.value = value; }} \
             const button = form.querySelector('{button}'); \
             if (!button) throw new Error('no button {button}'); \
             if (!button.formNoValidate && !form.checkValidity()) throw new Error('invalid form {kind}'); \
             window.__leaving = true; button.click(); return true; }})()"
        );
        self.browser.eval(&script);
        self.settle();
    }

    /// Chooses `file` in the file input at `selector`, as a person would.
    fn set_file(&mut self, selector: &str, file: &Path) {
        let document = self.browser.call("DOM.getDocument", json!({}), true);
        let input = self.browser.call(
            "DOM.querySelector",
            json!({"nodeId": document["root"]["nodeId"], "selector": selector}),
            true,
        );
        self.browser.call(
            "DOM.setFileInputFiles",
            json!({"nodeId": input["nodeId"], "files": [file.to_str().unwrap()]}),
            true,
        );
    }

    /// With `MINHBACH_DESK_SCREENSHOTS=DIR`, saves the page as
    /// `DIR/desk-NAME.png` (the README's screenshots are made this way).
    fn screenshot(&mut self, name: &str) {
        let Some(dir) = std::env::var_os("MINHBACH_DESK_SCREENSHOTS") else {
            return;
        };
        use base64::Engine;
        let height = self
            .browser
            .eval("document.documentElement.scrollHeight")
            .as_u64()
            .unwrap_or(800);
        let shot = self.browser.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": 360, "height": height.min(2400), "scale": 1}}),
            true,
        );
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(PathBuf::from(dir).join(format!("desk-{name}.png")), bytes).unwrap();
    }

    fn path(&mut self) -> String {
        self.browser
            .eval("location.pathname")
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    fn text(&mut self) -> String {
        self.browser
            .eval("document.body.innerText")
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Checks the page at 360 px: no sideways scrolling, no serious axe finding.
    fn check_page(&mut self, name: &str) {
        let width = self.browser.eval("document.documentElement.scrollWidth");
        if width.as_u64().unwrap_or(0) > 360 {
            self.problems
                .push(format!("{name}: {width} px wide at 360 px"));
        }
        if self.browser.eval("typeof axe") != json!("object") {
            self.browser.eval(&format!("{};\n1", self.axe));
        }
        let report = self.browser.eval(
            "axe.run(document, {resultTypes: ['violations']}).then(r => ({passes: r.passes.length, \
             serious: r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical') \
             .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3) \
               .map(n => n.target.join(' ')).join(', ')}`)}))",
        );
        assert!(
            report["passes"].as_u64().unwrap_or(0) > 5,
            "{name}: {report}"
        );
        for violation in report["serious"].as_array().expect("a list") {
            self.problems
                .push(format!("{name}: axe: {}", violation.as_str().unwrap_or("")));
        }
    }
}

#[test]
fn desk_in_chromium_an_officer_records_uploads_corrects_and_signs() {
    let axe_file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/browser/node_modules/axe-core/axe.min.js");
    let (Some(binary), true) = (chromium_binary(), axe_file.is_file()) else {
        assert!(
            !required(),
            "Chromium and axe-core are required (install `chromium`; `npm ci --prefix tests/browser`)"
        );
        eprintln!("desk: Chromium or axe-core missing; the browser test did not run");
        return;
    };
    let portal = TestPortal::new();
    let photo_dir = tempfile::tempdir().unwrap();
    let photo = photo_dir.path().join("nha-truoc.jpg");
    std::fs::write(&photo, jpeg_with_exif()).unwrap();
    let desk = Desk::start(&portal);
    let mut browser = Chromium::launch(&binary);
    // axe is injected by the test: the desk's own policy allows no script.
    browser.call("Page.setBypassCSP", json!({"enabled": true}), true);
    browser.set_width(360);
    let mut officer = Officer {
        browser,
        base: desk.origin(),
        axe: std::fs::read_to_string(&axe_file).unwrap(),
        problems: Vec::new(),
    };
    officer.open(&format!("/?token={}", desk.token));
    assert_eq!(officer.path(), "/");
    officer.check_page("home");
    officer.screenshot("home");

    officer.open("/record/fund");
    officer.check_page("fund form");
    let fund = json!({"id": "lu-2025", "name": "Cứu trợ lũ 2025", "description": "Quỹ cứu trợ lũ",
           "target": "100.000.000",
           "accounts[0].bank_bin": "970436", "accounts[0].number": "0071000123456",
           "accounts[0].holder": "UBMTTQ XA VINH LINH",
           "accounts[1].bank_bin": "970415", "accounts[1].number": "113000006100",
           "accounts[1].holder": "UBMTTQ XA VINH LINH"});
    // The VietQR code of each account, before anything is recorded.
    officer.submit_with("fund", fund.clone(), "button#preview-qr");
    assert_eq!(
        officer.browser.eval(
            "document.querySelectorAll('fieldset.account img[src^=\"data:image/svg+xml\"]').length"
        ),
        json!(2),
        "{}",
        officer.text()
    );
    officer.check_page("fund form with VietQR codes");
    officer.screenshot("fund");
    officer.submit("fund", fund);
    assert_eq!(officer.path(), "/review", "{}", officer.text());
    officer.check_page("review");

    officer.open("/record/donation");
    officer.check_page("donation form");
    officer.screenshot("donation");
    officer.submit(
        "donation",
        json!({"fund": "lu-2025", "donor": "Trần Thị Bình", "amount": "3.000.000",
               "date": "2025-09-15", "channel": "cash", "ref": "PT-0001"}),
    );
    assert_eq!(officer.path(), "/review");

    // The import wizard: a statement of the fund's first account, its
    // layout suggested, reconciled in rows and đồng; a rejected row fixed,
    // the other skipped.
    officer.open("/import");
    officer.check_page("import form");
    let statement = photo_dir.path().join("sao-ke.csv");
    std::fs::write(&statement, messy_statement()).unwrap();
    officer.set_file("input[type=file][name=statement]", &statement);
    officer.browser.eval(
        "document.querySelector('#fund').value = 'lu-2025'; \
         document.querySelector('#account').value = '0071000123456'; window.__leaving = true; \
         document.querySelector('button#preview').click(); 1",
    );
    officer.settle();
    let count = |officer: &mut Officer, what: &str| {
        officer.browser.eval(&format!(
            "[document.querySelector('[data-count={what}]').textContent, \
              document.querySelector('[data-dong={what}]').textContent].join(' ')"
        ))
    };
    assert_eq!(
        count(&mut officer, "added"),
        json!("3 1.250.000 ₫"),
        "{}",
        officer.text()
    );
    assert_eq!(count(&mut officer, "read"), json!("7 1.565.000 ₫"));
    assert_eq!(count(&mut officer, "rejected"), json!("2 300.000 ₫"));
    assert_eq!(
        officer
            .browser
            .eval("document.querySelector('#layout-used').textContent"),
        json!("Vietcombank")
    );
    officer.check_page("import preview");
    officer.screenshot("import");
    officer.browser.eval(
        "document.querySelector('form[data-fix=\"12\"]').closest('details').open = true; \
         document.querySelector('#fix-12-1').value = '12/09/2025'; window.__leaving = true; \
         document.querySelector('button#fix-12').click(); 1",
    );
    officer.settle();
    assert_eq!(
        count(&mut officer, "added"),
        json!("4 1.550.000 ₫"),
        "{}",
        officer.text()
    );
    assert_eq!(count(&mut officer, "rejected"), json!("1 0 ₫"));
    officer.check_page("import preview, a row fixed");
    officer.screenshot("import-fixed");
    officer.browser.eval(
        "document.querySelector('#skip-rejected').checked = true; window.__leaving = true; \
         document.querySelector('button#accept').click(); 1",
    );
    officer.settle();
    assert_eq!(officer.path(), "/review", "{}", officer.text());

    officer.open("/record/household");
    officer.check_page("household form");
    officer.screenshot("household");
    officer.submit(
        "household",
        json!({"id": "vl-0007", "head": "Hồ Văn Dũng", "province": "Quảng Trị",
               "commune": "xã Vĩnh Linh", "village": "thôn Tân An", "circumstances": "Nhà tạm, mái dột",
               "support": "new", "planned": "60.000.000", "photo_consent": "true",
               "citizen_id": "045190009876", "phone": "0987654321"}),
    );
    assert_eq!(officer.path(), "/review");

    officer.open("/record/progress");
    officer.check_page("progress form");
    officer.set_file("input[type=file][name=photos]", &photo);
    officer.submit(
        "progress",
        json!({"household": "vl-0007", "date": "2025-09-16", "stage": "approved", "caption": "Nhà trước khi xây"}),
    );
    assert_eq!(officer.path(), "/review", "{}", officer.text());

    officer.open("/record/disbursement?q=dung+vinh");
    officer.check_page("disbursement form");
    assert!(officer.text().contains("Hồ Văn Dũng"));
    officer.submit(
        "disbursement",
        json!({"fund": "lu-2025", "amount": "9.000.000", "date": "2025-09-17",
               "household": "vl-0007", "purpose": "Hỗ trợ xây nhà"}),
    );
    assert_eq!(
        officer.path(),
        "/record/disbursement",
        "an overdraft is refused"
    );
    assert!(officer.text().contains("4.550.000"), "{}", officer.text());
    officer.check_page("refused disbursement");
    officer.screenshot("overdraft");
    officer.submit(
        "disbursement",
        json!({"fund": "lu-2025", "amount": "2.000.000", "date": "2025-09-17",
               "household": "vl-0007", "purpose": "Hỗ trợ xây nhà đợt 1"}),
    );
    assert_eq!(officer.path(), "/review");
    assert_eq!(
        officer
            .browser
            .eval("document.querySelectorAll('#draft li.ok').length"),
        json!(9)
    );
    // A restart between recording and signing keeps the draft.
    drop(desk);
    let desk = Desk::start(&portal);
    officer.base = desk.origin();
    officer.open(&format!("/?token={}", desk.token));
    officer.open("/review");
    assert_eq!(
        officer
            .browser
            .eval("document.querySelectorAll('#draft li.ok').length"),
        json!(9),
        "{}",
        officer.text()
    );
    officer.check_page("review with draft");
    officer.screenshot("review");

    officer
        .browser
        .eval("window.__leaving = true; document.querySelector('button#sign').click(); 1");
    officer.settle();
    assert!(officer.text().contains("Đã ký"), "{}", officer.text());
    officer.check_page("signed");
    officer.screenshot("signed");

    officer.open("/record/correction?target=3");
    officer.check_page("correction form");
    officer.screenshot("correction");
    assert!(officer.text().contains("Trần Thị Bình"));
    officer.submit(
        "correction",
        json!({"reason": "Ghi sai tên người ủng hộ", "amend.donor": "Trần Thị Bình An"}),
    );
    assert_eq!(officer.path(), "/review");
    officer
        .browser
        .eval("window.__leaving = true; document.querySelector('button#sign').click(); 1");
    officer.settle();
    assert!(officer.text().contains("Đã ký"), "{}", officer.text());

    officer.open("/lookup?q=binh+an");
    officer.check_page("lookup");
    assert!(officer.text().contains("PT-0001"));

    let problems = std::mem::take(&mut officer.problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    portal.run(&["verify"]).assert().success();
    let site = portal.root().join("public");
    let html: String = walkdir::WalkDir::new(&site)
        .into_iter()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .map(|e| read(e.path()))
        .collect();
    for shown in [
        "Cứu trợ lũ 2025",
        "Trần Thị Bình An",
        "Hỗ trợ xây nhà đợt 1",
        "vl-0007",
        "PHAM THI CUC",
        "0071000123456",
        "113000006100",
    ] {
        assert!(html.contains(shown), "the built site does not show {shown}");
    }
    assert!(
        std::fs::read_dir(portal.ledger().join("media"))
            .unwrap()
            .count()
            == 1
    );
}

#[test]
fn desk_import_wizard_suggests_a_layout_reconciles_and_drafts_only_new_rows() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let statement = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/vietcombank.csv"),
    )
    .unwrap();
    let csrf = csrf_of(&desk.get(&cookie, "/import").body);
    let origin = desk.origin();
    let upload = || {
        let (content_type, body) = multipart(
            &[
                ("csrf", &csrf),
                ("what", "donations"),
                ("fund", "bao-so-5"),
                ("layout", "auto"),
            ],
            &[("statement", "../sao-ke.csv", &statement)],
        );
        desk.request(
            "POST",
            "/import",
            &[
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", &content_type),
            ],
            &body,
        )
    };
    let before = portal.snapshot();
    let preview = upload();
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("id=\"layout-used\">Vietcombank<"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("NGUYEN VAN AN"),
        "the layout finds the donor"
    );
    assert!(
        preview.body.contains("data-count=\"read\">4<"),
        "{}",
        preview.body
    );
    assert!(
        preview.body.contains("data-count=\"added\">3<")
            && preview.body.contains("data-dong=\"added\">1.250.000 ₫<"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("data-dong=\"read\">1.265.000 ₫<"));
    assert!(preview.body.contains("data-count=\"debits\">1<"));
    assert!(preview.body.contains("id=\"sample\""), "{}", preview.body);
    assert!(!draft_path(&portal).exists(), "a preview keeps nothing");
    let staged = std::fs::read_dir(portal.root().join(".minhbach/desk/statements"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert_eq!(staged.len(), 1);
    assert!(
        staged[0].len() == 68 && staged[0].ends_with(".csv"),
        "{staged:?}"
    );
    let accepted = desk.post(
        &cookie,
        "/import/accept",
        &[
            ("file", &staged[0]),
            ("what", "donations"),
            ("fund", "bao-so-5"),
            ("layout", "vietcombank"),
        ],
    );
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    assert_eq!(read(&draft_path(&portal)).lines().count(), 3);
    // The same statement again: everything is already recorded (in the draft).
    let again = upload();
    assert!(
        again.body.contains("data-count=\"added\">0<"),
        "{}",
        again.body
    );
    assert!(
        again.body.contains("data-count=\"recorded\">3<")
            && again.body.contains("data-dong=\"recorded\">1.250.000 ₫<"),
        "{}",
        again.body
    );
    assert_eq!(portal.snapshot(), before);
    let signed = desk.post(&cookie, "/sign", &[]);
    assert_eq!(signed.status, 200, "{}", signed.body);
    portal.run(&["verify"]).assert().success();
}

#[test]
fn desk_and_append_on_one_portal_lose_and_interleave_nothing() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let donation = |donor: &'static str| {
        vec![
            ("fund", "bao-so-5"),
            ("donor", donor),
            ("amount", "100.000"),
            ("date", "2025-09-15"),
            ("channel", "cash"),
        ]
    };
    assert_eq!(
        desk.post(&cookie, "/record/donation", &donation("Desk One"))
            .status,
        303
    );
    // Another officer appends from the command line meanwhile.
    portal
        .append(r#"{"kind":"donation","fund":"bao-so-5","donor":"Cli Two","amount":200000,"date":"2025-09-15","channel":"cash"}"#)
        .assert()
        .success();
    assert_eq!(
        desk.post(&cookie, "/record/donation", &donation("Desk Three"))
            .status,
        303
    );
    let signed = desk.post(&cookie, "/sign", &[]);
    assert_eq!(signed.status, 200, "{}", signed.body);
    portal.run(&["verify"]).assert().success();
    let ledger = read(&portal.segment());
    let order: Vec<usize> = ["Desk One", "Cli Two", "Desk Three"]
        .iter()
        .map(|donor| ledger.find(donor).expect("every entry kept"))
        .collect();
    assert!(
        order[1] < order[0] && order[0] < order[2],
        "the desk's batch is signed after, in one piece"
    );
    assert_eq!(
        read(&portal.ledger().join("checkpoint")).lines().nth(1),
        Some("11")
    );
}

#[test]
fn desk_a_draft_signed_just_before_a_stop_is_not_offered_again() {
    use sha2::Digest;
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let fields = [
        ("fund", "bao-so-5"),
        ("donor", "Phan Văn Cường"),
        ("amount", "300.000"),
        ("date", "2025-09-15"),
        ("channel", "cash"),
    ];
    assert_eq!(desk.post(&cookie, "/record/donation", &fields).status, 303);
    let draft = std::fs::read(draft_path(&portal)).unwrap();
    assert_eq!(desk.post(&cookie, "/sign", &[]).status, 200);
    drop(desk);
    // As if the desk had stopped after signing entry 8 but before clearing
    // the draft: the draft is back, with the marker written before signing.
    std::fs::write(draft_path(&portal), &draft).unwrap();
    let digest: String = sha2::Sha256::digest(&draft)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    std::fs::write(
        portal.root().join(".minhbach/desk/signing.json"),
        format!(r#"{{"first_seq":8,"count":1,"draft":"{digest}"}}"#),
    )
    .unwrap();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    assert!(desk.get(&cookie, "/review").body.contains("id=\"empty\""));
    assert_eq!(read(&portal.segment()).matches("Phan Văn Cường").count(), 1);
}

#[test]
fn desk_a_household_correction_commits_a_new_citizen_id_and_never_shows_one() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    // Entries 0–1 are the keys; the sample's household is entry 5.
    let form = desk.get(&cookie, "/record/correction?target=5");
    assert!(
        form.body.contains("name=\"amend.citizen_id\" value=\"\""),
        "{}",
        form.body
    );
    assert!(!form.body.contains("045190001234"));
    let recorded = desk.post(
        &cookie,
        "/record/correction",
        &[
            ("target", "5"),
            ("reason", "Nhập sai số CCCD"),
            ("amend.citizen_id", "045190005678"),
        ],
    );
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    let draft = read(&draft_path(&portal));
    // The draft keeps no digit of a citizen ID, only its commitment (and
    // the old entry's digits, if any, are cleared).
    assert!(draft.contains("citizen_id_hmac") && draft.contains(r#""citizen_id_last4":null"#));
    assert!(!draft.contains("045190005678"));
    assert!(!desk.get(&cookie, "/review").body.contains("045190005678"));
}

#[test]
fn desk_listens_on_a_given_address_only() {
    let portal = TestPortal::new();
    portal
        .run(&[
            "desk",
            "--listen",
            "0.0.0.0",
            "--key",
            portal.officer_key.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("office network"));
}

#[test]
fn desk_refuses_to_start_with_a_key_that_may_not_sign() {
    let portal = TestPortal::new();
    let stranger = portal.dir.path().join("keys/stranger.key");
    minhbach()
        .args(["key", "new", "--name", "stranger", "--out"])
        .arg(&stranger)
        .assert()
        .success();
    portal
        .run(&["desk", "--port", "0", "--key", stranger.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicates::str::contains("cannot sign"));
}

#[test]
fn desk_an_upload_with_a_wrong_csrf_token_stages_nothing() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let origin = desk.origin();
    let (content_type, body) = multipart(
        &[
            ("csrf", "forged"),
            ("household", "qt-0001"),
            ("date", "2025-09-20"),
            ("stage", "started"),
        ],
        &[("photos", "nha.jpg", &jpeg_with_exif())],
    );
    for path in ["/record/progress", "/import"] {
        let response = desk.request(
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", &content_type),
            ],
            &body,
        );
        assert_eq!(response.status, 403, "{path}");
    }
    assert!(
        !portal.root().join(".minhbach/desk").exists(),
        "nothing staged, no draft"
    );
}

#[test]
fn desk_two_desks_on_one_portal_lose_no_draft_entry() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desks = [Desk::start(&portal), Desk::start(&portal)];
    let cookies: Vec<String> = desks.iter().map(Desk::login).collect();
    std::thread::scope(|scope| {
        for (desk, cookie) in desks.iter().zip(&cookies) {
            for thread in 0..2 {
                scope.spawn(move || {
                    for n in 0..4 {
                        let donor = format!("{} {thread} {n}", desk.host);
                        let response = desk.post(
                            cookie,
                            "/record/donation",
                            &[
                                ("fund", "bao-so-5"),
                                ("donor", &donor),
                                ("amount", "10.000"),
                                ("date", "2025-09-15"),
                                ("channel", "cash"),
                            ],
                        );
                        assert_eq!(response.status, 303, "{}", response.body);
                    }
                });
            }
        }
    });
    assert_eq!(read(&draft_path(&portal)).lines().count(), 16);
    assert_eq!(desks[0].post(&cookies[0], "/sign", &[]).status, 200);
    portal.run(&["verify"]).assert().success();
    assert_eq!(read(&portal.segment()).lines().count(), 8 + 16);
}

#[test]
fn desk_a_one_time_link_for_a_phone_and_a_roster_through_the_wizard() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let access = desk.post(&cookie, "/access", &[]);
    assert_eq!(access.status, 200, "{}", access.body);
    assert!(
        access.body.contains("data:image/svg+xml;base64,"),
        "a QR code"
    );
    let start = access.body.find("?token=").expect("a link") + 7;
    let token: String = access.body[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let phone = desk.request("GET", &format!("/?token={token}"), &[], b"");
    assert_eq!(phone.status, 303, "the new link opens a session");

    let roster = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import/households.csv"),
    )
    .unwrap();
    let csrf = csrf_of(&desk.get(&cookie, "/import").body);
    let origin = desk.origin();
    let (content_type, body) = multipart(
        &[
            ("csrf", &csrf),
            ("what", "households"),
            ("fund", ""),
            ("layout", "headers"),
        ],
        &[("statement", "danh-sach.csv", &roster)],
    );
    let preview = desk.request(
        "POST",
        "/import",
        &[
            ("Cookie", &cookie),
            ("Origin", &origin),
            ("Content-Type", &content_type),
        ],
        &body,
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview.body.contains("id=\"reconciliation\""),
        "{}",
        preview.body
    );
    let start = preview.body.find("name=\"file\" value=\"").unwrap() + 19;
    let file = preview.body[start..start + 68].to_string();
    let accepted = desk.post(
        &cookie,
        "/import/accept",
        &[
            ("file", &file),
            ("what", "households"),
            ("fund", ""),
            ("layout", "headers"),
        ],
    );
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let draft = read(&draft_path(&portal));
    assert!(draft.lines().count() >= 1 && draft.contains("citizen_id_hmac"));
    assert!(!draft.contains("045190000101") && !draft.contains("0912000101"));
    assert_eq!(desk.post(&cookie, "/sign", &[]).status, 200);
    portal.run(&["verify"]).assert().success();
}

#[test]
fn desk_fund_form_takes_several_accounts_each_with_its_vietqr_preview() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let form = desk.get(&cookie, "/record/fund");
    assert!(form.body.contains("name=\"accounts[0].bank_bin\""));
    assert!(form.body.contains("name=\"accounts[1].number\""));
    // "Add an account": the form again, one group more, nothing recorded.
    let mut fields = fund_fields();
    fields.push(("action", "more"));
    let more = desk.post(&cookie, "/record/fund", &fields);
    assert_eq!(more.status, 200, "{}", more.body);
    assert!(
        more.body.contains("name=\"accounts[2].holder\""),
        "{}",
        more.body
    );
    assert!(more.body.contains("value=\"0071000123456\""));
    // "Preview": a VietQR code per account given, decodable to its account.
    let mut fields = fund_fields();
    fields.push(("action", "preview"));
    let preview = desk.post(&cookie, "/record/fund", &fields);
    assert_eq!(preview.status, 200);
    let codes: Vec<&str> = preview
        .body
        .split("src=\"data:image/svg+xml;base64,")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(codes.len(), 2, "{}", preview.body);
    use base64::Engine;
    let svg = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(codes[1])
            .unwrap(),
    )
    .unwrap();
    assert!(
        svg.contains("0071000123456"),
        "the code's title names its account"
    );
    assert!(!draft_path(&portal).exists(), "previews record nothing");
    // A bad BIN is said at once, beside its account.
    let mut fields = fund_fields();
    fields[4] = ("accounts[0].bank_bin", "97041");
    fields.push(("action", "preview"));
    let bad = desk.post(&cookie, "/record/fund", &fields);
    assert!(bad.body.contains("No VietQR code"), "{}", bad.body);

    let recorded = desk.post(&cookie, "/record/fund", &fund_fields());
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    let draft = read(&draft_path(&portal));
    assert!(
        draft.contains(r#""accounts":[{"bank_bin":"970415","number":"113000006100""#)
            && draft.contains(r#"{"bank_bin":"970436","number":"0071000123456""#),
        "{draft}"
    );
    assert_eq!(desk.post(&cookie, "/sign", &[]).status, 200);
    portal.run(&["verify"]).assert().success();
    let segment = read(&portal.segment());
    assert!(segment.contains("\"accounts\":[") && segment.contains("0071000123456"));
}

/// A Vietcombank-style statement of one of a fund's two accounts: three
/// credits, a debit, a zero line, a bad amount and an impossible date.
fn messy_statement() -> Vec<u8> {
    let rows = [
        "NGÂN HÀNG TMCP NGOẠI THƯƠNG VIỆT NAM;;;;;",
        "SAO KÊ TÀI KHOẢN / ACCOUNT STATEMENT;;;;;",
        "Số tài khoản: 0071000123456;;;;;",
        "Từ ngày 10/09/2025 đến ngày 12/09/2025;;;;;",
        ";;;;;",
        "STT;Ngày giao dịch;Số tham chiếu;Số tiền ghi có;Số tiền ghi nợ;Mô tả",
        "1;10/09/2025;5213.20250910.101;1.000.000;;MBVCB.6903.NGUYEN VAN AN chuyen tien ung ho",
        "2;10/09/2025;5213.20250910.102;50.000;;LE THI HOA ung ho MTTQ",
        "3;11/09/2025;5213.20250911.201;;15.000;Phi dich vu SMS Banking",
        "4;11/09/2025;5213.20250911.202;0;;Dieu chinh",
        "5;11/09/2025;5213.20250911.203;12,5x;;TRAN VAN BA ung ho",
        "6;31/02/2025;5213.20250911.204;300.000;;PHAM THI CUC ung ho",
        "7;12/09/2025;5213.20250912.301;200.000;;ung ho dong bao mien Bac",
        "Tổng cộng;;;1.550.000;15.000;",
    ];
    (rows.join("\n") + "\n").into_bytes()
}

#[test]
fn desk_import_wizard_picks_the_account_reconciles_in_dong_and_fixes_or_skips_rejected_rows() {
    let portal = TestPortal::new();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    assert_eq!(
        desk.post(&cookie, "/record/fund", &fund_fields()).status,
        303
    );
    let csrf = csrf_of(&desk.get(&cookie, "/import").body);
    let origin = desk.origin();
    let statement = messy_statement();
    let upload = |account: &str| {
        let (content_type, body) = multipart(
            &[
                ("csrf", &csrf),
                ("what", "donations"),
                ("fund", "bao-so-5"),
                ("account", account),
                ("layout", "vietcombank"),
            ],
            &[("statement", "sao-ke.csv", &statement)],
        );
        desk.request(
            "POST",
            "/import",
            &[
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", &content_type),
            ],
            &body,
        )
    };
    // The import's --account rule: a fund with two accounts needs one, of its own.
    let page = desk.get(&cookie, "/import");
    assert!(
        page.body.contains("<option value=\"0071000123456\""),
        "{}",
        page.body
    );
    let unsaid = upload("");
    assert_eq!(unsaid.status, 422, "{}", unsaid.body);
    assert!(unsaid.body.contains("nhiều tài khoản") && unsaid.body.contains("several accounts"));
    let stranger = upload("999");
    assert_eq!(stranger.status, 422);
    assert!(
        stranger.body.contains("không phải tài khoản"),
        "{}",
        stranger.body
    );

    let preview = upload("0071000123456");
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(preview.body.contains("id=\"account-used\">0071000123456<"));
    let cell = |body: &str, attribute: &str, key: &str| -> String {
        let marker = format!("{attribute}=\"{key}\">");
        let start = body
            .find(&marker)
            .unwrap_or_else(|| panic!("no {marker} in {body}"))
            + marker.len();
        body[start..start + body[start..].find('<').unwrap()].to_string()
    };
    let expect = |body: &str, key: &str, rows: &str, dong: &str| {
        assert_eq!(cell(body, "data-count", key), rows, "{key} rows");
        assert_eq!(cell(body, "data-dong", key), dong, "{key} đồng");
    };
    expect(&preview.body, "read", "7", "1.565.000 ₫");
    expect(&preview.body, "added", "3", "1.250.000 ₫");
    expect(&preview.body, "recorded", "0", "0 ₫");
    expect(&preview.body, "debits", "1", "15.000 ₫");
    expect(&preview.body, "zero", "1", "0 ₫");
    expect(&preview.body, "rejected", "2", "300.000 ₫");
    assert!(preview.body.contains("data-row=\"11\"") && preview.body.contains("data-row=\"12\""));
    assert!(
        preview
            .body
            .contains("name=\"fix.12.1\" value=\"31/02/2025\""),
        "the rejected row's cells, to fix: {}",
        preview.body
    );
    assert!(!draft_path(&portal).exists() || read(&draft_path(&portal)).lines().count() == 1);
    let file = {
        let start = preview.body.find("name=\"file\" value=\"").unwrap() + 19;
        preview.body[start..start + 68].to_string()
    };
    // Fix row 12's date: read again, by the import's own code.
    let fixed = desk.post(
        &cookie,
        "/import/preview",
        &[
            ("file", &file),
            ("what", "donations"),
            ("fund", "bao-so-5"),
            ("account", "0071000123456"),
            ("layout", "vietcombank"),
            ("fixes", ""),
            ("fix.12.0", "6"),
            ("fix.12.1", "12/09/2025"),
            ("fix.12.2", "5213.20250911.204"),
            ("fix.12.3", "300.000"),
            ("fix.12.4", ""),
            ("fix.12.5", "PHAM THI CUC ung ho"),
        ],
    );
    assert_eq!(fixed.status, 200, "{}", fixed.body);
    expect(&fixed.body, "read", "7", "1.565.000 ₫");
    expect(&fixed.body, "added", "4", "1.550.000 ₫");
    expect(&fixed.body, "rejected", "1", "0 ₫");
    let fixes = {
        let start = fixed.body.find("name=\"fixes\" value=\"").unwrap() + 20;
        fixed.body[start..start + fixed.body[start..].find('"').unwrap()]
            .replace("&quot;", "\"")
            .replace("&#x2F;", "/")
            .replace("&#47;", "/")
    };
    assert!(fixes.contains("12/09/2025"), "{fixes}");
    let accept = |skip: &str| {
        desk.post(
            &cookie,
            "/import/accept",
            &[
                ("file", &file),
                ("what", "donations"),
                ("fund", "bao-so-5"),
                ("account", "0071000123456"),
                ("layout", "vietcombank"),
                ("fixes", &fixes),
                ("skip_rejected", skip),
            ],
        )
    };
    // Row 11 is still rejected: it must be skipped knowingly.
    let refused = accept("");
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("bỏ qua"), "{}", refused.body);
    assert_eq!(read(&draft_path(&portal)).lines().count(), 1);
    let accepted = accept("1");
    assert_eq!(accepted.status, 303, "{}", accepted.body);
    let draft = read(&draft_path(&portal));
    assert_eq!(draft.lines().count(), 5, "{draft}");
    assert_eq!(draft.matches(r#""account":"0071000123456""#).count(), 4);
    assert!(draft.contains("PHAM THI CUC") && draft.contains("2025-09-12"));
    assert_eq!(desk.post(&cookie, "/sign", &[]).status, 200);
    portal.run(&["verify"]).assert().success();
    // The CLI agrees: the same statement again adds nothing.
    let path = portal.dir.path().join("sao-ke.csv");
    std::fs::write(&path, &statement).unwrap();
    let again = portal
        .run(&[
            "import",
            "donations",
            path.to_str().unwrap(),
            "--fund",
            "bao-so-5",
            "--account",
            "0071000123456",
            "--map",
            &format!(
                "{}/docs/import/vietcombank.toml",
                env!("CARGO_MANIFEST_DIR")
            ),
            "--skip-invalid",
            portal.dir.path().join("rejects.csv").to_str().unwrap(),
            "--key",
            portal.officer_key.to_str().unwrap(),
        ])
        .assert()
        .success();
    let out = String::from_utf8_lossy(&again.get_output().stdout).to_string();
    assert!(out.contains("0 rows added"), "{out}");
}

#[test]
fn desk_an_oversized_upload_is_refused_and_stages_nothing() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    let csrf = csrf_of(&desk.get(&cookie, "/import").body);
    let origin = desk.origin();
    let huge = vec![b'1'; 17 << 20];
    let before = portal.snapshot();
    for (path, field) in [("/import", "statement"), ("/record/progress", "photos")] {
        let (content_type, body) = multipart(
            &[
                ("csrf", &csrf),
                ("what", "donations"),
                ("fund", "bao-so-5"),
                ("household", "qt-0001"),
                ("date", "2025-09-20"),
                ("stage", "started"),
            ],
            &[(field, "sao-ke.csv", &huge)],
        );
        let response = desk.request(
            "POST",
            path,
            &[
                ("Cookie", &cookie),
                ("Origin", &origin),
                ("Content-Type", &content_type),
            ],
            &body,
        );
        assert_eq!(response.status, 413, "{path}: {}", response.body);
        assert!(response.body.contains("quá lớn"), "{}", response.body);
    }
    assert_eq!(portal.snapshot(), before);
    assert!(
        !portal.root().join(".minhbach/desk").exists(),
        "nothing staged, no draft"
    );
}

#[test]
fn desk_a_fund_correction_adds_a_bank_account() {
    let portal = TestPortal::new();
    portal.append(common::SAMPLE).assert().success();
    let desk = Desk::start(&portal);
    let cookie = desk.login();
    // The sample's fund (entry 2) has the older single `account`.
    let form = desk.get(&cookie, "/record/correction?target=2");
    assert!(
        form.body
            .contains("name=\"amend.accounts[0].number\" value=\"113000006100\""),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains("name=\"amend.accounts[1].number\" value=\"\"")
    );
    assert!(!form.body.contains("id=\"preview-qr\""));
    let recorded = desk.post(
        &cookie,
        "/record/correction",
        &[
            ("target", "2"),
            ("reason", "Mở thêm tài khoản Vietcombank"),
            ("amend.accounts[0].bank_bin", "970415"),
            ("amend.accounts[0].number", "113000006100"),
            ("amend.accounts[0].holder", "UBMTTQ TINH QUANG TRI"),
            ("amend.accounts[1].bank_bin", "970436"),
            ("amend.accounts[1].number", "0071000123456"),
            ("amend.accounts[1].holder", "UBMTTQ TINH QUANG TRI"),
        ],
    );
    assert_eq!(recorded.status, 303, "{}", recorded.body);
    let draft = read(&draft_path(&portal));
    assert!(
        draft.contains(r#""account":null"#) && draft.contains("0071000123456"),
        "{draft}"
    );
    assert_eq!(desk.post(&cookie, "/sign", &[]).status, 200);
    portal.run(&["verify"]).assert().success();
    // The wizard now asks which account a statement is of.
    let form = desk.get(&cookie, "/import");
    assert!(
        form.body.contains("<option value=\"0071000123456\""),
        "{}",
        form.body
    );
}
