//! `file-name`: the seed's naming convention `[timestamp]_[action]_[subject].sql`.

use super::{Cx, StatementRule};
use crate::{Finding, Level, RuleInfo, RuleKind};

pub const INFO: RuleInfo = RuleInfo {
    id: "file-name",
    category: "convention",
    kind: RuleKind::Statement,
    default_level: Level::Warning,
    summary: "Migration file not named [timestamp]_[action]_[subject].sql",
    why: "The seed's naming convention: a timestamp that orders the files, then a verb and the \
          object it acts on, in lower-case snake_case (20240115_create_user_settings.sql, \
          20240130_drop_legacy_table.sql). The name is what reviewers and `strata migration \
          list` show; `action_subject` says what the file does without opening it.",
    fix: "Rename the file (before it is applied anywhere): `strata migration new \
          <action>_<subject>` writes a correctly named file.",
    bad: "20240115_UserSettings.sql",
    good: "20240115000000_create_user_settings.sql",
};

pub const RULE: StatementRule = StatementRule { info: &INFO, check };

/// Verbs the seed's examples and common practice start a migration name with.
pub const ACTIONS: &[&str] = &[
    "add", "allow", "alter", "backfill", "change", "convert", "create", "delete", "disable",
    "drop", "enable", "extend", "fix", "grant", "index", "init", "insert", "make", "merge",
    "migrate", "move", "populate", "remove", "rename", "replace", "restrict", "revoke", "seed",
    "set", "split", "update", "upgrade",
];

/// What is wrong with a migration file name, if anything.
pub fn problem(file_name: &str) -> Option<String> {
    let Some(stem) = file_name.strip_suffix(".sql") else {
        return Some(format!("`{file_name}` does not end in .sql"));
    };
    let (version, rest) = stem.split_once('_').unwrap_or((stem, ""));
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!(
            "`{file_name}` does not start with a timestamp (<yyyymmddHHMMSS>_…)"
        ));
    }
    if version.len() < 8 {
        return Some(format!(
            "`{file_name}` starts with `{version}`, not a timestamp (yyyymmdd or yyyymmddHHMMSS)"
        ));
    }
    if rest.is_empty()
        || !rest
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        || rest.split('_').any(str::is_empty)
    {
        return Some(format!(
            "`{file_name}`: the name after the timestamp should be lower-case snake_case words ([action]_[subject])"
        ));
    }
    // What `strata migration squash` names the migration that replaces the ones before it.
    if rest == strata::squash::BASELINE_NAME {
        return None;
    }
    let (action, subject) = rest.split_once('_').unwrap_or((rest, ""));
    if subject.is_empty() {
        return Some(format!(
            "`{file_name}` names no subject: write [action]_[subject] (e.g. {version}_create_{action})"
        ));
    }
    if !ACTIONS.contains(&action) {
        return Some(format!(
            "`{file_name}` does not start with an action verb ({}, …)",
            ACTIONS[..6].join(", ")
        ));
    }
    None
}

fn check(cx: &Cx<'_>, out: &mut Vec<Finding>) {
    let name = cx
        .file
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(problem) = problem(&name) {
        let text = &cx.file.text;
        let end = text.find('\n').unwrap_or(text.len());
        out.push(cx.finding(
            &INFO,
            0..end,
            problem,
            Some("rename it to <timestamp>_<action>_<subject>.sql, e.g. 20240115000000_create_user_settings.sql (only while it is applied nowhere)".into()),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::problem;
    use crate::rules::testing::*;

    const ID: &str = super::INFO.id;

    #[test]
    fn judges_names_like_the_seed() {
        for good in [
            "20240115_create_user_settings.sql",
            "20240120_add_credits_column.sql",
            "20240125_update_chat_indexes.sql",
            "20240130_drop_legacy_table.sql",
            "20240107000000_baseline.sql",
            "20240101000000_create_base_schema.sql",
        ] {
            assert_eq!(problem(good), None, "{good}");
        }
        for bad in [
            "projects.sql",
            "001_create_x.sql",
            "20240115_UserSettings.sql",
            "20240115_settings.sql",
            "20240115_user_settings.sql",
            "20240115__create.sql",
        ] {
            assert!(problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn flags_a_badly_named_file() {
        let files = [("projects.sql", "SELECT 1;\n")];
        let found = lint_set(&files, ID);
        assert_eq!(found.len(), 1);
        insta::assert_snapshot!(render(&files, &found));
    }
}
