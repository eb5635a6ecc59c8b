//! Migration checksums exactly as each tool computes them, so a checksum
//! read from a history table can be compared with the file on disk.

use crate::util::hex;
use sha2::{Digest, Sha256, Sha384};

/// Flyway's checksum (flyway-core `ChecksumCalculator`): CRC32 over the
/// UTF-8 bytes of each line without its terminator (`\n`, `\r\n` and `\r`
/// all end a line), a BOM removed from the first line, the result read as a
/// signed 32-bit integer. Line endings and blank lines therefore do not
/// change it; any other character does.
pub fn flyway(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut crc = Crc32::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                crc.update(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                crc.update(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    crc.update(&bytes[start..]);
    crc.finish() as i32
}

/// sqlx's checksum: SHA-384 of the file's bytes, as lowercase hex (sqlx
/// stores the raw 48 bytes in `_sqlx_migrations.checksum`).
pub fn sqlx(bytes: &[u8]) -> String {
    hex(&Sha384::digest(bytes))
}

/// The checksum driftwatch keeps for formats whose tool stores none:
/// SHA-256 of the file's bytes, lowercase hex.
pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// True when `stored`, a `_prisma_migrations.checksum`, is Prisma's
/// checksum of the script `text` (prisma-engines `checksum.rs`,
/// `script_matches_checksum`): SHA-256 hex of the script as it is, or of
/// its lines each ended by `\r\n`, or each by `\n` (git may have changed
/// the line endings since it ran); each also in the unpadded hex an early
/// engine wrote (`{:x}` per byte).
pub fn prisma_matches(text: &str, stored: &str) -> bool {
    let ended = |end: &str| {
        let mut hasher = Sha256::new();
        for line in text.lines() {
            hasher.update(line.trim_end_matches('\r').as_bytes());
            hasher.update(end.as_bytes());
        }
        hasher.finalize()
    };
    [Sha256::digest(text.as_bytes()), ended("\r\n"), ended("\n")]
        .iter()
        .any(|digest| {
            let unpadded: String = digest.iter().map(|b| format!("{b:x}")).collect();
            stored == hex(digest) || stored == unpadded
        })
}

/// CRC-32 (IEEE) of `bytes`: zlib's, Go's `crc32.ChecksumIEEE`, Rust
/// crc's `CRC_32_ISO_HDLC` (the migration tools' advisory lock keys).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.finish()
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as
/// `java.util.zip.CRC32` computes it, fed in pieces.
struct Crc32 {
    table: [u32; 256],
    value: u32,
}

impl Crc32 {
    fn new() -> Crc32 {
        let mut table = [0u32; 256];
        for (n, slot) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        Crc32 {
            table,
            value: 0xFFFF_FFFF,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.value =
                self.table[((self.value ^ u32::from(*b)) & 0xFF) as usize] ^ (self.value >> 8);
        }
    }

    fn finish(&self) -> u32 {
        self.value ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 check value of "123456789" is 0xCBF43926.
        let mut crc = Crc32::new();
        crc.update(b"1234");
        crc.update(b"56789");
        assert_eq!(crc.finish(), 0xCBF4_3926);
    }

    #[test]
    fn flyway_ignores_line_endings_and_bom_but_not_content() {
        let lf = flyway("create table a (id int);\nselect 1;\n");
        assert_eq!(lf, flyway("create table a (id int);\r\nselect 1;\r\n"));
        assert_eq!(lf, flyway("\u{feff}create table a (id int);\rselect 1;"));
        // Blank lines add nothing to the CRC.
        assert_eq!(lf, flyway("create table a (id int);\n\n\nselect 1;\n"));
        assert_ne!(lf, flyway("create table a (id int);\nselect 2;\n"));
        // Lines are concatenated without terminators.
        assert_eq!(flyway("ab\ncd"), flyway("abcd"));
        // Signed: a CRC at or above 2^31 reads negative, as Java's int does.
        assert_eq!(flyway("123456789"), 0xCBF4_3926_u32 as i32);
        assert!(flyway("123456789") < 0);
    }

    #[test]
    fn sha_digests_are_hex() {
        assert_eq!(
            sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sqlx(b"abc").len(), 96);
        assert!(sqlx(b"abc").starts_with("cb00753f45a35e8b"));
    }

    #[test]
    fn prisma_accepts_its_line_ending_variants_and_old_hex() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert!(prisma_matches("abc", abc));
        // "abc\n": the script's lines each ended by \n.
        let lf = "edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb";
        assert!(prisma_matches("abc", lf));
        assert!(prisma_matches("abc\r\n", lf));
        // The unpadded hex of an early engine: 0x01 written as "1".
        assert!(prisma_matches(
            "abc",
            "ba7816bf8f1cfea414140de5dae2223b0361a396177a9cb410ff61f2015ad"
        ));
        assert!(!prisma_matches("abd", abc));
        assert!(!prisma_matches("abc", &sha256(b"abc ")));
    }
}
