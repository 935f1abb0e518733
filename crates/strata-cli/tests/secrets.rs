//! Passwords are never printed, in any form, and connection strings mean what they mean to libpq
//! and psql. Both against a private server that checks passwords (scram-sha-256): the shared
//! test server trusts everyone, so a wrong password would go unnoticed there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use proptest::prelude::*;

mod common;

use common::*;

const SUPERUSER_PASSWORD: &str = "super-Secret-9f3k";

/// One scram server for the whole file (a cluster takes a second or two to create).
fn server() -> &'static PrivateServer {
    static SERVER: OnceLock<PrivateServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let s = PrivateServer::scram(SUPERUSER_PASSWORD);
        let rt = runtime();
        rt.block_on(s.exec("postgres", "create role app_user login createdb"));
        s
    })
}

/// Serializes the cases: they share one role on one server.
fn guard() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn literal(s: &str) -> String {
    strata::quote::literal(s)
}

/// Sets `app_user`'s password and gives it a fresh database `secret_db`.
fn reset_role(password: &str) {
    let s = server();
    let rt = runtime();
    rt.block_on(s.exec(
        "postgres",
        &format!("alter role app_user password {}", literal(password)),
    ));
    rt.block_on(s.exec("postgres", "drop database if exists secret_db with (force)"));
    rt.block_on(s.exec("postgres", "create database secret_db owner app_user"));
}

fn encoded(password: &str) -> String {
    strata::conninfo::encode_userinfo(password)
}

fn kv_quoted(password: &str) -> String {
    format!("'{}'", password.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// Every command, in every form a password can be given in, with this password; all output
/// concatenated, volatile figures (durations, timestamps, pids) normalised.
fn outputs(project: &Path, password: &str) -> String {
    reset_role(password);
    let port = server().port();
    let raw = format!("postgresql://app_user:{password}@127.0.0.1:{port}/secret_db");
    let enc = format!(
        "postgresql://app_user:{}@127.0.0.1:{port}/secret_db",
        encoded(password)
    );
    let kv = format!(
        "host=127.0.0.1 port={port} user=app_user dbname=secret_db password={}",
        kv_quoted(password)
    );
    let wrong = format!(
        "postgresql://app_user:{}x@127.0.0.1:{port}/secret_db",
        encoded(password)
    );
    let commands: [&[&str]; 5] = [
        &["push", "--dry-run"],
        &["push", "-o", "json"],
        &["migration", "list"],
        &["migration", "list", "-o", "json"],
        &["sql", "select current_user"],
    ];
    let mut all = String::new();
    let mut record = |run: Run| {
        all.push_str(&run.stdout);
        all.push_str(&run.stderr);
    };
    for url in [&raw, &enc, &kv] {
        for c in commands {
            let mut args = c.to_vec();
            args.extend(["--db-url", url.as_str()]);
            record(strata(project, &args));
        }
    }
    // Through the environment: DATABASE_URL and STRATA_DB_URL, and libpq's PGPASSWORD.
    for c in commands {
        record(strata_env(project, c, &[("DATABASE_URL", &enc)]));
        record(strata_env(project, c, &[("STRATA_DB_URL", &raw)]));
        let no_pw = format!("postgresql://app_user@127.0.0.1:{port}/secret_db");
        let mut args = c.to_vec();
        args.extend(["--db-url", no_pw.as_str()]);
        record(strata_env(project, &args, &[("PGPASSWORD", password)]));
    }
    // The wrong password: an authentication error, human and JSON.
    for output in ["human", "json"] {
        record(strata(project, &["push", "--db-url", &wrong, "-o", output]));
    }
    // A refused push (the applied file changed) prints hints with the target.
    std::fs::write(
        project.join("migrations/1_t.sql"),
        "create table t (id bigint);\n",
    )
    .unwrap();
    record(strata(project, &["push", "--db-url", &enc]));
    record(strata(project, &["push", "--db-url", &enc, "-o", "json"]));
    std::fs::write(project.join("migrations/1_t.sql"), MIGRATION).unwrap();
    normalise(&all)
}

const MIGRATION: &str = "create table t (id int);\n";

fn normalise(text: &str) -> String {
    static PATTERNS: OnceLock<Vec<(regex::Regex, &'static str)>> = OnceLock::new();
    let patterns = PATTERNS.get_or_init(|| {
        [
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
                "<time>",
            ),
            (r"\d+(\.\d+)? ?(ms|s)\b", "<duration>"),
            (
                r#""(duration_ms|lock_waited_ms|duration)": \d+"#,
                "<duration>",
            ),
            (r"pid \d+", "pid <pid>"),
            (r"\b\d+ (ms|s)\)", "<duration>)"),
        ]
        .iter()
        .map(|(p, r)| (regex::Regex::new(p).unwrap(), *r))
        .collect()
    });
    let mut out = text.to_string();
    for (re, with) in patterns {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

/// The 4-character pieces of `password` (as written, JSON-escaped and percent-encoded) that
/// `output` holds and `control` (the same runs with another password) does not.
fn leaked_pieces(password: &str, output: &str, control: &str) -> Vec<String> {
    let json = serde_json::to_string(password).unwrap();
    let json = &json[1..json.len() - 1];
    let mut found = Vec::new();
    for form in [password, json, &encoded(password)] {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(4) {
            let piece: String = w.iter().collect();
            if output.contains(&piece) && !control.contains(&piece) && !found.contains(&piece) {
                found.push(piece);
            }
        }
    }
    found
}

fn project_dir() -> tempfile::TempDir {
    project(&[("1_t.sql", MIGRATION)])
}

fn password_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        // Printable ASCII, every URL-reserved character included.
        "[ -~]{8,24}",
        // Reserved characters dense.
        "[@/:?#%&= '\"\\\\a-z]{8,16}",
        // Beyond ASCII.
        "[a-zA-Zäöüé€中文 @/:]{8,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 10,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn no_output_contains_any_piece_of_the_password(
        password in password_strategy(),
        control in "[A-Z]{12}",
    ) {
        let _g = guard();
        let p = project_dir();
        let out = outputs(p.path(), &password);
        let q = project_dir();
        let base = outputs(q.path(), &control);
        let leaks = leaked_pieces(&password, &out, &base);
        prop_assert!(leaks.is_empty(), "password {password:?} leaked {leaks:?} in:\n{out}");
    }
}

#[test]
fn the_password_forms_connect_so_the_leak_test_means_something() {
    let _g = guard();
    let password = "a b@c/d:e?f#g%h'i\\j";
    reset_role(password);
    let p = project_dir();
    let port = server().port();
    for url in [
        format!(
            "postgresql://app_user:{}@127.0.0.1:{port}/secret_db",
            encoded(password)
        ),
        format!(
            "host=127.0.0.1 port={port} user=app_user dbname=secret_db password={}",
            kv_quoted(password)
        ),
    ] {
        let run = strata(p.path(), &["sql", "select current_user", "--db-url", &url]);
        assert_eq!(run.code, 0, "{run:?}");
        assert!(run.stdout.contains("app_user"), "{run:?}");
    }
    let run = strata(
        p.path(),
        &[
            "sql",
            "select 1",
            "--db-url",
            &format!("postgresql://app_user:nope@127.0.0.1:{port}/secret_db"),
        ],
    );
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("password authentication failed"),
        "{run:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The same input means the same database to psql and to Strata
// ---------------------------------------------------------------------------------------------

/// The real psql: the newest under /usr/lib/postgresql, else the one on PATH.
fn psql() -> PathBuf {
    let mut found: Vec<(f64, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<f64>().ok()?;
            let bin = e.path().join("bin/psql");
            bin.exists().then_some((version, bin))
        })
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found.pop().map(|(_, p)| p).unwrap_or_else(|| "psql".into())
}

const WHO: &str =
    "select current_user || '|' || current_database() || '|' || coalesce(inet_server_port()::text, 'socket')";

/// What psql connects to with `conninfo` and `env` (`None`: it could not connect).
fn psql_sees(conninfo: &str, env: &BTreeMap<&str, String>, home: &Path) -> Option<String> {
    let mut c = Command::new(psql());
    c.args(["-X", "-A", "-t", "-d", conninfo, "-c", WHO])
        .env("HOME", home)
        .env("PGCONNECT_TIMEOUT", "5");
    for var in CLEARED_ENV {
        c.env_remove(var);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run psql");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// What `strata sql --db-url conninfo` connects to with the same environment.
fn strata_sees(conninfo: &str, env: &BTreeMap<&str, String>, home: &Path) -> Option<String> {
    let p = project(&[]);
    let mut c = command(p.path(), &["sql", "--db-url", conninfo, "-o", "json", WHO]);
    c.env("HOME", home);
    for (k, v) in env {
        c.env(k, v);
    }
    let r = run(c);
    (r.code == 0).then(|| {
        r.json()["result"]["rows"][0][0]
            .as_str()
            .unwrap_or_default()
            .to_string()
    })
}

#[test]
fn connection_strings_mean_what_they_mean_to_psql() {
    let _g = guard();
    let s = server();
    let port = s.port();
    let password = "p@ss w:rd/?#'\\";
    reset_role(password);
    let home = tempfile::tempdir().unwrap();
    let pgpass = home.path().join(".pgpass");
    std::fs::write(
        &pgpass,
        format!(
            "127.0.0.1:{port}:*:app_user:{}\n",
            password.replace('\\', "\\\\").replace(':', "\\:")
        ),
    )
    .unwrap();
    let passfile_elsewhere = home.path().join("other.pgpass");
    std::fs::copy(&pgpass, &passfile_elsewhere).unwrap();
    for f in [&pgpass, &passfile_elsewhere] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let service_file = home.path().join("services.conf");
    std::fs::write(
        &service_file,
        format!("[appdb]\nhost=127.0.0.1\nport={port}\nuser=app_user\ndbname=secret_db\n"),
    )
    .unwrap();
    let enc = encoded(password);
    let env = |pairs: &[(&'static str, String)]| -> BTreeMap<&'static str, String> {
        pairs.iter().cloned().collect()
    };
    let no_pgpass = env(&[("PGPASSFILE", "/nonexistent".into())]);
    let cases: Vec<(String, BTreeMap<&str, String>)> = vec![
        // The password in the URL, percent-encoded.
        (
            format!("postgresql://app_user:{enc}@127.0.0.1:{port}/secret_db"),
            no_pgpass.clone(),
        ),
        (
            format!("postgres://app_user:{enc}@127.0.0.1:{port}/secret_db?sslmode=disable&application_name=x"),
            no_pgpass.clone(),
        ),
        // key=value, quoted.
        (
            format!(
                "host=127.0.0.1 port={port} user=app_user dbname=secret_db password={}",
                kv_quoted(password)
            ),
            no_pgpass.clone(),
        ),
        // PGPASSWORD fills in the password the URL leaves out.
        (
            format!("postgresql://app_user@127.0.0.1:{port}/secret_db"),
            env(&[
                ("PGPASSWORD", password.to_string()),
                ("PGPASSFILE", "/nonexistent".into()),
            ]),
        ),
        // ~/.pgpass, and PGPASSFILE.
        (
            format!("postgresql://app_user@127.0.0.1:{port}/secret_db"),
            BTreeMap::new(),
        ),
        (
            format!("postgresql://app_user@127.0.0.1:{port}/secret_db"),
            env(&[(
                "PGPASSFILE",
                passfile_elsewhere.display().to_string(),
            )]),
        ),
        // Host, port, user and database all from the environment.
        (
            "postgresql:///".to_string(),
            env(&[
                ("PGHOST", "127.0.0.1".into()),
                ("PGPORT", port.to_string()),
                ("PGUSER", "app_user".into()),
                ("PGDATABASE", "secret_db".into()),
            ]),
        ),
        // A service file.
        (
            "service=appdb".to_string(),
            env(&[("PGSERVICEFILE", service_file.display().to_string())]),
        ),
        // Two hosts, the first refusing: the second is used.
        (
            format!(
                "postgresql://app_user:{enc}@127.0.0.1:1,127.0.0.1:{port}/secret_db?connect_timeout=2"
            ),
            no_pgpass.clone(),
        ),
        (
            format!(
                "host=127.0.0.1,127.0.0.1 port=1,{port} user=app_user dbname=secret_db target_session_attrs=read-write password={}",
                kv_quoted(password)
            ),
            no_pgpass.clone(),
        ),
        // The wrong password fails for both.
        (
            format!("postgresql://app_user:wrong@127.0.0.1:{port}/secret_db"),
            no_pgpass.clone(),
        ),
        // No password at all fails for both (scram needs one).
        (
            format!("postgresql://app_user@127.0.0.1:{port}/secret_db"),
            no_pgpass.clone(),
        ),
        // The dbname defaults to the user name (there is no database app_user: both fail).
        (
            format!("postgresql://app_user:{enc}@127.0.0.1:{port}"),
            no_pgpass.clone(),
        ),
    ];
    for (conninfo, env) in &cases {
        let want = psql_sees(conninfo, env, home.path());
        let got = strata_sees(conninfo, env, home.path());
        assert_eq!(got, want, "{conninfo} with {env:?}");
    }
    // Sanity: most cases connect.
    let connected = cases
        .iter()
        .filter(|(c, e)| psql_sees(c, e, home.path()).is_some())
        .count();
    assert!(connected >= 9, "only {connected} cases connected");
}

#[test]
fn a_url_without_host_uses_the_default_socket_as_psql_does() {
    // The machine's own server, if it listens on the default socket directory.
    let socket = ["/var/run/postgresql", "/tmp"]
        .iter()
        .map(|d| Path::new(d).join(".s.PGSQL.5432"))
        .find(|p| p.exists());
    let Some(_) = socket else {
        eprintln!("skipped: no server on the default Unix socket");
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let env = BTreeMap::new();
    for conninfo in [
        "postgresql://postgres@/postgres",
        "postgresql:///postgres?user=postgres",
        "user=postgres dbname=postgres",
    ] {
        let want = psql_sees(conninfo, &env, home.path());
        let got = strata_sees(conninfo, &env, home.path());
        assert_eq!(got, want, "{conninfo}");
        assert!(want.is_some_and(|w| w.ends_with("|socket")), "{conninfo}");
    }
}
