//! The command line: every flag defined once, its help next to it. Parsing only validates;
//! `main.rs` resolves the result once into a project, a migration set and a target.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "PostgreSQL and Supabase migrations: plain SQL files, safe pushes, a local database without Docker.",
    long_about = "Strata applies plain-SQL migrations to PostgreSQL and Supabase databases.\n\n\
Migrations are files named <version>_<name>.sql in supabase/migrations/ or migrations/ \
(the Supabase CLI's layout); an optional <version>_<name>_rollback.sql beside each undoes it. \
The history lives in supabase_migrations.schema_migrations, shared with the Supabase CLI.\n\n\
With no database given, Strata starts a private PostgreSQL cluster under .strata/ from the \
installed server binaries and uses it.",
    after_help = "Examples:\n  strata migration new add_user_settings   write a timestamped migration\n  strata push --dry-run                     show the SQL that would run\n  strata push                               apply pending migrations to the local database\n  strata push --env production              apply them to [environments.production]\n  strata migration list --linked            compare local files with the linked Supabase project"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Migrations directory [default: migrations_dir in strata.toml, else supabase/migrations/, else migrations/]
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Path to strata.toml [default: the nearest strata.toml in this or a parent directory]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// The database, as libpq reads it: a URL (postgresql://user:password@host:5432/db?sslmode=require) or key=value text (host=h user=u dbname=d); wins over every other target
    #[arg(
        long_help = "The database to work on; wins over --env, --linked, DATABASE_URL and the local cluster.\n\n\
Written as libpq (and psql) read it: a URL postgresql://user:password@host:port/dbname?param=value \
(percent-encode reserved characters in the password: @ as %40, / as %2F, : as %3A, # as %23, ? as %3F) \
or key=value text (host=db.example.com port=5432 user=app dbname=app password='a b'). No host means \
the default Unix socket (postgresql://app@/app). Several hosts, target_session_attrs, \
load_balance_hosts, connect_timeout, options, application_name, keepalives, sslmode \
(disable, allow, prefer, require, verify-ca, verify-full) and sslrootcert are honoured.\n\n\
What the string leaves out comes from libpq's environment variables (PGHOST, PGPORT, PGUSER, \
PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGOPTIONS, PGAPPNAME, PGCONNECT_TIMEOUT, \
PGTARGETSESSIONATTRS …), a service (service=NAME or PGSERVICE, from PGSERVICEFILE or \
~/.pg_service.conf), and the password file (~/.pgpass or PGPASSFILE, mode 0600), exactly as psql \
would; they never choose the target. Unset, connect_timeout is 10 s.\n\n\
The password is never printed: the Target line and every message show user:****@host, and a \
string that does not parse is not echoed. Supabase's transaction pooler (port 6543) is refused: it \
cannot hold the migration lock; use the session pooler (port 5432) or the direct host.",
        long,
        global = true,
        value_name = "URL",
        env = "STRATA_DB_URL",
        hide_env_values = true
    )]
    pub db_url: Option<String>,

    /// Use [environments.NAME] from strata.toml
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub env: Option<String>,

    /// Use the Supabase project recorded by `strata link` (password from SUPABASE_DB_PASSWORD)
    #[arg(long, global = true)]
    pub linked: bool,

    /// lock_timeout for migration sessions, e.g. 5s: a migration waiting longer for a lock fails fast instead of blocking traffic
    #[arg(long, global = true, value_name = "DURATION", value_parser = duration)]
    pub lock_timeout: Option<String>,

    /// statement_timeout for migration sessions, e.g. 10min
    #[arg(long, global = true, value_name = "DURATION", value_parser = duration)]
    pub statement_timeout: Option<String>,

    /// Platform the migrations expect: supabase (emulate roles, auth, storage on plain PostgreSQL) or none [default: platform in strata.toml, else supabase for supabase/migrations]
    #[arg(long, global = true, value_parser = ["supabase", "none"])]
    pub platform: Option<String>,

    /// Output format: human text, or one JSON document on stdout (shape in docs/json-output.md)
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Human)]
    pub output: Output,

    /// Print only warnings and errors (stderr); a skipped file or ignored setting is never silent
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Human,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations in order, each in one transaction with its history row
    #[command(long_about = "Apply pending migrations in version order.\n\n\
Each migration runs in one transaction together with its history rows: it is applied and \
recorded, or not at all. A file with its own BEGIN;/COMMIT; stays atomic with its history row. \
A file holding a statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, \
ALTER SYSTEM …) or marked `-- strata:no-transaction` runs statement by statement; if one fails, \
the statements before it stay applied and the migration is not recorded.\n\n\
One advisory lock covers every write of the run: concurrent pushes wait (--lock-wait), then find \
nothing to do. The plan is read, then read again once the lock is held, and only then does \
anything change: the Supabase platform emulation (on plain PostgreSQL), the history tables, the \
migrations, the seeds.\n\n\
Seeds (--include-seed: `[seed] paths` in strata.toml, else `[db.seed] sql_paths` in \
supabase/config.toml, else seed.sql beside the migrations) run once per path: a seed changed since \
it ran is only re-hashed, as the Supabase CLI does; --reseed runs every seed again. \
`[db.migrations] enabled = false` in supabase/config.toml (or `migrations_enabled = false` in \
strata.toml) skips the migrations, as the Supabase CLI does.\n\n\
Refuses, before changing anything (exit 7): a pending file older than the newest applied version \
(--include-all applies it), an applied file that changed, an applied version with no file. Lint \
Lint is a gate for live databases: pending migrations are linted with the applied versions as \
what is deployed; on a live target (migration history, or any user object) a finding in a \
pending file at or above push_fail_on refuses (exit 3, nothing changed; --no-lint skips the \
check). On a fresh target (no history from Strata or any other tool, no user objects: db reset, a \
CI service database, a new environment) the set re-creates history, so the findings are only \
reported. push_fail_on is read from [environments.NAME] for --env NAME, else [lint] \
push_fail_on, else [lint] fail_on, else error. Each hint names the command that fixes it, with \
this run's target.\n\n\
What the server says while a migration runs (RAISE NOTICE, warnings) is printed with the file's \
name; a statement that waits more than a second for a table lock says which lock and who holds \
it, every few seconds, until it gets it (set --lock-timeout to fail fast instead).\n\n\
--fleet NAME pushes every database of [fleets.NAME] in strata.toml (a LIKE pattern on a server, \
a list of URLs, or a registry query): the first --canary K alone, then up to --parallel N at a \
time, each exactly as a single push; exit 9 when some failed, each named (docs/fleets.md).")]
    Push(PushArgs),

    /// Undo the newest applied migrations with their _rollback.sql files
    #[command(
        long_about = "Undo the newest applied migrations by running their rollback files, newest first.\n\n\
Each rollback file (<version>_<name>_rollback.sql beside the migration, or in rollbacks/) runs in \
one transaction together with the removal of its migration's history rows: the migration is undone \
and forgotten, or neither. A rollback file holding a statement that cannot run in a transaction \
(DROP INDEX CONCURRENTLY …) runs statement by statement with the history removal last.\n\n\
Nothing runs unless every selected migration has its file and rollback file, unchanged since it \
was applied; a rollback file marked `-- strata:irreversible` refuses (restore a backup instead: \
`strata restore`). There is no implicit wipe: say how many (--last N) or down to which applied \
version (--to VERSION). Takes the same lock as push (--lock-wait).",
        after_help = "Examples:\n  strata rollback                        undo the newest applied migration\n  strata rollback --last 3 --dry-run     show the SQL that would undo the newest three\n  strata rollback --to 20240102000000    undo everything applied after that version\n  strata rollback --env staging -o json  on [environments.staging], as JSON"
    )]
    Rollback(RollbackArgs),

    /// Write a pg_dump archive of the target (schema and data) into .strata/backups/
    #[command(
        long_about = "Write a pg_dump archive (custom format) of the target: schema, data and migration history.\n\n\
pg_dump is taken from STRATA_PG_BINDIR, else the newest installed PostgreSQL client tools; it must \
be at least as new as the target server. Credentials are passed in the environment, never on the \
command line. `strata push --backup` (or backup = true in [environments.NAME]) does the same before \
each push that applies something.",
        after_help = "Examples:\n  strata backup --env production\n  strata backup --output-file before-cleanup.dump"
    )]
    Backup(BackupArgs),

    /// Restore a backup into the target: ALL data goes back to the moment of the backup
    #[command(
        long_about = "Restore a pg_dump archive into the target.\n\n\
This brings back ALL data as it was when the backup was taken, not just the schema: rows written \
since then to the objects in the backup are lost. Every object in the archive is dropped and \
recreated with its data (pg_restore --clean --if-exists --no-owner), in one transaction and under \
the migration lock: the restore completes, or changes nothing. Objects created after the backup \
are left alone. The migration history goes back to the backup's too.\n\n\
On a terminal you are asked to type the database name; under CI=true or without a terminal, \
--yes is required.",
        after_help = "Examples:\n  strata restore .strata/backups/app-20240115T093000Z-before-20240115093000.dump\n  strata restore --env staging --yes backup.dump"
    )]
    Restore(RestoreArgs),
    /// Check migrations: the seed's conventions, lock and compatibility hazards, row-level security
    #[command(
        long_about = "Check migration files with PostgreSQL's own grammar: the seed's conventions \
(file name, header), idempotency (IF NOT EXISTS, OR REPLACE, guarded policies), transactions, \
schema and data changes kept apart, backwards-incompatible changes to existing tables (each \
with the four-phase expand/contract plan for the case at hand), lock and rewrite hazards on \
existing tables, row-level security and security (tables without RLS in an exposed schema, \
auth.uid() per row, always-true write policies, SECURITY DEFINER without search_path …) and \
types.\n\n\
The RLS and security rules also run exactly on a database's catalog, as Supabase's advisors do: \
--schema builds the migrations on a scratch database (local cluster, or STRATA_SCRATCH_URL); \
--db-url/--env/--linked check that database instead. Plain `strata lint` never connects.\n\n\
Files are checked as a migration set in run order. Changes to an existing table are where locks \
and broken code come from, so what counts as existing follows what is deployed. A table is new \
(no locking or compatibility finding) only when it is created earlier in the same file, or in a \
file that is not deployed. Deployed means: with --db-url/--env/--linked, the versions applied \
there; with --changed-since REF, the files that exist at REF; otherwise every file before the one \
checked (as squawk assumes), unless [lint] assume_deployed = \"none\" says nothing is deployed yet.\n\n\
Levels, rules turned off and excluded paths come from [lint] in strata.toml; \
`-- strata-lint: ignore <rule> <reason>` before a statement silences a rule there, \
`-- strata-lint: ignore-file <rule>` for the whole file.\n\n\
Exit code 3 when a finding is at or above --fail-on (default error), else 0.",
        after_help = "Examples:\n  strata lint                                   lint the migrations directory\n  strata lint --changed-since origin/main       only files changed on this branch (CI)\n  strata lint --format sarif > lint.sarif       for GitHub code scanning\n  strata lint --rules                           every rule with its level and what it finds\n  strata lint --explain breaking-rename-column  what a rule checks and how to fix it\n  strata lint --schema                          also check RLS and security on a database built from the migrations\n  strata lint --env production                  also check RLS and security on production's catalog"
    )]
    Lint(LintArgs),

    /// Create, list, repair and adopt migration files
    #[command(subcommand)]
    Migration(MigrationCommand),

    /// The local database: a private PostgreSQL cluster under .strata/, no Docker
    #[command(subcommand)]
    Db(DbCommand),

    /// Write a commented strata.toml and the migrations directory
    Init(InitArgs),

    /// Run SQL on the target, optionally as a Supabase user (to see row-level security at work)
    #[command(
        long_about = "Run SQL on the target in one transaction, optionally as a Supabase user.\n\n\
With --as-user UUID the SQL runs as role authenticated with that user's JWT claims \
(request.jwt.claims, so auth.uid() returns UUID), exactly as PostgREST runs an API request; \
--as anon and --as service_role likewise. Without them it runs as the connection's user.\n\n\
Example: strata sql --as-user 11111111-1111-1111-1111-111111111111 'select id, title from encrypted_chats'"
    )]
    Sql(SqlArgs),

    /// Compare the schema the migrations build with the target's; print the drift and the SQL that fixes it
    #[command(
        long_about = "Compare the schema the migrations build with the target's catalog.\n\n\
The migrations are applied to a throwaway database (on the local cluster, or on \
STRATA_SCRATCH_URL), then both catalogs are compared: schemas, tables, columns, constraints, \
indexes, views and their options, functions, triggers, policies, RLS flags, grants, default \
privileges, extensions, publications, sequences, types, comments, event triggers and Supabase \
storage buckets. For Supabase projects, what the platform owns (auth, storage, extensions, \
realtime … schemas) is left out, except what users add there: policies on storage.objects, \
triggers on auth.users, their own functions, bucket rows.\n\n\
Prints each difference and the SQL that brings the migrations up to the target (and its \
rollback). --write NAME saves both as a new migration. Exit code 4 when there is drift, 0 when \
there is none.",
        after_help = "Examples:\n  strata diff --env production                 what was changed by hand in production?\n  strata diff --linked --schema public         only the public schema\n  strata diff --env staging --write sync_hand_changes   save the fix as a migration"
    )]
    Diff(DiffArgs),

    /// Schema as code: compare the declarative schema files with the migrations, write the migration
    #[command(subcommand)]
    Schema(SchemaCommand),

    /// Prove the rollback files right: apply each migration, roll it back, compare, re-apply
    #[command(
        long_about = "Prove the rollback files right on a throwaway database.\n\n\
For each migration in order: capture the catalog, apply the migration, run its _rollback.sql, \
capture again and compare, then apply the migration again and go on. Anything the rollback \
leaves behind (an index, a policy), fails to recreate, or restores differently (a grant, a \
column with another type or default) is reported with the migration and the object.\n\n\
A rollback file with a `-- strata:irreversible [reason]` line is not round-tripped (the \
migration drops data, say): reported as irreversible, not as a failure. A migration without a \
rollback file is reported; --require-rollbacks makes that a failure.\n\n\
The throwaway database is on the local cluster, or on STRATA_SCRATCH_URL. Exit code 1 when any \
rollback is asymmetric or fails.",
        after_help = "Examples:\n  strata verify                       check every rollback file\n  strata verify --require-rollbacks   and fail when a migration has none (CI)"
    )]
    Verify(VerifyArgs),

    /// Record the Supabase project that --linked connects to
    #[command(
        long_about = "Record the Supabase project that --linked connects to.\n\n\
--linked then connects to db.<REF>.supabase.co:5432 as postgres over TLS, with the password \
from SUPABASE_DB_PASSWORD (environment or .env). The ref is stored in .strata/project-ref; \
a ref written by `supabase link` (supabase/.temp/project-ref) is read too.\n\n\
db.<REF>.supabase.co has only IPv6 addresses unless the project bought the IPv4 add-on. When this \
machine has no IPv6 route (most CI runners), --linked goes through the project's session pooler \
(<region>.pooler.supabase.com:5432, user postgres.<REF>) instead, as the Supabase CLI does, and \
says so on its Target line. Give the pooler with --pooler-url (copied from the dashboard's Connect \
dialog), or let `supabase link` record it in supabase/.temp/pooler-url. Never the transaction \
pooler (port 6543): it cannot hold the migration lock.",
        after_help = "Examples:\n  strata link --project-ref abcdefghijklmnopqrst\n  strata link --project-ref abcdefghijklmnopqrst --pooler-url 'postgresql://postgres.abcdefghijklmnopqrst@aws-0-eu-central-1.pooler.supabase.com:5432/postgres'"
    )]
    Link(LinkArgs),
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Print each pending migration's file and the exact SQL that would run; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Also apply pending files older than the newest applied version
    #[arg(long)]
    pub include_all: bool,

    /// Run the seed files after the migrations: each once per path, tracked in supabase_migrations.seed_files; a seed changed since it ran is not run again, only its new hash recorded (as the Supabase CLI does) — --reseed runs it again
    #[arg(long)]
    pub include_seed: bool,

    /// Run every seed file again, even unchanged ones (implies --include-seed); make seeds idempotent (ON CONFLICT DO NOTHING) first
    #[arg(long)]
    pub reseed: bool,

    /// How long to wait for another run's migration lock [default: lock_wait in strata.toml, else 60s]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub lock_wait: Option<String>,

    /// Skip the lint gate (on a live target, push refuses on findings in pending files at or above push_fail_on, default [lint] fail_on, else error)
    #[arg(long)]
    pub no_lint: bool,

    /// First compare the target with what its applied migrations build (on a scratch database) and warn if someone changed it by hand
    #[arg(long)]
    pub check_drift: bool,

    /// Before applying anything, pg_dump the target into .strata/backups/ (also: backup = true under [environments.NAME])
    #[arg(long)]
    pub backup: bool,

    /// Push every database of [fleets.NAME] in strata.toml, canaries first (not with --db-url, --env or --linked)
    #[arg(long, value_name = "NAME")]
    pub fleet: Option<String>,

    /// With --fleet: at most N pushes at once [default: 8, fewer when a server has less connection headroom]
    #[arg(long, value_name = "N", requires = "fleet", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,

    /// With --fleet: push the first K databases (in name order) alone first; if one fails, touch nothing else [default: 1]
    #[arg(long, value_name = "K", requires = "fleet", value_parser = clap::value_parser!(u32))]
    pub canary: Option<u32>,

    /// With --fleet: go on after a database fails (without it, no new push starts; running ones finish)
    #[arg(long, requires = "fleet")]
    pub keep_going: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Fail when a migration has no rollback file
    #[arg(long)]
    pub require_rollbacks: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Compare only this schema (repeatable) [default: every schema the migrations own]
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,

    /// Save the SQL as a new migration <timestamp>_<NAME>.sql and its _rollback.sql (lock-safe steps, proven on a scratch database, passed through the lint gate), then exit 0
    #[arg(long, value_name = "NAME")]
    pub write: Option<String>,

    /// With --write: allow a migration that drops tables or columns (and their data) the target no longer has
    #[arg(long, requires = "write")]
    pub allow_data_loss: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Undo the newest N applied migrations [default: 1]
    #[arg(long, value_name = "N", conflicts_with = "to", value_parser = clap::value_parser!(u32).range(1..))]
    pub last: Option<u32>,

    /// Undo every applied migration newer than VERSION (which must be applied; it stays applied)
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,

    /// Print each rollback file and the exact SQL that would run; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// How long to wait for another run's migration lock [default: lock_wait in strata.toml, else 60s]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub lock_wait: Option<String>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the archive [default: .strata/backups/<db>-<UTC time>.dump]
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The archive to restore (written by `strata backup` or `strata push --backup`)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Do not ask for confirmation (required under CI=true or without a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// How long to wait for another run's migration lock [default: lock_wait in strata.toml, else 60s]
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    pub lock_wait: Option<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migration files or directories [default: the migrations directory]
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,

    /// Report only files changed since this git revision (committed since the branch forked from it, uncommitted, or untracked); the whole set is still read as context
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,

    /// Output format [default: human; github under GitHub Actions; json with --output json]
    #[arg(long, value_enum)]
    pub format: Option<LintFormat>,

    /// Lowest level that makes the exit code 3 [default: fail_on in [lint], else error]
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,

    /// Print a rule's documentation (what it finds, why, how to fix) and exit
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,

    /// List every rule: id, level (after [lint] rules in strata.toml), category, what it finds
    #[arg(long, conflicts_with = "explain")]
    pub rules: bool,

    /// Also run the catalog rules (RLS, security definer, duplicate indexes …) on a scratch database built from the migrations (local cluster, or STRATA_SCRATCH_URL). With --db-url/--env/--linked instead, they run on that database's catalog
    #[arg(long)]
    pub schema: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// rustc-style text with the SQL underlined
    Human,
    /// One JSON document (docs/json-output.md)
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other tools)
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request)
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Print the SQL that turns what the migrations build into what the schema files describe
    #[command(
        long_about = "Compare the declarative schema files with the migrations.\n\n\
The migrations are built on one throwaway database and the schema files (supabase/schemas/, \
[db.migrations] schema_paths in supabase/config.toml, or schema_paths in strata.toml; applied in \
lexical order) on another, on the local cluster or STRATA_SCRATCH_URL; both catalogs are compared \
as `strata diff` compares them, and the SQL that turns the first into the second is printed with \
its rollback. Exit code 4 when they differ, 0 when they do not.\n\n\
Renames are never guessed: write `-- strata:renamed-from OLD` on the line of a renamed column \
(or the line before it), or on the line before a renamed table's CREATE TABLE, and the change \
renames instead of dropping and adding.\n\n\
--write NAME proves the change before writing anything: on a third throwaway database the \
migrations and the change must build exactly what the schema files build, and the rollback must \
bring back exactly what the migrations build. Then <timestamp>_NAME.sql and its rollback are \
written. A change that drops a table or column (its data) is refused without --allow-data-loss; \
with --db-url, --env or --linked, the output also says how many rows (or non-null values) that \
database holds of what would be dropped (it is only read).",
        after_help = "Examples:\n  strata schema diff                          what the schema files change\n  strata schema diff --write add_due_dates    write it as a proven migration and its rollback\n  strata schema diff -o json                  the differences, the SQL and its rollback as JSON"
    )]
    Diff(SchemaDiffArgs),

    /// Write what the migrations build (or a database has) as schema files, one per table
    #[command(
        long_about = "Write the state the migrations build as declarative schema files.\n\n\
The migrations are built on a throwaway database (local cluster, or STRATA_SCRATCH_URL); with \
--db-url, --env or --linked that database's catalog is read instead. The files go to the schema \
directory (supabase/schemas/, or where schema_paths points): one file per table with its columns, \
constraints, indexes, triggers, grants, comments and own policies, plus files for schemas and \
extensions, types, functions, views, cross-table references (foreign keys, policies that read \
other tables) and storage buckets, named so that they apply with plain `psql -f` in lexical \
order. For Supabase projects, what the platform owns stays out; the project's policies on \
storage.objects, triggers on auth.users and bucket rows are in.\n\n\
Proven before anything is written: the files are built on a scratch database and must give the \
same catalog. A directory that already holds .sql files is refused unless --force.",
        after_help = "Examples:\n  strata schema dump                      from the migrations\n  strata schema dump --env production     from production's catalog\n  strata schema dump --force              replace the files that are there"
    )]
    Dump(SchemaDumpArgs),
}

#[derive(Debug, Args)]
pub struct SchemaDumpArgs {
    /// Replace the .sql files already in the schema directory
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SchemaDiffArgs {
    /// Compare only this schema (repeatable) [default: every schema]
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,

    /// Prove the change, then save it as <timestamp>_<NAME>.sql and its _rollback.sql
    #[arg(long, value_name = "NAME")]
    pub write: Option<String>,

    /// Let --write drop tables and columns the schema files no longer have (their data is lost)
    #[arg(long, requires = "write")]
    pub allow_data_loss: bool,
}

#[derive(Debug, Subcommand)]
pub enum MigrationCommand {
    /// Write <UTC yyyymmddHHMMSS>_<NAME>.sql with the seed's header template
    New {
        /// The name: [action]_[subject], e.g. add_user_settings
        name: String,
        /// Also write the <version>_<NAME>_rollback.sql sibling
        #[arg(long)]
        rollback: bool,
    },
    /// Every version, local and remote, with its state and when it was applied
    List {
        /// Also compare the target with what its applied migrations build and warn about drift
        #[arg(long)]
        check_drift: bool,
        /// Every database of [fleets.NAME]: its newest applied version, pending, modified and missing files, and how many are at each version (with --check-drift: what was changed by hand in each)
        #[arg(long, value_name = "NAME")]
        fleet: Option<String>,
    },
    /// Mark versions applied or reverted in the history without running them
    #[command(
        long_about = "Edit the migration history without running any SQL (Supabase CLI semantics).\n\n\
--status applied V…  records V as applied (name, statements and checksum from the local file).\n\
--status reverted V… removes V from the history."
    )]
    Repair {
        /// What to record
        #[arg(long, value_enum)]
        status: RepairStatusArg,
        /// Versions to repair
        #[arg(required = true, value_name = "VERSION")]
        versions: Vec<String>,
        /// How long to wait for another run's migration lock [default: lock_wait in strata.toml, else 60s]
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        lock_wait: Option<String>,
    },
    /// Replace the migrations up to VERSION by one proven baseline that keeps their rows
    #[command(
        long_about = "Replace the migrations up to VERSION (inclusive) by one baseline, <VERSION>_baseline.sql, \
and its rollback.\n\n\
The squashed migrations are built on throwaway databases (private clusters under .strata/scratch, \
or STRATA_SCRATCH_URL); the baseline creates the schema they build and keeps the rows they wrote \
(reference data, storage buckets), with every sequence where they left it. Proven before \
anything is written: the baseline and the later migrations must build the same catalog (column \
order included) and the same rows as the original migrations, and the baseline's rollback must \
undo it. What a baseline cannot carry is refused by name: object kinds Strata does not model, \
roles the migrations create or change, rows they write into the platform's own tables.\n\n\
Databases that applied the squashed migrations record them, not the baseline: with --db-url, \
--env or --linked, that database's history rows are replaced by the baseline's in one \
transaction, under push's migration lock, after the history is read again under it. It must \
have applied exactly the squashed migrations, unchanged (as push checks): otherwise the squash \
is refused (exit 7) and nothing changes. Run it once per database; after the files are \
squashed, the same command only rewrites the history of the database it names. A run that was \
interrupted is finished by running it again.",
        after_help = "Examples:\n  strata migration squash --to 20240107000000 --dry-run   show the baseline, change nothing\n  strata migration squash --to 20240107000000 --env production\n  strata migration squash --to 20240107000000 --env staging   (files squashed already: history only)\n\nExit codes: 0 done; 2 bad --to or settings; 3 the baseline fails the lint gate; 5 lock not obtained;\n7 refused (the history does not fit, or something the baseline cannot carry); 8 the migrations fail on a scratch database."
    )]
    Squash {
        /// The newest migration to squash
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// Prove and print the baseline (and whether the named database fits); take no lock, write and change nothing
        #[arg(long)]
        dry_run: bool,
        /// How long to wait for another run's migration lock (and another squash of this project) [default: lock_wait in strata.toml, else 60s]
        #[arg(long, value_name = "DURATION", value_parser = duration)]
        lock_wait: Option<String>,
    },
    /// Rename the files of legacy_order to versioned names (001_…), rollback siblings too
    Adopt {
        /// Show the renames without doing them
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RepairStatusArg {
    Applied,
    Reverted,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Create (on first use) and start the local cluster
    Start,
    /// Stop the local cluster
    Stop,
    /// Show whether the local cluster exists and runs, and where
    Status,
    /// Print the local database's connection URL
    Url,
    /// Recreate the local database, apply every migration and the seed
    #[command(
        long_about = "Drop and recreate the local cluster's database ([local] database, default postgres), \
then apply every migration and the seed files.\n\n\
Only ever the local database: --db-url, --env and --linked are refused, and an application's \
DATABASE_URL (environment or .env) is not its target — it is left untouched, and said so. The \
files and settings are checked before anything is started or dropped.\n\n\
--from-schemas builds the database from the declarative schema files instead (see `strata schema \
diff`), in lexical order, then the seed: to try a schema change before writing its migration. No \
migration is recorded as applied there; a plain `strata db reset` builds from the migrations again."
    )]
    Reset(ResetArgs),
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Build from the schema files (supabase/schemas/ or schema_paths) instead of the migrations
    #[arg(long)]
    pub from_schemas: bool,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The SQL to run (one or more statements); the last result set is printed
    pub sql: String,
    /// Run as this user (role authenticated, auth.uid() = UUID)
    #[arg(long, value_name = "UUID", conflicts_with = "as_role")]
    pub as_user: Option<String>,
    /// Run as an API role without a user
    #[arg(long = "as", value_name = "ROLE", value_parser = ["anon", "service_role"])]
    pub as_role: Option<String>,
    /// Roll the transaction back instead of committing (try a change without keeping it)
    #[arg(long)]
    pub rollback: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to put migrations
    #[arg(long, default_value = "supabase/migrations", value_name = "DIR")]
    pub migrations_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The Supabase project ref (20 lower-case letters, from the dashboard URL)
    #[arg(long, value_name = "REF")]
    pub project_ref: String,

    /// The project's session pooler URL (the dashboard's Connect dialog; any password in it is dropped): --linked uses it when db.<REF>.supabase.co, which has only IPv6 addresses, cannot be reached [default: supabase/.temp/pooler-url written by `supabase link`]
    #[arg(long, value_name = "URL")]
    pub pooler_url: Option<String>,
}

/// A duration flag (`5s`, `500ms`, `2min`, `1h`, or milliseconds), checked when the command line
/// is parsed, so a typo is a usage error before anything is read or started; kept as written
/// (PostgreSQL receives timeouts as written).
fn duration(value: &str) -> Result<String, String> {
    strata::config::parse_duration("DURATION", value)
        .map(|_| value.to_string())
        .map_err(|e| e.to_string())
}
