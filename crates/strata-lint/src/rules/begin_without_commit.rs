//! `begin-without-commit`: a `BEGIN` the file never closes.

use pg_query::protobuf::TransactionStmtKind as K;
use pg_query::NodeEnum;

use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "begin-without-commit",
    category: "transaction",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "BEGIN without a matching COMMIT in the same file",
    why: "The seed wraps related changes in BEGIN; … COMMIT;. A BEGIN left open either leaves \
          the session in a transaction that is never committed (psql, other tools: the changes \
          are lost when the connection closes) or ends where the next file's COMMIT happens to \
          be. Strata runs each migration in its own transaction anyway; an explicit block must \
          be complete in the file that opens it.",
    fix: "Add COMMIT; at the end of the block, or remove the BEGIN (strata push already runs \
          the file in one transaction).",
    bad: "BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;",
    good: "BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS nickname text;\nCOMMIT;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

/// Whether a transaction statement opens or closes a block.
pub fn tx_kind(node: &NodeEnum) -> Option<K> {
    match node {
        NodeEnum::TransactionStmt(t) => K::try_from(t.kind).ok(),
        _ => None,
    }
}

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let mut open = None;
    for (_, st, node) in cx.statements() {
        match tx_kind(node) {
            Some(K::TransStmtBegin | K::TransStmtStart) => {
                open.get_or_insert(st);
            }
            Some(K::TransStmtCommit | K::TransStmtRollback | K::TransStmtPrepare) => open = None,
            _ => {}
        }
    }
    if let Some(st) = open {
        out.push(cx.finding(
            &INFO,
            super::ast::first_line(&cx.file.text, st),
            "this BEGIN is never committed: the file ends inside the transaction block",
            Some("add COMMIT; after the last statement of the block, or remove the BEGIN (strata push runs the file in one transaction)".into()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_unclosed_begin() {
        let sql = "BEGIN;\nALTER TABLE users ADD COLUMN IF NOT EXISTS n text;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_closed_blocks() {
        assert!(lint(
            "BEGIN;\nSELECT 1;\nCOMMIT;\nSTART TRANSACTION;\nSELECT 2;\nEND;\n",
            ID
        )
        .is_empty());
        assert!(lint("SELECT 1;", ID).is_empty());
    }
}
