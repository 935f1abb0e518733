//! Creating and starting a cluster (initdb, pg_ctl, configuration).

use super::*;

pub(super) fn read_pg_version(data: &Path) -> Result<String> {
    let path = data.join("PG_VERSION");
    fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .map_err(io_err("read", &path))
}

pub(super) fn init_cluster(
    layout: &Layout,
    bins: &ServerBinaries,
    run_as: Option<&RunAs>,
    password: Option<&str>,
) -> Result<()> {
    // A data directory without PG_VERSION is the remains of a failed initdb.
    remove_all(&layout.data)?;
    make_private_dir(&layout.data, 0o700, run_as)?;
    // initdb reads a superuser password only from a file; it lives beside the data directory
    // (readable by the server user only) for the moment initdb runs.
    let pwfile = layout.root.join("initdb.pw");
    let auth: Vec<std::ffi::OsString> = match password {
        Some(pw) => {
            fs::write(&pwfile, format!("{pw}\n")).map_err(io_err("write", &pwfile))?;
            fs::set_permissions(&pwfile, fs::Permissions::from_mode(0o600))
                .map_err(io_err("set permissions of", &pwfile))?;
            if let Some(user) = run_as {
                chown_to(&pwfile, user)?;
            }
            vec![
                "--auth=scram-sha-256".into(),
                format!("--pwfile={}", pwfile.display()).into(),
            ]
        }
        None => vec!["--auth=trust".into()],
    };

    let locale = if c_utf8_available() {
        "--locale=C.UTF-8"
    } else {
        "--no-locale"
    };
    let initdb = bins.tool("initdb");
    let output = run(pg_command(&initdb, run_as)
        .args([
            OsStr::new("-D"),
            layout.data.as_os_str(),
            OsStr::new("-U"),
            OsStr::new(SUPERUSER),
            OsStr::new("--encoding=UTF8"),
            OsStr::new(locale),
            OsStr::new("--no-sync"),
        ])
        .args(&auth))?;
    let _ = fs::remove_file(&pwfile);
    if !output.status.success() {
        return Err(LocalError::InitdbFailed {
            data_dir: layout.data.clone(),
            status: output.status.to_string(),
            output: combined_tail(&output),
        });
    }

    let conf = layout.data.join("postgresql.conf");
    let mut file = OpenOptions::new()
        .append(true)
        .open(&conf)
        .map_err(io_err("open", &conf))?;
    file.write_all(
        format!("\n# Added by Strata: settings it manages (rewritten on every start).\ninclude_if_exists = '{CONF_FILE}'\n")
            .as_bytes(),
    )
    .map_err(io_err("write", &conf))?;
    Ok(())
}

/// Creates (or re-owns) the socket directory and the log file, rotating a
/// large log.
pub(super) fn prepare_runtime_paths(layout: &Layout, run_as: Option<&RunAs>) -> Result<()> {
    make_private_dir(&layout.run, 0o755, run_as)?;
    if fs::metadata(&layout.log).is_ok_and(|m| m.len() > LOG_ROTATE_BYTES) {
        let old = layout.log.with_extension("log.1");
        fs::rename(&layout.log, &old).map_err(io_err("rotate", &layout.log))?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(&layout.log)
        .map_err(io_err("create", &layout.log))?;
    if let Some(user) = run_as {
        chown_to(&layout.log, user)?;
    }
    Ok(())
}

pub(super) fn conf_quote(path: &Path) -> String {
    path.to_string_lossy().replace('\'', "''")
}

pub(super) fn write_conf(layout: &Layout, port: u16, run_as: Option<&RunAs>) -> Result<()> {
    let sockets = layout.socket_dir().map(conf_quote).unwrap_or_default();
    let text = format!(
        "# Managed by Strata: rewritten on every start, do not edit.\n\
         listen_addresses = '127.0.0.1'\n\
         port = {port}\n\
         unix_socket_directories = '{sockets}'\n\
         max_connections = 100\n\
         # Fast, crash-unsafe settings for a development database.\n\
         fsync = off\n\
         synchronous_commit = off\n\
         full_page_writes = off\n"
    );
    let path = layout.data.join(CONF_FILE);
    write_atomically(&path, text.as_bytes())?;
    if let Some(user) = run_as {
        chown_to(&path, user)?;
    }
    Ok(())
}

pub(super) struct StartError {
    pub(super) port_conflict: bool,
    pub(super) error: LocalError,
}

pub(super) fn pg_ctl_start(
    layout: &Layout,
    bins: &ServerBinaries,
    run_as: Option<&RunAs>,
) -> std::result::Result<(), StartError> {
    let log_offset = fs::metadata(&layout.log).map(|m| m.len()).unwrap_or(0);
    let pg_ctl = bins.tool("pg_ctl");
    // With -l, pg_ctl redirects the server's stdin/stdout/stderr, so capturing
    // pg_ctl's own output cannot block on the long-lived server.
    let output = run(pg_command(&pg_ctl, run_as).args([
        OsStr::new("start"),
        OsStr::new("-D"),
        layout.data.as_os_str(),
        OsStr::new("-l"),
        layout.log.as_os_str(),
        // Don't let pg_ctl wait: it checks for readiness only every 100 ms. Poll
        // postmaster.pid ourselves instead (below).
        OsStr::new("-W"),
        OsStr::new("-s"),
    ]))
    .map_err(|error| StartError {
        port_conflict: false,
        error,
    })?;
    if output.status.success() && wait_until_ready(layout) {
        return Ok(());
    }
    let tail = log_tail(&layout.log, log_offset);
    let port_conflict = tail.contains("Address already in use")
        || tail.contains("could not create any TCP/IP sockets");
    Err(StartError {
        port_conflict,
        error: LocalError::StartFailed {
            detail: format!(
                "pg_ctl start exited with {}: {}",
                output.status,
                combined_tail(&output)
            ),
            log_file: layout.log.clone(),
            log_tail: tail,
        },
    })
}

/// Polls `postmaster.pid` until the server says `ready` (true), or the postmaster went away
/// or never appeared, or the pg_ctl timeout passed (false).
pub(super) fn wait_until_ready(layout: &Layout) -> bool {
    let timeout = Duration::from_secs(PG_CTL_TIMEOUT_SECS.parse().unwrap_or(60));
    let start = Instant::now();
    let mut seen = false;
    while start.elapsed() < timeout {
        match read_pid_file(&layout.data) {
            Some(pf) if pid_alive(pf.pid) => {
                if pf.ready {
                    return true;
                }
                seen = true;
            }
            // It wrote its pid file, then exited (or removed it): the start failed.
            Some(_) | None if seen => return false,
            // Not started yet; give a postmaster that never shows up a few seconds.
            _ if start.elapsed() > Duration::from_secs(10) => return false,
            _ => {}
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}
