//! Small helpers shared by several modules.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The current UTC time as RFC 3339 with second precision.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&format).unwrap_or_default()
}

/// Writes `contents` to `path` atomically: a temporary file in the same
/// directory, fsync, rename. A failure leaves no partial file behind.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_replacing(path, contents, true)
}

/// [`write_atomic`] without the fsync when `durable` is false: for the
/// store's objects, thousands at a time, made durable together by the
/// caller before anything names them.
pub fn write_replacing(path: &Path, contents: &[u8], durable: bool) -> Result<()> {
    write_with(path, durable, &mut |w| w.write_all(contents))
}

/// [`write_atomic`] of what `write` writes as it makes it (no copy of a
/// large text held whole in memory first).
pub fn write_atomic_with(
    path: &Path,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_with(path, true, write)
}

fn write_with(
    path: &Path,
    durable: bool,
    write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    // A device, pipe or socket (`-o /dev/null`, `-o /dev/stdout`) is written
    // to, never replaced: renaming over it would put a regular file where the
    // device was (as root, for every process on the machine).
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() && !meta.is_dir() {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            return write(&mut file).map_err(|e| Error::io(path, e));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    // Created 0666 less the umask, like any file the user's shell makes:
    // a umask of 077 keeps snapshots (function bodies, server options)
    // private; tempfile's default 0600 or a forced 0644 would not honour it.
    let mut tmp = tempfile::Builder::new()
        .prefix(".driftwatch-")
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    write(&mut tmp).map_err(|e| Error::io(path, e))?;
    // A file replaced keeps its mode (the owner chose it).
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777;
        tmp.as_file()
            .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    if durable {
        tmp.as_file().sync_all().map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    if durable {
        // The rename is durable once the folder holding it is.
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// An enum whose values have names (on the command line, in JSON): the
/// command line parses them through this, so the library needs no clap.
pub trait Named: Copy + Send + Sync + 'static {
    /// Every value.
    const ALL: &'static [Self];
    /// Its name.
    fn name(self) -> &'static str;
    /// The value named `name`.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// A duration as people write one in a configuration file: `90s`, `15m`,
/// `24h`, `7d`, or several (`1h30m`). None when it is not one.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        let n: u64 = std::mem::take(&mut number).parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
    }
    // "30" without a unit is ambiguous (seconds? minutes?): refused.
    if !number.is_empty() {
        return None;
    }
    Some(std::time::Duration::from_secs(total))
}

/// Seconds since the Unix epoch of an RFC 3339 time (None when it is not one).
pub fn unix_seconds(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// An RFC 3339 UTC time (second precision) `seconds` after the epoch.
pub fn rfc3339_at(seconds: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

/// Hands the heap's free pages back to the system (glibc keeps memory
/// freed in the middle of its heap). Called after a capture drops its raw
/// rows: on 10,000 tables that is tens of MB of peak RSS.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_written_in_config_files() {
        let s = |t: &str| parse_duration(t).map(|d| d.as_secs());
        assert_eq!(s("90s"), Some(90));
        assert_eq!(s("15m"), Some(900));
        assert_eq!(s("24h"), Some(86_400));
        assert_eq!(s("1h30m"), Some(5400));
        assert_eq!(s("7d"), Some(604_800));
        assert_eq!(s("0s"), Some(0));
        assert_eq!(s("30"), None);
        assert_eq!(s("1 hour"), None);
        assert_eq!(s(""), None);
        assert_eq!(unix_seconds("1970-01-01T00:01:00Z"), Some(60));
        assert_eq!(rfc3339_at(60), "1970-01-01T00:01:00Z");
    }
    use std::os::unix::fs::FileTypeExt;

    /// `-o /dev/null` and friends: a special file is written to, not
    /// replaced by a regular file (tested on a FIFO, not the machine's
    /// /dev/null).
    #[test]
    fn a_special_file_is_written_to_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("out");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"snapshot").unwrap();
        // checked first: a replaced FIFO leaves the reader waiting forever
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(reader.join().unwrap(), b"snapshot");
    }

    /// A new file gets 0666 less the umask (this test process's, read
    /// back by setting it), a replaced one keeps its mode. The binary is
    /// tested under umask 077 and 022 in tests/store_layout.rs.
    #[test]
    fn written_files_get_a_usual_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.html");
        write_atomic(&path, b"a").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // Read, not set: setting it would race the other tests' threads.
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let umask = status
            .lines()
            .find_map(|l| l.strip_prefix("Umask:"))
            .map(|m| u32::from_str_radix(m.trim(), 8).unwrap())
            .unwrap();
        assert_eq!(mode(&path), 0o666 & !umask);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, b"b").unwrap();
        assert_eq!(mode(&path), 0o600);
    }
}
