//! `nested-begin`: `BEGIN` inside a block that is already open.

use pg_query::protobuf::TransactionStmtKind as K;

use super::begin_without_commit::tx_kind;
use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "nested-begin",
    category: "transaction",
    kind: RuleKind::Statement,
    default_level: Level::Error,
    summary: "BEGIN inside a transaction block the file already opened",
    why: "PostgreSQL has no nested transactions: a second BEGIN only warns \"there is already a \
          transaction in progress\", and the first COMMIT then commits everything, so the inner \
          block is not the unit it looks like. Use SAVEPOINT for a nested unit.",
    fix: "Remove the inner BEGIN (and its COMMIT), or use SAVEPOINT name / RELEASE SAVEPOINT name.",
    bad: "BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;",
    good: "BEGIN;\nSAVEPOINT step;\nSELECT 1;\nRELEASE SAVEPOINT step;\nCOMMIT;",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let mut open: Option<usize> = None;
    for (_, st, node) in cx.statements() {
        match tx_kind(node) {
            Some(K::TransStmtBegin | K::TransStmtStart) => match open {
                None => open = Some(st.code.start),
                Some(at) => {
                    let (line, _) = cx.file.line_col(at);
                    out.push(cx.finding(
                        &INFO,
                        super::ast::first_line(&cx.file.text, st),
                        format!("BEGIN inside the transaction block opened at line {line}: PostgreSQL does not nest transactions, the first COMMIT commits both"),
                        Some("remove this BEGIN and its COMMIT, or use SAVEPOINT … / RELEASE SAVEPOINT …".into()),
                    ));
                }
            },
            Some(K::TransStmtCommit | K::TransStmtRollback | K::TransStmtPrepare) => open = None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn flags_begin_inside_begin() {
        let sql = "BEGIN;\nSELECT 1;\nBEGIN;\nSELECT 2;\nCOMMIT;\n";
        let found = lint(sql, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&[("20240101000000_test.sql", sql)], &found));
    }

    #[test]
    fn passes_sequential_blocks_and_savepoints() {
        let sql = "BEGIN;\nSAVEPOINT a;\nRELEASE SAVEPOINT a;\nCOMMIT;\nBEGIN;\nCOMMIT;\n";
        assert!(lint(sql, ID).is_empty());
    }
}
