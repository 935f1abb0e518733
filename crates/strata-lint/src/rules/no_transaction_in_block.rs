//! `no-transaction-in-block`: a statement PostgreSQL refuses inside a transaction block,
//! written inside the file's own `BEGIN … COMMIT`.

use pg_query::protobuf::TransactionStmtKind as K;

use super::begin_without_commit::tx_kind;
use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "no-transaction-in-block",
    category: "transaction",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "CREATE INDEX CONCURRENTLY, VACUUM, ALTER SYSTEM … inside the file's BEGIN block",
    why: "Some statements cannot run inside a transaction block (CREATE/DROP INDEX \
          CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM, ALTER SYSTEM, CREATE DATABASE, ALTER TYPE … \
          ADD VALUE before PostgreSQL 12 …). Strata sees such a statement and runs the file \
          statement by statement instead of in one transaction; the file's own BEGIN then opens \
          a real transaction block and PostgreSQL rejects the statement with \"cannot run \
          inside a transaction block\", after the statements before it have run.",
    fix: "Move the statement out of the BEGIN … COMMIT block (best: into its own migration \
          file, which Strata then runs outside a transaction).",
    bad: "BEGIN;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON t (a);\nCOMMIT;",
    good: "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON t (a);",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let mut open: Option<usize> = None;
    for (_, st, node) in cx.statements() {
        match tx_kind(node) {
            Some(K::TransStmtBegin | K::TransStmtStart) => {
                open.get_or_insert(st.code.start);
            }
            Some(K::TransStmtCommit | K::TransStmtRollback | K::TransStmtPrepare) => open = None,
            _ => {
                let (Some(at), Some(what)) = (open, st.no_transaction) else {
                    continue;
                };
                let (line, _) = cx.file.line_col(at);
                let how = match &cx.file.no_transaction {
                    Some(reason) => format!("strata push runs this file statement by statement ({reason}), so the BEGIN opens a real transaction block and PostgreSQL will reject this statement after running the ones before it"),
                    None => "PostgreSQL will reject it".to_string(),
                };
                out.push(cx.finding(
                    &INFO,
                    super::ast::first_line(&cx.file.text, st),
                    format!("{what} cannot run inside the transaction block opened by BEGIN at line {line}: {how}"),
                    Some(format!("move the {what} out of the BEGIN … COMMIT block, best into a migration file of its own")),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_concurrently_inside_begin() {
        let sql = "BEGIN;\nALTER TABLE t ADD COLUMN IF NOT EXISTS a int;\n\
                   CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_a ON t (a);\nCOMMIT;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("statement by statement"));
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_outside_a_block() {
        let sql =
            "BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);\n";
        assert!(lint(sql, ID).is_empty());
    }
}
