//! What PostgreSQL refuses to run inside a transaction block, and the comments by which a file
//! asks to run outside one. Push (how to run a file) and lint (what push will do) both read this
//! one list.
//!
//! The list is every call of `PreventInTransactionBlock` in PostgreSQL 13 to 18 that a migration
//! can reach, with its condition:
//!
//! | statement | source (PostgreSQL 18 unless noted) | condition |
//! |---|---|---|
//! | `CREATE DATABASE`, `DROP DATABASE` | `tcop/utility.c` `standard_ProcessUtility` | always |
//! | `ALTER DATABASE … SET TABLESPACE` | `commands/dbcommands.c` `AlterDatabase` → `movedb` | always |
//! | `CREATE TABLESPACE`, `DROP TABLESPACE` | `tcop/utility.c` | always |
//! | `ALTER SYSTEM` | `tcop/utility.c` | always |
//! | `VACUUM` (not `ANALYZE` alone) | `commands/vacuum.c` `vacuum` | always |
//! | `CREATE INDEX CONCURRENTLY` | `tcop/utility.c` `ProcessUtilitySlow` | always |
//! | `DROP INDEX CONCURRENTLY` | `tcop/utility.c` `ExecDropStmt` | always |
//! | `REINDEX … CONCURRENTLY`, `REINDEX (CONCURRENTLY)` | `commands/indexcmds.c` `ExecReindex` | always |
//! | `REINDEX SCHEMA/DATABASE/SYSTEM` | `indexcmds.c` `ReindexMultipleTables` | always |
//! | `REINDEX TABLE/INDEX` | `indexcmds.c` `ReindexPartitions` (14+) | the table or index is partitioned |
//! | `CLUSTER` without a table | `commands/cluster.c` `cluster` | always |
//! | `CLUSTER table` | `cluster.c` `cluster` (15+) | the table is partitioned |
//! | `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` | `tcop/utility.c` `ProcessUtilitySlow` (14+) | always |
//! | `CREATE SUBSCRIPTION` | `commands/subscriptioncmds.c` `CreateSubscription` | unless `create_slot = false` or `connect = false` |
//! | `ALTER SUBSCRIPTION … REFRESH PUBLICATION` | `subscriptioncmds.c` `AlterSubscription` (14+) | always |
//! | `ALTER SUBSCRIPTION … SET/ADD/DROP PUBLICATION` | `subscriptioncmds.c` `AlterSubscription` | unless `refresh = false` |
//! | `DROP SUBSCRIPTION` | `subscriptioncmds.c` `DropSubscription` | the subscription has a replication slot |
//! | `DISCARD ALL` | `commands/discard.c` `DiscardAll` | always |
//! | `COMMIT PREPARED`, `ROLLBACK PREPARED` | `tcop/utility.c` | always |
//!
//! Transaction control inside a body is the same kind of thing, raised as SQLSTATE 2D000
//! ("invalid transaction termination") instead of 25001: a `DO` block whose body says `COMMIT` or
//! `ROLLBACK` (PostgreSQL 11+, `pl_exec.c`), and a `CALL` of a procedure that does.
//!
//! Conditions the text alone cannot settle (a partitioned table, a subscription's slot, a
//! procedure that commits) are [`When::Sometimes`]: push runs such a file in a transaction, and
//! runs it again statement by statement if PostgreSQL refuses it there — nothing of the first try
//! was kept.

use super::tokens;

/// Whether PostgreSQL refuses a statement in a transaction block every time, or only under a
/// condition the text does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Always,
    Sometimes {
        /// The condition, e.g. "when the table is partitioned".
        condition: &'static str,
    },
}

/// A statement that cannot (or may not) run inside a transaction block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideTransaction {
    /// The statement as PostgreSQL's error names it, e.g. `CREATE INDEX CONCURRENTLY`.
    pub what: &'static str,
    pub when: When,
}

impl OutsideTransaction {
    fn always(what: &'static str) -> Option<OutsideTransaction> {
        Some(OutsideTransaction {
            what,
            when: When::Always,
        })
    }

    fn sometimes(what: &'static str, condition: &'static str) -> Option<OutsideTransaction> {
        Some(OutsideTransaction {
            what,
            when: When::Sometimes { condition },
        })
    }
}

/// Whether the statement `code` (its text without leading comments) cannot run inside a
/// transaction block, by the table in this module's documentation.
pub fn outside_transaction(code: &str) -> Option<OutsideTransaction> {
    let toks = tokens(code);
    let word = |i: usize| {
        toks.get(i)
            .filter(|t| t.ident)
            .map(|t| t.text.to_ascii_lowercase())
            .unwrap_or_default()
    };
    let has = |w: &str| toks.iter().any(|t| t.is(w));
    // `key = value` (or `key value`) inside a WITH (…) list.
    let option_is = |key: &str, value: &str| {
        toks.windows(3).any(|w| {
            w[0].is(key)
                && ((w[1].text == "=" && (w[2].is(value) || w[2].text.trim_matches('\'') == value))
                    || w[1].is(value))
        })
    };
    match (word(0).as_str(), word(1).as_str()) {
        ("create", "database") => OutsideTransaction::always("CREATE DATABASE"),
        ("drop", "database") => OutsideTransaction::always("DROP DATABASE"),
        ("create", "tablespace") => OutsideTransaction::always("CREATE TABLESPACE"),
        ("drop", "tablespace") => OutsideTransaction::always("DROP TABLESPACE"),
        ("alter", "database")
            if toks
                .windows(2)
                .any(|w| w[0].is("set") && w[1].is("tablespace")) =>
        {
            OutsideTransaction::always("ALTER DATABASE SET TABLESPACE")
        }
        ("alter", "system") => OutsideTransaction::always("ALTER SYSTEM"),
        ("vacuum", _) => OutsideTransaction::always("VACUUM"),
        ("create", "index") | ("create", "unique") if index_concurrently(&toks) => {
            OutsideTransaction::always("CREATE INDEX CONCURRENTLY")
        }
        ("drop", "index") if word(2) == "concurrently" => {
            OutsideTransaction::always("DROP INDEX CONCURRENTLY")
        }
        ("reindex", _) => reindex(&toks),
        ("cluster", _) => cluster(&toks),
        ("alter", "table") if detach_concurrently(&toks) => {
            OutsideTransaction::always("ALTER TABLE ... DETACH CONCURRENTLY")
        }
        ("create", "subscription") => {
            if option_is("create_slot", "false") || option_is("connect", "false") {
                None
            } else {
                OutsideTransaction::always("CREATE SUBSCRIPTION ... WITH (create_slot = true)")
            }
        }
        ("alter", "subscription") => {
            if toks
                .windows(2)
                .any(|w| w[0].is("refresh") && w[1].is("publication"))
            {
                OutsideTransaction::always("ALTER SUBSCRIPTION ... REFRESH")
            } else if has("publication")
                && (has("set") || has("add") || has("drop"))
                && !option_is("refresh", "false")
            {
                OutsideTransaction::always("ALTER SUBSCRIPTION with refresh")
            } else {
                None
            }
        }
        ("drop", "subscription") => OutsideTransaction::sometimes(
            "DROP SUBSCRIPTION",
            "when the subscription has a replication slot",
        ),
        ("discard", "all") => OutsideTransaction::always("DISCARD ALL"),
        ("commit", "prepared") => OutsideTransaction::always("COMMIT PREPARED"),
        ("rollback", "prepared") => OutsideTransaction::always("ROLLBACK PREPARED"),
        ("do", _) if do_body_controls_transaction(&toks) => {
            OutsideTransaction::always("DO block with COMMIT or ROLLBACK")
        }
        ("do", _) if do_body_calls(&toks) => OutsideTransaction::sometimes(
            "DO block with CALL",
            "when the procedure commits or rolls back",
        ),
        ("call", _) => {
            OutsideTransaction::sometimes("CALL", "when the procedure commits or rolls back")
        }
        _ => None,
    }
}

/// `CREATE [UNIQUE] INDEX CONCURRENTLY …`: `concurrently` right after `index`.
fn index_concurrently(toks: &[super::Token<'_>]) -> bool {
    toks.iter()
        .position(|t| t.is("index"))
        .and_then(|i| toks.get(i + 1))
        .is_some_and(|t| t.is("concurrently"))
}

/// `ALTER TABLE … DETACH PARTITION name CONCURRENTLY` (not `FINALIZE`).
fn detach_concurrently(toks: &[super::Token<'_>]) -> bool {
    toks.iter()
        .position(|t| t.is("detach"))
        .is_some_and(|i| toks[i..].iter().any(|t| t.is("concurrently")))
}

fn reindex(toks: &[super::Token<'_>]) -> Option<OutsideTransaction> {
    // REINDEX [ ( option [, …] ) ] { INDEX | TABLE | SCHEMA | DATABASE | SYSTEM }
    //         [ CONCURRENTLY ] name
    let mut i = 1;
    let mut concurrently = false;
    if toks.get(i).is_some_and(|t| t.text == "(") {
        while let Some(t) = toks.get(i) {
            concurrently |= t.is("concurrently");
            i += 1;
            if t.text == ")" {
                break;
            }
        }
    }
    let kind = toks
        .get(i)
        .map(|t| t.text.to_ascii_lowercase())
        .unwrap_or_default();
    concurrently |= toks.get(i + 1).is_some_and(|t| t.is("concurrently"));
    if concurrently {
        return OutsideTransaction::always("REINDEX CONCURRENTLY");
    }
    match kind.as_str() {
        "schema" => OutsideTransaction::always("REINDEX SCHEMA"),
        "database" => OutsideTransaction::always("REINDEX DATABASE"),
        "system" => OutsideTransaction::always("REINDEX SYSTEM"),
        "table" => OutsideTransaction::sometimes("REINDEX TABLE", "when the table is partitioned"),
        "index" => OutsideTransaction::sometimes("REINDEX INDEX", "when the index is partitioned"),
        _ => None,
    }
}

fn cluster(toks: &[super::Token<'_>]) -> Option<OutsideTransaction> {
    // CLUSTER [ ( option [, …] ) ] [ VERBOSE ] [ table [ USING index ] ]
    let mut i = 1;
    if toks.get(i).is_some_and(|t| t.text == "(") {
        while let Some(t) = toks.get(i) {
            i += 1;
            if t.text == ")" {
                break;
            }
        }
    }
    if toks.get(i).is_some_and(|t| t.is("verbose")) {
        i += 1;
    }
    if toks.get(i).is_none_or(|t| t.text == ";") {
        OutsideTransaction::always("CLUSTER")
    } else {
        OutsideTransaction::sometimes("CLUSTER", "when the table is partitioned")
    }
}

/// Whether a `DO` block's body says `COMMIT` or `ROLLBACK` (PL/pgSQL transaction control, which
/// PostgreSQL allows only outside a transaction block).
fn do_body_controls_transaction(toks: &[super::Token<'_>]) -> bool {
    toks.iter()
        .filter(|t| t.verbatim)
        .filter_map(|t| t.string_body())
        .any(|body| body_controls_transaction(&body))
}

/// Whether a `DO` block's body calls a procedure (which may commit).
fn do_body_calls(toks: &[super::Token<'_>]) -> bool {
    toks.iter()
        .filter(|t| t.verbatim)
        .filter_map(|t| t.string_body())
        .any(|body| tokens(&body).iter().any(|t| t.is("call")))
}

/// Whether a PL/pgSQL body holds a `COMMIT` or `ROLLBACK` statement (not `ON COMMIT` of a
/// temporary table, not inside a string).
pub fn body_controls_transaction(body: &str) -> bool {
    let toks = tokens(body);
    toks.iter().enumerate().any(|(i, t)| {
        (t.is("commit") || t.is("rollback"))
            && !(i > 0 && (toks[i - 1].is("on") || toks[i - 1].text == "."))
    })
}

/// How push runs a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMode {
    /// In one transaction with its history rows. `fallback`: a statement PostgreSQL may refuse
    /// in a transaction block (a [`When::Sometimes`] one); if it does, the file is run again
    /// statement by statement, and this says why.
    Transaction { fallback: Option<String> },
    /// Statement by statement, outside a transaction; the history rows last.
    NoTransaction { reason: String },
}

impl FileMode {
    /// Why the file runs outside a transaction; `None` when it runs in one.
    pub fn no_transaction_reason(self) -> Option<String> {
        match self {
            FileMode::NoTransaction { reason } => Some(reason),
            FileMode::Transaction { .. } => None,
        }
    }
}

/// How push runs the file `sql` (split into `statements`): outside a transaction when it is
/// marked so ([`no_transaction_marker`]) or holds a statement PostgreSQL always refuses in a
/// transaction block; else in one.
pub fn file_mode(sql: &str, statements: &[super::Statement]) -> FileMode {
    if let Some(m) = no_transaction_marker(sql) {
        return FileMode::NoTransaction {
            reason: format!("marked `{}`", m.line),
        };
    }
    let lines = super::LineIndex::new(sql);
    let mut fallback = None;
    for s in statements {
        let Some(code) = s.code(sql) else { continue };
        let Some(o) = outside_transaction(code) else {
            continue;
        };
        let (line, _) = lines.line_col(sql, s.code_start.unwrap_or(s.span.start));
        match o.when {
            When::Always => {
                return FileMode::NoTransaction {
                    reason: format!(
                        "{} (line {line}) cannot run inside a transaction block",
                        o.what
                    ),
                }
            }
            When::Sometimes { condition } => {
                fallback.get_or_insert_with(|| {
                    format!(
                        "{} (line {line}) cannot run inside a transaction block {condition}",
                        o.what
                    )
                });
            }
        }
    }
    FileMode::Transaction { fallback }
}

/// A comment by which a file asks to run outside a transaction, in Strata's own words or in those
/// of the tool it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The tool whose marker it is (`strata`, `dbmate`, `goose`, `sqlx`, `postgres-migrations`,
    /// `flyway`).
    pub tool: &'static str,
    /// The line as written.
    pub line: String,
}

/// Strata's own marker.
pub const STRATA_MARKER: &str = "-- strata:no-transaction";

/// The file's "no transaction" marker, if it has one:
/// - Strata: a line `-- strata:no-transaction`;
/// - dbmate: `-- migrate:up transaction:false`;
/// - goose: `-- +goose NO TRANSACTION`;
/// - sqlx: the file starts with `-- no-transaction`;
/// - postgres-migrations (npm): `-- postgres-migrations disable-transaction`;
/// - Flyway: `-- flyway:executeInTransaction=false`.
///
/// Lines are compared trimmed and case-insensitively, as the tools do.
pub fn no_transaction_marker(sql: &str) -> Option<Marker> {
    let first = sql
        .trim_start_matches('\u{feff}')
        .lines()
        .next()
        .unwrap_or("");
    if first
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("-- no-transaction")
    {
        return Some(Marker {
            tool: "sqlx",
            line: first.trim().to_string(),
        });
    }
    for line in sql.lines() {
        let t = line.trim();
        if !t.starts_with("--") {
            continue;
        }
        let lower = t.to_ascii_lowercase();
        let squeezed: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        let tool = if squeezed == STRATA_MARKER {
            "strata"
        } else if squeezed.starts_with("-- migrate:up") && squeezed.contains("transaction:false") {
            "dbmate"
        } else if squeezed == "-- +goose no transaction" {
            "goose"
        } else if squeezed == "-- postgres-migrations disable-transaction" {
            "postgres-migrations"
        } else if squeezed.replace(' ', "") == "--flyway:executeintransaction=false" {
            "flyway"
        } else {
            continue;
        };
        return Some(Marker {
            tool,
            line: t.to_string(),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(sql: &str) -> Option<(&'static str, bool)> {
        outside_transaction(sql).map(|o| (o.what, o.when == When::Always))
    }

    #[test]
    fn always_outside() {
        for (sql, expected) in [
            ("create database d", "CREATE DATABASE"),
            ("DROP DATABASE IF EXISTS d WITH (FORCE)", "DROP DATABASE"),
            ("create tablespace t location '/x'", "CREATE TABLESPACE"),
            ("drop tablespace t", "DROP TABLESPACE"),
            (
                "alter database d set tablespace t",
                "ALTER DATABASE SET TABLESPACE",
            ),
            ("alter system set work_mem = '1MB'", "ALTER SYSTEM"),
            ("vacuum", "VACUUM"),
            ("VACUUM (ANALYZE) t", "VACUUM"),
            (
                "create index concurrently i on t (a)",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "create unique index concurrently if not exists i on t (a)",
                "CREATE INDEX CONCURRENTLY",
            ),
            (
                "drop index concurrently if exists i",
                "DROP INDEX CONCURRENTLY",
            ),
            ("reindex table concurrently t", "REINDEX CONCURRENTLY"),
            (
                "reindex (concurrently, verbose) index i",
                "REINDEX CONCURRENTLY",
            ),
            ("reindex schema public", "REINDEX SCHEMA"),
            ("reindex database d", "REINDEX DATABASE"),
            ("reindex system", "REINDEX SYSTEM"),
            ("cluster", "CLUSTER"),
            ("cluster verbose", "CLUSTER"),
            ("cluster (verbose)", "CLUSTER"),
            (
                "ALTER TABLE public.readings DETACH PARTITION public.readings_2023 CONCURRENTLY",
                "ALTER TABLE ... DETACH CONCURRENTLY",
            ),
            (
                "alter table only \"s\".\"t\" detach partition \"s\".\"p\" concurrently",
                "ALTER TABLE ... DETACH CONCURRENTLY",
            ),
            (
                "create subscription s connection 'host=x' publication p",
                "CREATE SUBSCRIPTION ... WITH (create_slot = true)",
            ),
            (
                "alter subscription s refresh publication",
                "ALTER SUBSCRIPTION ... REFRESH",
            ),
            (
                "alter subscription s set publication p",
                "ALTER SUBSCRIPTION with refresh",
            ),
            ("discard all", "DISCARD ALL"),
            ("commit prepared 'x'", "COMMIT PREPARED"),
            ("rollback prepared 'x'", "ROLLBACK PREPARED"),
            (
                "DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$",
                "DO block with COMMIT or ROLLBACK",
            ),
            (
                "do language plpgsql 'begin perform 1; rollback; end'",
                "DO block with COMMIT or ROLLBACK",
            ),
        ] {
            assert_eq!(what(sql), Some((expected, true)), "{sql}");
        }
    }

    #[test]
    fn sometimes_outside() {
        for (sql, expected) in [
            ("reindex table t", "REINDEX TABLE"),
            ("reindex index i", "REINDEX INDEX"),
            ("cluster t using i", "CLUSTER"),
            ("drop subscription s", "DROP SUBSCRIPTION"),
            ("call do_batches()", "CALL"),
            (
                "do $$ begin call do_batches(); end $$",
                "DO block with CALL",
            ),
        ] {
            assert_eq!(what(sql), Some((expected, false)), "{sql}");
        }
    }

    #[test]
    fn fine_inside() {
        for sql in [
            "create index i on t (a)",
            "create table concurrently_named (id int)",
            "drop index i",
            "analyze t",
            "alter table t detach partition p",
            "alter table t add column detach_concurrently int",
            "create subscription s connection 'x' publication p with (connect = false)",
            "create subscription s connection 'x' publication p with (create_slot = false)",
            "alter subscription s set publication p with (refresh = false)",
            "alter subscription s disable",
            "discard temp",
            "alter type mood add value 'x'",
            "refresh materialized view concurrently mv",
            "do $$ begin create temp table x (id int) on commit drop; end $$",
            "do $$ begin raise notice 'commit'; end $$",
            "select 'vacuum'",
            "alter database d set search_path = public",
        ] {
            assert_eq!(what(sql), None, "{sql}");
        }
    }

    #[test]
    fn markers_of_every_tool() {
        for (sql, tool) in [
            ("-- strata:no-transaction\ncreate index concurrently i on t (a);", "strata"),
            ("select 1;\n  -- STRATA:NO-TRANSACTION  \n", "strata"),
            ("-- migrate:up transaction:false\ncreate index concurrently i on t(a);\n-- migrate:down\n", "dbmate"),
            ("-- +goose Up\n-- +goose NO TRANSACTION\nselect 1;", "goose"),
            ("-- no-transaction\ncreate index concurrently i on t (a);", "sqlx"),
            ("-- postgres-migrations disable-transaction\nselect 1;", "postgres-migrations"),
            ("-- flyway:executeInTransaction=false\nselect 1;", "flyway"),
        ] {
            assert_eq!(no_transaction_marker(sql).map(|m| m.tool), Some(tool), "{sql}");
        }
        for sql in [
            "select 1; -- strata:no-transaction is mentioned here",
            "-- migrate:up\nselect 1;",
            "select 1;\n-- no-transaction\n",
            "-- +goose Up\nselect 1;",
        ] {
            assert_eq!(no_transaction_marker(sql), None, "{sql}");
        }
    }
}
