//! `index-without-concurrently`: `CREATE INDEX` on an existing table without `CONCURRENTLY`.

use pg_query::NodeEnum;

use super::{ast, relation_name, Cx};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "index-without-concurrently",
    category: "locking",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "CREATE INDEX on an existing table without CONCURRENTLY",
    why: "A plain CREATE INDEX holds a SHARE lock on the table for the whole build: every \
          INSERT, UPDATE and DELETE waits until the index is built, which on a large table is \
          minutes of write downtime. CREATE INDEX CONCURRENTLY builds the index without blocking \
          writes (it takes longer and cannot run inside a transaction; Strata runs such a file \
          statement by statement). Indexes on tables created earlier in the same migration set \
          are not flagged: nobody is writing to them yet.",
    fix: "Write CREATE INDEX CONCURRENTLY (and IF NOT EXISTS, so that a retry after a failed \
          build is safe; drop an INVALID leftover index first).",
    bad: "CREATE INDEX idx_chats_user ON public.encrypted_chats (user_id);",
    good: "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_chats_user ON public.encrypted_chats (user_id);",
};

pub const RULE: super::StatementRule = super::StatementRule { info: &INFO, check };

pub fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    for (i, st, node) in cx.statements() {
        let NodeEnum::IndexStmt(idx) = node else {
            continue;
        };
        let Some(rv) = &idx.relation else { continue };
        let table = relation_name(rv);
        if idx.concurrent || cx.is_new_table(&table, i) {
            continue;
        }
        let text = &cx.file.text;
        let code = ast::snippet(text, st.code.clone());
        let fixed = match code.to_ascii_lowercase().find("index") {
            Some(at) => format!("{}INDEX CONCURRENTLY{}", &code[..at], &code[at + 5..]),
            None => "CREATE INDEX CONCURRENTLY …".into(),
        };
        let name = if idx.idxname.is_empty() {
            "an index".to_string()
        } else {
            format!("index {}", idx.idxname)
        };
        out.push(cx.finding(
            &INFO,
            ast::first_line(text, st),
            format!(
                "{name} on existing table {table} is built without CONCURRENTLY: writes to {table} are blocked until the build ends"
            ),
            Some(format!("{fixed};")),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::INFO;
    use crate::rules::testing::*;

    #[test]
    fn flags_plain_index_on_existing_table() {
        let sql = "CREATE INDEX idx_chats_user ON public.encrypted_chats (user_id);\n";
        let found = lint(sql, INFO.id);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn concurrently_or_new_table_passes() {
        assert!(lint(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);",
            INFO.id
        )
        .is_empty());
        assert!(lint("CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);", INFO.id).is_empty());
        assert!(lint(
            "CREATE TABLE t AS SELECT 1 AS a;\nCREATE INDEX i ON t (a);",
            INFO.id
        )
        .is_empty());
        assert!(lint("SELECT 1 AS a INTO t;\nCREATE INDEX i ON t (a);", INFO.id).is_empty());
        // Created by an earlier file that is not deployed anywhere yet: new.
        assert!(lint_set_undeployed(
            &[
                ("1_a.sql", "create table public.t (a int);"),
                ("2_b.sql", "create index i on t (a);")
            ],
            INFO.id
        )
        .is_empty());
    }

    /// The table has been in production since file 1 was applied: an index built on it
    /// without CONCURRENTLY blocks its writes, however the table came to be.
    #[test]
    fn a_table_created_by_a_deployed_file_is_live() {
        use crate::Deployed;
        let files = [
            (
                "1_invoices.sql",
                "create table public.invoices (id bigint primary key, customer_ref text);",
            ),
            (
                "2_index.sql",
                "create index invoices_customer_ref_idx on public.invoices (customer_ref);",
            ),
        ];
        let applied = Deployed::Files(vec![true, false]);
        assert_eq!(lint_set_deployed(&files, INFO.id, &applied).len(), 1);
        // Plain `strata lint`: the earlier file counts as deployed.
        assert_eq!(lint_set(&files, INFO.id).len(), 1);
        // Alone in a directory: the same finding.
        assert_eq!(lint_set(&files[1..], INFO.id).len(), 1);
        // Neither applied (a fresh database): both files run in one push; the table is new.
        let fresh = Deployed::Files(vec![false, false]);
        assert!(lint_set_deployed(&files, INFO.id, &fresh).is_empty());
    }
}
