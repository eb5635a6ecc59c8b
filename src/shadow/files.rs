//! Files and directories a private cluster's directory holds, made without
//! following links: when driftwatch runs as root the server runs as
//! another user, and a path that user could have written to may by then be
//! a symbolic link to /etc/shadow. Everything here is created new
//! (`O_CREAT|O_EXCL|O_NOFOLLOW`), in a directory the server's user cannot
//! write, and given to that user with `fchown` on the open descriptor,
//! never by path.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates the file `path` (which must not exist, not even as a link),
/// writes `body`, sets `mode` and gives it to `owner` (uid, gid) when
/// given. Returns the open file (the server's log is handed on as its
/// stdout).
pub fn create_new(path: &Path, mode: u32, owner: Option<(u32, u32)>, body: &[u8]) -> Result<File> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    give(&file, path, mode, owner)?;
    file.write_all(body).map_err(|e| Error::io(path, e))?;
    Ok(file)
}

/// Creates the directory `path` (mode 0700) and gives it to `owner`: the
/// directory is opened without following links and changed through that
/// descriptor.
pub fn create_dir(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(path)
        .map_err(|e| Error::io(path, e))?;
    let dir = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_NOFOLLOW | nix::libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    give(&dir, path, 0o700, owner)
}

/// Sets the mode of an open file and, when given, its owner.
fn give(file: &File, path: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<()> {
    // The umask may have narrowed the mode given at creation.
    file.set_permissions(std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(path, e))?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(file, Some(uid), Some(gid))
            .map_err(|e| Error::Shadow(format!("fchown {}: {e}", path.display())))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_link_is_refused_and_its_target_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir.path().join("pg_hba.conf");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let err = create_new(&planted, 0o600, None, b"local all all trust\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("pg_hba.conf"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        // A dangling link (a file the attacker wants created) too.
        let dangling = dir.path().join("server.log");
        std::os::unix::fs::symlink(dir.path().join("new-file"), &dangling).unwrap();
        assert!(create_new(&dangling, 0o600, None, b"").is_err());
        assert!(!dir.path().join("new-file").exists());
        // A planted directory link is not followed either.
        let sock = dir.path().join("sock");
        std::os::unix::fs::symlink(dir.path(), &sock).unwrap();
        assert!(create_dir(&sock, None).is_err());
    }

    #[test]
    fn a_new_file_gets_its_mode_and_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        create_new(&path, 0o600, None, b"key").unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "key");
    }
}
