//! Headless Chromium for the tests that open driftwatch's HTML in a real
//! browser (tests/report_html.rs, tests/alert_html.rs): Debian's
//! `chromium`, installed by `make setup`, at a phone's size, with the
//! checks those tests make on what it renders.
//!
//! Standalone (include it with `#[path = "common/chromium.rs"] mod
//! chromium;`): it needs nothing from tests/common/mod.rs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A phone's viewport (CSS pixels): the size the HTML is written for, so
/// the one the screenshots and layout probes check it at.
pub const WIDTH: u32 = 390;
pub const HEIGHT: u32 = 844;
/// Chromium gets this long per run before its process group is killed: a
/// hung browser fails the test instead of hanging it.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// Out-of-band changes, each carrying markup that must stay text: a table
/// comment, a column name, a function body (shown in a `<pre>` diff).
/// Shared so that the report and the alert are checked against the same
/// hostile names, and their assertions on the escaped text agree.
pub const OUT_OF_BAND: &str = r#"
COMMENT ON TABLE shop.orders IS '<script>document.title="pwned"</script><img src=x onerror=alert(1)>';
ALTER TABLE shop.customers ADD COLUMN "nick<svg onload=alert(2)>" text;
DROP INDEX shop.orders_status_idx;
GRANT SELECT ON shop.customers TO PUBLIC;
CREATE OR REPLACE FUNCTION shop.order_total(p_order_id bigint) RETURNS numeric
    LANGUAGE sql STABLE
AS $$
    SELECT coalesce(sum(quantity * unit_price), 0)
           + 0 * length('</pre><script>document.title="pwned"</script>')
      FROM shop.order_lines
     WHERE order_id = p_order_id
$$;
"#;

/// Debian's Chromium on PATH, or a failure that says how to get it. Tests
/// call it first so that a machine without Chromium fails at once, before
/// any database work, naming what is missing; `renders` says what the test
/// would have shown in it.
pub fn find_chromium(renders: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "chromium is not installed: run `make setup` (scripts/setup.sh installs Debian's \
             chromium and fonts-dejavu-core); this test renders {renders} in it"
        )
    })
}

/// Runs headless Chromium at the phone's size on `page` with `args`, its
/// standard output going to `stdout`. A throwaway profile keeps runs from
/// seeing each other's state; Chromium runs in its own process group so
/// that, past [`CHROMIUM_TIMEOUT`], it is killed with all its helpers and
/// nothing else. Panics with Chromium's stderr when it fails, since that is
/// the only account of why.
pub fn run_chromium(page: &Path, args: &[String], stdout: &Path) {
    use std::os::unix::process::CommandExt;
    let profile = tempfile::tempdir().unwrap();
    let err_path = profile.path().join("stderr.txt");
    let mut cmd = Command::new(find_chromium("pages"));
    cmd.args([
        "--headless=new",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--hide-scrollbars",
    ])
    .arg(format!("--window-size={WIDTH},{HEIGHT}"))
    .arg(format!(
        "--user-data-dir={}",
        profile.path().join("profile").display()
    ));
    if nix::unistd::geteuid().is_root() {
        // Chromium refuses to start its sandbox as root.
        cmd.arg("--no-sandbox");
    }
    let url = url::Url::from_file_path(page).unwrap();
    cmd.args(args)
        .arg(url.as_str())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(stdout).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .process_group(0);
    let mut child = cmd.spawn().expect("start chromium");
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            // The group is Chromium's own (process_group(0)) and its leader
            // is not reaped yet: this kills Chromium and its helpers only.
            let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
            let _ = child.wait();
            panic!(
                "chromium {args:?} {url} did not finish in {CHROMIUM_TIMEOUT:?}; stderr:\n{}",
                std::fs::read_to_string(&err_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        status.success(),
        "chromium {args:?} {url}: {status}; stderr:\n{}",
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
}

/// The DOM of `page` after Chromium loaded it: what a reader's browser
/// makes of the HTML (scripts run, markup parsed), not the bytes sent. Also
/// left next to the page, as `*.dom.html`, for people to look at.
pub fn dump_dom(page: &Path) -> String {
    let out = page.with_extension("dom.html");
    run_chromium(page, &["--dump-dom".into()], &out);
    std::fs::read_to_string(&out).unwrap()
}

/// Takes a phone-sized screenshot of `page` into `shot` (Chromium's
/// standard output going to `stdout`) and returns the PNG, after checking
/// it is one of a real page: the phone's size, and larger than what
/// Chromium writes when it renders nothing much (a blank page at this size
/// is 2.7 KB, its page for a missing file 14 KB; the report and the alert
/// about 80-90 KB). An old `shot` is removed first so that a stale file
/// cannot pass for a new one.
pub fn phone_screenshot(page: &Path, shot: &Path, stdout: &Path) -> Vec<u8> {
    let _ = std::fs::remove_file(shot);
    run_chromium(page, &[format!("--screenshot={}", shot.display())], stdout);
    let png = std::fs::read(shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert_eq!(png_size(&png), (WIDTH, HEIGHT), "{}", shot.display());
    assert!(
        png.len() > 24_000,
        "{}: {} bytes, nothing much rendered",
        shot.display(),
        png.len()
    );
    png
}

/// Width and height from a PNG's IHDR chunk: enough to tell that Chromium
/// wrote a real screenshot at the phone's size, without an image crate.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.len() > 24, "not a PNG: {} bytes", png.len());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&png[12..16], b"IHDR", "the first chunk is IHDR");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&png[16..20]), be(&png[20..24]))
}

/// True when `html` opens a `<tag` element (case-insensitive). Good enough
/// to prove an element absent: in a serialized DOM, and in driftwatch's
/// escaped output, a `<` in text is always `&lt;`.
pub fn has_element(html: &str, tag: &str) -> bool {
    html.to_ascii_lowercase().contains(&format!("<{tag}"))
}

/// The text of the first `<title>` in `dom`: where the pages' own title
/// shows (a script from the database would have changed it) and where the
/// layout probe writes its measurements.
pub fn title_of(dom: &str) -> &str {
    let start = dom.find("<title>").expect("a <title>") + "<title>".len();
    let end = dom[start..].find("</title>").expect("</title>") + start;
    &dom[start..end]
}

/// Writes to `path` a page that shows `html`, unchanged, in a phone-sized
/// frame and runs `measure` on it. `measure` is a script defining
/// `function measure(frame)` that writes `probe key=value ...` into the
/// probe page's own title, where [`dump_dom`] and [`probe_value`] read it
/// back. A frame, because Chromium's window is at least 500 pixels wide
/// when it dumps the DOM (only the screenshot gets 390); the script lives
/// in this copy only, never in what driftwatch wrote.
pub fn write_layout_probe(html: &str, measure: &str, path: &Path) {
    let srcdoc = html.replace('&', "&amp;").replace('"', "&quot;");
    let probe = format!(
        "<!DOCTYPE html><html><head><title>probe pending</title><script>{measure}</script></head>\
         <body style=\"margin:0\"><iframe style=\"border:0;width:{WIDTH}px;height:{HEIGHT}px\" \
         onload=\"measure(this)\" srcdoc=\"{srcdoc}\"></iframe></body></html>"
    );
    std::fs::write(path, probe).unwrap();
}

/// Loads a probe page written by [`write_layout_probe`] and returns its
/// title: the measurements, for [`probe_value`] and [`probe_text`]. Checks
/// first that the probe's script ran, which also shows this Chromium runs
/// scripts (so a page's own "no script ran" checks mean something), and
/// that the frame was the phone's width, so the sizes measured are a
/// phone's; the probe's script must write `page=` and `viewport=`.
pub fn read_probe(probe_page: &Path) -> String {
    let probe = dump_dom(probe_page);
    let title = title_of(&probe);
    assert!(
        title.starts_with("probe page="),
        "the probe's script did not run: {title:?}"
    );
    assert_eq!(probe_value(title, "viewport"), u64::from(WIDTH), "{title}");
    title.to_string()
}

/// `key=value` from the probe's title; panics naming the title when the
/// key is missing, since then the probe's script and the test disagree.
pub fn probe_text<'a>(title: &'a str, key: &str) -> &'a str {
    title
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or_else(|| panic!("no {key}= in the probe's title {title:?}"))
}

/// `key=number` from the probe's title, so that sizes and counts compare
/// as numbers.
pub fn probe_value(title: &str, key: &str) -> u64 {
    let text = probe_text(title, key);
    text.parse()
        .unwrap_or_else(|_| panic!("{key}={text} is not a number in {title:?}"))
}
