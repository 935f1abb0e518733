//! `rollback-in-migration`: a top-level `ROLLBACK` in a file push runs in one transaction.

use pg_query::protobuf::TransactionStmtKind as K;

use super::begin_without_commit::tx_kind;
use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "rollback-in-migration",
    category: "transaction",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "A top-level ROLLBACK in a migration that runs in one transaction",
    why: "strata push runs a migration and its history rows in one transaction, so that it is \
          applied and recorded, or neither. A ROLLBACK in the file would end that transaction \
          half way: push refuses the file before anything runs. (A failing statement already \
          rolls the whole migration back.) ROLLBACK TO SAVEPOINT is fine.",
    fix: "Remove the ROLLBACK, or mark the file `-- strata:no-transaction` if it really manages \
          its own transactions.",
    bad: "BEGIN;\nUPDATE accounts SET credits = 0;\nROLLBACK;",
    good: "BEGIN;\nSAVEPOINT try;\nUPDATE accounts SET credits = 0;\nROLLBACK TO SAVEPOINT try;\nCOMMIT;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    if cx.file.no_transaction.is_some() {
        // Statement by statement, a ROLLBACK ends nothing of push's.
        return;
    }
    for (_, st, node) in cx.statements() {
        if tx_kind(node) == Some(K::TransStmtRollback) {
            out.push(cx.finding(
                &INFO,
                super::ast::first_line(&cx.file.text, st),
                "this ROLLBACK would end the transaction that keeps the migration and its history row together: strata push refuses the file",
                Some("remove it (a failing statement already rolls the whole migration back), or mark the file `-- strata:no-transaction`".into()),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_a_top_level_rollback() {
        let sql = "BEGIN;\nSELECT 1;\nROLLBACK;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_savepoints_and_files_outside_a_transaction() {
        assert!(lint(
            "BEGIN;\nSAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\nCOMMIT;\n",
            ID
        )
        .is_empty());
        assert!(lint("-- strata:no-transaction\nSELECT 1;\nROLLBACK;\n", ID).is_empty());
    }
}
