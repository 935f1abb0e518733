//! Running as root: an unprivileged user for the cluster, directories it can reach.

use super::*;

pub(super) fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

pub(super) fn c_utf8_available() -> bool {
    // SAFETY: newlocale with a valid C string; the result is freed.
    unsafe {
        let loc = libc::newlocale(libc::LC_ALL_MASK, c"C.UTF-8".as_ptr(), std::ptr::null_mut());
        if loc.is_null() {
            false
        } else {
            libc::freelocale(loc);
            true
        }
    }
}

pub(super) fn passwd_by_name(name: &str) -> Option<(u32, u32)> {
    let name = CString::new(name).ok()?;
    // SAFETY: getpwnam_r writes into our zeroed struct and buffer only.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        );
        (rc == 0 && !result.is_null()).then_some((pwd.pw_uid, pwd.pw_gid))
    }
}

pub(super) fn passwd_by_uid(uid: u32) -> Option<(String, u32)> {
    // SAFETY: getpwuid_r writes into our zeroed struct and buffer only.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        let name = CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned();
        Some((name, pwd.pw_gid))
    }
}

pub(super) fn nobody() -> RunAs {
    let (uid, gid) = passwd_by_name("nobody").unwrap_or((NOBODY_FALLBACK_ID, NOBODY_FALLBACK_ID));
    RunAs {
        uid,
        gid,
        name: "nobody".to_string(),
    }
}

/// As root: the owner of an existing data directory, else `nobody`.
pub(super) fn run_as_for(data: &Path) -> RunAs {
    match fs::metadata(data) {
        Ok(m) if m.uid() != 0 => {
            let (name, gid) =
                passwd_by_uid(m.uid()).unwrap_or_else(|| (format!("uid {}", m.uid()), m.gid()));
            RunAs {
                uid: m.uid(),
                gid,
                name,
            }
        }
        _ => nobody(),
    }
}

/// Whether `user` can search (traverse) `dir` and all its ancestors
/// (classic permission bits; ACLs and supplementary groups are ignored).
pub(super) fn traversable_by(dir: &Path, user: &RunAs) -> bool {
    dir.ancestors().all(|d| {
        if d.as_os_str().is_empty() {
            return true;
        }
        let Ok(m) = fs::metadata(d) else {
            return false;
        };
        let mode = m.mode();
        if m.uid() == user.uid {
            mode & 0o100 != 0
        } else if m.gid() == user.gid {
            mode & 0o010 != 0
        } else {
            mode & 0o001 != 0
        }
    })
}

/// For a new cluster as root: `local/` if `user` can reach it, else a
/// world-traversable directory outside the project.
pub(super) fn choose_root_layout(local: &Path, user: &RunAs) -> Result<Layout> {
    if traversable_by(local, user) {
        return Ok(Layout::at(local.to_path_buf(), false));
    }
    let state = local.parent().unwrap_or(local);
    let name = format!("strata-{:016x}", fnv1a64(state.as_os_str().as_bytes()));
    let base = [Path::new("/var/tmp"), Path::new("/tmp")]
        .into_iter()
        .find(|b| b.is_dir() && traversable_by(b, user))
        .ok_or_else(|| LocalError::RootPermission {
            user: user.name.clone(),
            path: local.to_path_buf(),
            detail: "it cannot traverse the project's directories, and neither /var/tmp nor /tmp \
                     is usable as a fallback"
                .to_string(),
        })?;
    Ok(Layout::at(base.join(name), true))
}

/// Creates the fallback root (root-owned, 0755) or checks an existing one.
pub(super) fn ensure_external_root(root: &Path, user: Option<&RunAs>) -> Result<()> {
    let user_name = user.map(|u| u.name.clone()).unwrap_or_default();
    match fs::DirBuilder::new().mode(0o755).create(root) {
        Ok(()) => {
            fs::set_permissions(root, fs::Permissions::from_mode(0o755))
                .map_err(io_err("set permissions of", root))?;
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let m = fs::symlink_metadata(root).map_err(io_err("inspect", root))?;
            // SAFETY: geteuid has no preconditions.
            let me = unsafe { libc::geteuid() };
            if !m.file_type().is_dir() || m.uid() != me {
                return Err(LocalError::RootPermission {
                    user: user_name,
                    path: root.to_path_buf(),
                    detail: "it exists but is not a directory owned by the current user; remove it"
                        .to_string(),
                });
            }
            Ok(())
        }
        Err(e) => Err(io_err("create directory", root)(e)),
    }
}

/// Creates `dir` with `mode` if missing and gives it to `run_as`.
pub(super) fn make_private_dir(dir: &Path, mode: u32, run_as: Option<&RunAs>) -> Result<()> {
    match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => fs::set_permissions(dir, fs::Permissions::from_mode(mode))
            .map_err(io_err("set permissions of", dir))?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err("create directory", dir)(e)),
    }
    if let Some(user) = run_as {
        chown_to(dir, user)?;
    }
    Ok(())
}

pub(super) fn chown_to(path: &Path, user: &RunAs) -> Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(|e| {
        LocalError::RootPermission {
            user: user.name.clone(),
            path: path.to_path_buf(),
            detail: format!("chown to uid {} failed: {e}", user.uid),
        }
    })
}
