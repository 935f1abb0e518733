//! Probing a cluster: is it running, on which port, with which version.

use super::*;

/// Parsed `postmaster.pid`.
pub(super) struct PidFile {
    pub(super) pid: u32,
    pub(super) port: u16,
    pub(super) socket_dir: Option<PathBuf>,
    pub(super) ready: bool,
}

pub(super) fn read_pid_file(data: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: u32 = lines.first()?.trim().parse().ok()?;
    let port: u16 = lines
        .get(3)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    let socket_dir = lines
        .get(4)
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(PathBuf::from);
    let ready = lines.get(7).is_some_and(|l| l.trim() == "ready");
    Some(PidFile {
        pid,
        port,
        socket_dir,
        ready,
    })
}

pub(super) fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence/permission.
    let rc = unsafe { libc::kill(pid, 0) };
    let exists = rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    // A zombie (exited, not yet reaped by a lazy init) is not alive.
    exists && !is_zombie(pid)
}

pub(super) fn is_zombie(pid: libc::pid_t) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            rest.trim_start().chars().next()
        })
        .is_some_and(|state| state == 'Z')
}

/// Whether `pid` is the postmaster of `data`. On Linux, checks that its
/// command is `postgres` and its working directory `data` (the postmaster
/// chdirs there), which tells a stale `postmaster.pid` whose pid was reused
/// apart from ours. Elsewhere (no `/proc`) any live pid is assumed to be it.
pub(super) fn is_our_postmaster(pid: u32, data: &Path) -> bool {
    if !pid_alive(pid) {
        return false;
    }
    if let Ok(comm) = fs::read_to_string(format!("/proc/{pid}/comm")) {
        let comm = comm.trim();
        if !(comm.starts_with("postgres") || comm.starts_with("postmaster")) {
            return false;
        }
    }
    match fs::read_link(format!("/proc/{pid}/cwd")) {
        Ok(cwd) => fs::canonicalize(data).is_ok_and(|data| data == cwd),
        Err(_) => true,
    }
}

/// The postmaster's pid if `postmaster.pid` names the live postmaster of `data`.
pub(super) fn live_postmaster(data: &Path) -> Option<u32> {
    let pf = read_pid_file(data)?;
    is_our_postmaster(pf.pid, data).then_some(pf.pid)
}

pub(super) fn tcp_accepts(port: u16, timeout: Duration) -> bool {
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, timeout).is_ok()
}

/// Running server for `layout`, if its postmaster is alive, ready and
/// accepting TCP connections.
pub(super) fn probe_running(layout: &Layout, meta: Option<&ClusterMeta>) -> Option<RunningInfo> {
    let pf = read_pid_file(&layout.data)?;
    if !pf.ready || pf.port == 0 || !is_our_postmaster(pf.pid, &layout.data) {
        return None;
    }
    if !tcp_accepts(pf.port, Duration::from_millis(500)) {
        return None;
    }
    let version = meta
        .map(|m| m.server_version.clone())
        .or_else(|| read_pg_version(&layout.data).ok())
        .unwrap_or_default();
    Some(RunningInfo {
        port: pf.port,
        pid: pf.pid,
        version,
        data_dir: layout.data.clone(),
        socket_dir: pf.socket_dir,
        log_file: layout.log.clone(),
    })
}

/// Waits while a live postmaster is starting up or shutting down. Returns the
/// server if it became ready, `None` once no postmaster is alive.
pub(super) fn settle(layout: &Layout, meta: Option<&ClusterMeta>) -> Result<Option<RunningInfo>> {
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    loop {
        if let Some(info) = probe_running(layout, meta) {
            return Ok(Some(info));
        }
        let Some(pid) = live_postmaster(&layout.data) else {
            return Ok(None);
        };
        if Instant::now() >= deadline {
            return Err(LocalError::StartFailed {
                detail: format!(
                    "a server process (pid {pid}) for {} is alive but does not accept connections; \
                     stop it (kill {pid}) and retry",
                    layout.data.display()
                ),
                log_tail: log_tail(&layout.log, 0),
                log_file: layout.log.clone(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
