//! Running PostgreSQL programs: a clean environment, the unprivileged user when root.

use super::*;

/// A command for a PostgreSQL program: no `PG*` variables, `LC_ALL=C`, cwd `/`,
/// stdin from /dev/null, and the unprivileged user when running as root.
pub(super) fn pg_command(program: &Path, run_as: Option<&RunAs>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.as_bytes().starts_with(b"PG") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("LC_ALL", "C").current_dir("/").stdin(Stdio::null());
    if let Some(user) = run_as {
        // std drops supplementary groups (setgroups(0)) when root sets a uid.
        cmd.gid(user.gid).uid(user.uid);
    }
    cmd
}

pub(super) fn run(cmd: &mut Command) -> Result<Output> {
    let program = PathBuf::from(cmd.get_program());
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| LocalError::Spawn { program, source })
}

pub(super) fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

pub(super) fn combined_tail(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let tail = tail_lines(&text, LOG_TAIL_LINES);
    if tail.is_empty() {
        "(no output)".to_string()
    } else {
        tail
    }
}

/// The last lines of the log written after byte `offset`.
pub(super) fn log_tail(log: &Path, offset: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(log) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let start = offset.max(len.saturating_sub(64 * 1024));
        let mut buf = Vec::new();
        if file.seek(SeekFrom::Start(start)).is_ok() && file.read_to_end(&mut buf).is_ok() {
            text = String::from_utf8_lossy(&buf).into_owned();
        }
    }
    let tail = tail_lines(&text, LOG_TAIL_LINES);
    if tail.is_empty() {
        "(empty)".to_string()
    } else {
        tail
    }
}
