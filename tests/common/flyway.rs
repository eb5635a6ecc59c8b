//! Flyway's migration checksum, written out here from its definition and
//! apart from driftwatch's own (`driftwatch::migrations::checksum::flyway`),
//! so that a wrong formula there fails the tests instead of agreeing with
//! itself through the history rows `driftwatch::replay::migrate` writes.
//!
//! flyway-core `ChecksumCalculator`: a `BufferedReader` reads the script
//! (UTF-8) line by line, `readLine` ending a line at `\n`, `\r` or `\r\n`
//! and returning it without the terminator; a BOM is removed from the first
//! line; a `java.util.zip.CRC32` is updated with each line's UTF-8 bytes;
//! the checksum is `(int) crc32.getValue()`, the CRC read as a signed
//! 32-bit integer.

use driftwatch::catalog::DatabaseUrl;
use std::path::Path;

/// CRC-32 as `java.util.zip.CRC32` and zlib compute it (IEEE 802.3,
/// reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF),
/// continued from `crc` over `bytes`, one bit at a time.
fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut c = !crc;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            let low_bit_set = c & 1 == 1;
            c >>= 1;
            if low_bit_set {
                c ^= 0xEDB8_8320;
            }
        }
    }
    !c
}

/// The lines `BufferedReader.readLine` returns for `text`, in order.
fn java_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\r', '\n']) {
            None => {
                lines.push(rest);
                break;
            }
            Some(end) => {
                lines.push(&rest[..end]);
                let after = if rest[end..].starts_with("\r\n") {
                    end + 2
                } else {
                    end + 1
                };
                rest = &rest[after..];
            }
        }
    }
    lines
}

/// Flyway's checksum of a script whose text is `text`.
pub fn flyway_checksum(text: &str) -> i32 {
    let mut crc = 0;
    for (i, line) in java_lines(text).into_iter().enumerate() {
        let line = if i == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        crc = crc32_update(crc, line.as_bytes());
    }
    // Java's `(int)` of the long CRC: the same 32 bits, read as signed.
    crc as i32
}

/// Asserts that every row of `db`'s `flyway_schema_history` with a
/// checksum holds Flyway's checksum of its script, read from `dir`;
/// returns how many rows were checked (at least one).
pub fn assert_flyway_history(db: &DatabaseUrl, dir: &Path) -> usize {
    let rows = super::psql_rows(
        db,
        "SELECT script || '|' || checksum FROM flyway_schema_history \
         WHERE checksum IS NOT NULL ORDER BY installed_rank",
    );
    assert!(!rows.is_empty(), "no Flyway history row with a checksum");
    for row in &rows {
        let (script, stored) = row.rsplit_once('|').expect("script|checksum");
        let text = std::fs::read_to_string(dir.join(script))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(script).display()));
        assert_eq!(
            stored,
            flyway_checksum(&text).to_string(),
            "the checksum of {script} in flyway_schema_history is not Flyway's"
        );
    }
    rows.len()
}

/// Applies every migration of the Flyway directory `dir` to `db` as Flyway
/// records them (`driftwatch::replay::migrate`), then checks the history
/// rows written against Flyway's checksum computed here.
pub async fn migrate(db: &DatabaseUrl, dir: &Path) -> driftwatch::migrations::MigrationSet {
    let set = driftwatch::migrations::read(dir, None)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
    assert_eq!(set.format, driftwatch::migrations::Format::Flyway);
    driftwatch::replay::migrate(db, &set, &set.migrations)
        .await
        .unwrap_or_else(|e| panic!("apply {}: {e}", dir.display()));
    assert_flyway_history(db, dir);
    set
}
