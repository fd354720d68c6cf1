//! The CLI contract other tools and tests rely on.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn warta(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warta"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn user_add_then_audit_verify_detects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let o = warta(
        &[
            "user",
            "add",
            "--data",
            data,
            "kepala",
            "--role",
            "admin,official",
            "--password-stdin",
        ],
        "rahasia-sekali\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("added user kepala"));

    let o = warta(
        &[
            "user",
            "add",
            "--data",
            data,
            "x",
            "--role",
            "root",
            "--password-stdin",
        ],
        "rahasia-sekali\n",
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("unknown role \"root\""), "{}", text(&o));

    let o = warta(
        &[
            "user",
            "add",
            "--data",
            data,
            "kepala",
            "--role",
            "editor",
            "--password-stdin",
        ],
        "rahasia-sekali\n",
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("taken"), "{}", text(&o));

    let o = warta(&["audit", "verify", "--data", data], "");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("intact: 1 entries"), "{}", text(&o));

    let db = rusqlite::Connection::open(dir.path().join("warta.db")).unwrap();
    db.execute("UPDATE audit SET data = '{}' WHERE seq = 1", [])
        .unwrap();
    let o = warta(&["audit", "verify", "--data", data], "");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("BROKEN at entry 1"), "{}", text(&o));

    let o = warta(&["audit", "verify", "--data", "/nonexistent/warta"], "");
    assert!(!o.status.success());
    assert!(text(&o).contains("no Warta data"), "{}", text(&o));
}

#[test]
fn sop_check_accepts_the_shipped_sops_and_names_problems() {
    let sops = repo().join("sops");
    let files: Vec<String> = ["sop-a.toml", "sop-b.toml", "sop-c.toml", "sop-d.toml"]
        .iter()
        .map(|f| sops.join(f).to_string_lossy().into_owned())
        .collect();
    let args: Vec<&str> = std::iter::once("sop")
        .chain(std::iter::once("check"))
        .chain(files.iter().map(String::as_str))
        .collect();
    let o = warta(&args, "");
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o).matches(": ok").count(), 4);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let a = std::fs::read_to_string(sops.join("sop-a.toml")).unwrap();
    // Make the editor's step act as a role the SOP does not have.
    let broken = a.replacen("actor = \"editor\"", "actor = \"ghost\"", 1);
    assert_ne!(a, broken);
    std::fs::write(&bad, broken).unwrap();
    let o = warta(&["sop", "check", bad.to_str().unwrap()], "");
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(out.contains("bad.toml"), "{out}");
    assert!(out.contains("\"ghost\""), "{out}");
    assert!(out.contains("step \""), "{out}");
}

#[test]
fn sop_print_follows_the_definition_file_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let a = std::fs::read_to_string(repo().join("sops/sop-a.toml")).unwrap();
    // An office's own edit of the definition: the print must show it, not the shipped text.
    let edited = a
        .replace(
            "Filtering (penyaringan) informasi sebelum ditampilkan pada website",
            "Penyaringan berita oleh Sekretaris Dinas",
        )
        .replacen("time = \"1h\"", "time = \"2d\"", 1);
    assert_ne!(a, edited);
    let def = dir.path().join("sop-a.toml");
    std::fs::write(&def, edited).unwrap();

    let csv = dir.path().join("sop.csv");
    let o = warta(
        &[
            "sop",
            "print",
            def.to_str().unwrap(),
            "--format",
            "csv",
            "-o",
            csv.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let body = std::fs::read_to_string(&csv).unwrap();
    let review = body
        .lines()
        .find(|l| l.starts_with("4,"))
        .expect("step 4's row");
    assert!(
        review.contains("Penyaringan berita oleh Sekretaris Dinas"),
        "{review}"
    );
    assert!(review.contains("2 hari kerja"), "{review}");

    let pdf = dir.path().join("sop.pdf");
    let o = warta(
        &[
            "sop",
            "print",
            def.to_str().unwrap(),
            "--format",
            "pdf",
            "--lang",
            "en",
            "-o",
            pdf.to_str().unwrap(),
        ],
        "",
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let words = String::from_utf8(out.stdout).unwrap();
    assert!(words.contains("Website content management"), "{words}");

    let o = warta(
        &[
            "sop",
            "print",
            def.to_str().unwrap(),
            "--format",
            "odt",
            "-o",
            pdf.to_str().unwrap(),
        ],
        "",
    );
    assert!(!o.status.success());
    assert!(text(&o).contains("use docx, pdf or csv"), "{}", text(&o));
}

#[test]
fn render_prints_the_sanitised_html_publishing_uses() {
    let o = warta(
        &["render", "-"],
        "# Berita\n\n<img src=x onerror=alert(1)> *penting*\n\n[klik](javascript:alert(1))\n",
    );
    assert!(o.status.success());
    let html = String::from_utf8(o.stdout).unwrap();
    assert!(html.contains("<h1>Berita</h1>"), "{html}");
    assert!(html.contains("<em>penting</em>"), "{html}");
    assert!(!html.contains("onerror"), "{html}");
    assert!(!html.contains("href=\"javascript"), "{html}");
}

#[test]
fn media_process_writes_renditions_and_reports_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let img = image::RgbImage::from_fn(2000, 1500, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let photo = dir.path().join("foto.jpg");
    img.save(&photo).unwrap();
    let empty = dir.path().join("kosong.jpg");
    std::fs::write(&empty, b"").unwrap();
    let out = dir.path().join("out");
    let o = warta(
        &[
            "media",
            "process",
            photo.to_str().unwrap(),
            empty.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        "",
    );
    let all = text(&o);
    assert_eq!(o.status.code(), Some(1), "one file failed: {all}");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{all}");
    assert!(lines[0].contains("foto.jpg: web 1600x1200"), "{all}");
    assert!(lines[0].contains("thumbnail 320x240"), "{all}");
    assert!(lines[1].contains("kosong.jpg: error:"), "{all}");
    let web = image::open(out.join("foto.jpg.web.jpg")).unwrap();
    assert_eq!((web.width(), web.height()), (1600, 1200));
    let thumb = image::open(out.join("foto.jpg.thumb.jpg")).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));
}

/// A one-thread web server on loopback answering `/` with `clean` and anything else with
/// `injected`, for as many requests as `count`.
fn tiny_site(clean: &'static str, injected: &'static str, count: usize) -> String {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let body = if request_line.starts_with("GET / ") {
                clean
            } else {
                injected
            };
            write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
        }
    });
    format!("http://{addr}")
}

#[test]
fn guard_check_prints_one_line_per_finding_and_exits_by_what_it_found() {
    let clean = "<html><title>Portal</title><body><p>Berita pemblokiran situs judi online.</p></body></html>";
    let injected = "<html><title>Portal</title><body><p>Berita.</p>\
        <div style='display:none'><a href='https://gacor.example/'>slot gacor</a></div></body></html>";
    let site = tiny_site(clean, injected, 4);

    let ok = warta(
        &["guard", "check", "--allow-private", &format!("{site}/")],
        "",
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert_eq!(text(&ok).trim(), format!("{site}/: clean"));

    let bad = warta(
        &[
            "guard",
            "check",
            "--allow-private",
            &format!("{site}/berita"),
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let out = text(&bad);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains(": gambling: ") && lines[0].contains("slot gacor"),
        "{out}"
    );
    assert!(
        lines[1].contains(": hidden_links: ") && lines[1].contains("gacor.example"),
        "{out}"
    );

    // Loopback is refused without --allow-private: reported as unreachable, not fetched.
    let refused = warta(&["guard", "check", &format!("{site}/")], "");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("internal address"),
        "{}",
        text(&refused)
    );

    let usage = warta(&["guard", "check", "ftp://example.org/"], "");
    assert_eq!(usage.status.code(), Some(2));
    assert!(
        text(&usage).contains("only http and https"),
        "{}",
        text(&usage)
    );
}

#[test]
fn site_backup_backs_up_the_hubs_own_site_and_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let o = warta(
        &[
            "user",
            "add",
            "--data",
            data,
            "putu",
            "--role",
            "publisher",
            "--password-stdin",
        ],
        "rahasia-sekali\n",
    );
    assert!(o.status.success(), "{}", text(&o));
    std::fs::create_dir_all(dir.path().join("site/berita")).unwrap();
    std::fs::write(dir.path().join("site/berita/a.html"), "<p>Berita A</p>").unwrap();

    let o = warta(&["site", "backup", "--data", data, "--website", "1"], "");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("backup 1"), "{}", text(&o));
    assert!(text(&o).contains("verified"), "{}", text(&o));
    // Nothing changed: nothing new stored.
    let o = warta(&["site", "backup", "--data", data, "--website", "1"], "");
    assert!(text(&o).contains("new 0 (0 B)"), "{}", text(&o));

    let o = warta(&["site", "backups", "--data", data, "--website", "1"], "");
    assert!(o.status.success(), "{}", text(&o));
    let listed = text(&o);
    let lines: Vec<&str> = listed
        .lines()
        .filter(|l| l.starts_with("backup "))
        .collect();
    assert_eq!(lines.len(), 2, "{}", text(&o));

    // The page is changed and put back from the backup (no hub runs, so the proof records
    // the page as unreachable and the restore exits 1).
    std::fs::write(dir.path().join("site/berita/a.html"), "<p>slot gacor</p>").unwrap();
    let o = warta(
        &[
            "site",
            "restore",
            "--data",
            data,
            "--backup",
            "2",
            "--key",
            "file/berita/a.html",
            "--reason",
            "dirusak",
            "--as",
            "putu",
        ],
        "",
    );
    assert!(
        text(&o).contains("restored file/berita/a.html"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("site/berita/a.html")).unwrap(),
        "<p>Berita A</p>"
    );
}
