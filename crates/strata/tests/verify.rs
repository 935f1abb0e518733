//! `strata::verify`: rollback files proven on a scratch database. Each test writes a small set
//! of migrations whose rollbacks are right or wrong in one particular way.

mod support;

use strata::catalog::Kind;
use strata::diff::Status;
use strata::platform::Platform;

use strata::verify::{self, Outcome, VerifyOptions, VerifyReport};
use strata::MigrationSet;
use support::{chat_app_dir, migrations_dir};

fn server() -> strata::scratch::Scratch {
    support::scratch_server()
}

const BASE: &str = "create table public.items (id int primary key, name text default 'none', price numeric(10,2));\n\
                    alter table public.items enable row level security;\n";
const BASE_ROLLBACK: &str = "drop table public.items;\n";

async fn run(files: &[(&str, &str)], require_rollbacks: bool) -> VerifyReport {
    let dir = migrations_dir(files);
    let set = MigrationSet::load_dir(dir.path()).unwrap();
    verify::verify(
        set,
        &server(),
        VerifyOptions {
            platform: Platform::None,
            require_rollbacks,
        },
    )
    .await
    .unwrap()
}

fn outcomes(r: &VerifyReport) -> Vec<(String, Outcome)> {
    r.migrations
        .iter()
        .map(|m| (m.version.clone(), m.outcome))
        .collect()
}

/// The single asymmetric migration's differences as (kind, name, status).
fn asymmetries(r: &VerifyReport) -> Vec<(Kind, String, Status)> {
    assert!(!r.passed, "{r:#?}");
    r.migrations
        .iter()
        .filter(|m| m.outcome == Outcome::Asymmetric)
        .flat_map(|m| m.differences.iter())
        .map(|d| (d.kind, d.name.clone(), d.status))
        .collect()
}

#[tokio::test]
async fn correct_rollbacks_pass() {
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            ("1_create_items_rollback.sql", BASE_ROLLBACK),
            (
                "2_add_index_policy_grant.sql",
                "create index items_name on public.items (name);\n\
                 create policy read_all on public.items for select using (true);\n\
                 grant select on public.items to pg_monitor;\n\
                 alter table public.items alter column name set default 'unnamed';\n",
            ),
            (
                "2_add_index_policy_grant_rollback.sql",
                "alter table public.items alter column name set default 'none';\n\
                 revoke select on public.items from pg_monitor;\n\
                 drop policy read_all on public.items;\n\
                 drop index public.items_name;\n",
            ),
        ],
        false,
    )
    .await;
    assert!(r.passed, "{r:#?}");
    assert_eq!(
        outcomes(&r),
        [
            ("1".to_string(), Outcome::Reversible),
            ("2".to_string(), Outcome::Reversible)
        ]
    );
}

#[tokio::test]
async fn a_forgotten_index_is_left_behind() {
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            ("1_create_items_rollback.sql", BASE_ROLLBACK),
            (
                "2_index_items.sql",
                "create index items_name on public.items (name);\ncreate index items_price on public.items (price);\n",
            ),
            (
                "2_index_items_rollback.sql",
                "drop index public.items_price;\n",
            ),
        ],
        false,
    )
    .await;
    assert_eq!(
        asymmetries(&r),
        [(
            Kind::Index,
            "public.items_name".to_string(),
            Status::OnlyInTarget
        )]
    );
    assert_eq!(r.migrations[0].outcome, Outcome::Reversible);
    // The index left behind also stops the migration from applying again: said, and the end.
    assert!(r.migrations[1]
        .error
        .as_deref()
        .unwrap()
        .contains("re-applying the migration after its rollback failed"));
}

#[tokio::test]
async fn a_forgotten_policy_is_left_behind() {
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            ("1_create_items_rollback.sql", BASE_ROLLBACK),
            (
                "2_policies.sql",
                "create policy read_all on public.items for select using (true);\n",
            ),
            (
                "2_policies_rollback.sql",
                "alter table public.items disable row level security;\nalter table public.items enable row level security;\n",
            ),
        ],
        false,
    )
    .await;
    assert_eq!(
        asymmetries(&r),
        [(
            Kind::Policy,
            "public.items.read_all".to_string(),
            Status::OnlyInTarget
        )]
    );
}

#[tokio::test]
async fn a_grant_not_restored_is_reported() {
    let r = run(
        &[
            (
                "1_create_items.sql",
                "create table public.items (id int);\ngrant select, insert on public.items to pg_monitor;\n",
            ),
            ("1_create_items_rollback.sql", "drop table public.items;\n"),
            (
                "2_lock_down.sql",
                "revoke insert on public.items from pg_monitor;\n",
            ),
            ("2_lock_down_rollback.sql", "select 1;\n"),
        ],
        false,
    )
    .await;
    assert_eq!(
        asymmetries(&r),
        [(Kind::Table, "public.items".to_string(), Status::Changed)]
    );
    let d = &r.migrations[1].differences[0];
    assert_eq!(d.changes[0].property, "acl");
    assert!(d.changes[0]
        .migrations
        .as_deref()
        .unwrap()
        .contains("pg_monitor:INSERT"));
}

#[tokio::test]
async fn a_column_restored_with_another_default_or_type_is_reported() {
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            ("1_create_items_rollback.sql", BASE_ROLLBACK),
            (
                "2_change_columns.sql",
                "alter table public.items drop column name;\nalter table public.items alter column price type numeric(12,2);\n",
            ),
            (
                "2_change_columns_rollback.sql",
                "alter table public.items alter column price type numeric;\nalter table public.items add column name text default 'None';\n",
            ),
        ],
        false,
    )
    .await;
    let found = asymmetries(&r);
    assert!(
        found.contains(&(
            Kind::Column,
            "public.items.name".to_string(),
            Status::Changed
        )),
        "{found:?}"
    );
    assert!(
        found.contains(&(
            Kind::Column,
            "public.items.price".to_string(),
            Status::Changed
        )),
        "{found:?}"
    );
    let name = r.migrations[1]
        .differences
        .iter()
        .find(|d| d.name == "public.items.name")
        .unwrap();
    let default = name
        .changes
        .iter()
        .find(|c| c.property == "default")
        .unwrap();
    assert_eq!(default.migrations.as_deref(), Some("'none'::text"));
    assert_eq!(default.target.as_deref(), Some("'None'::text"));
}

#[tokio::test]
async fn irreversible_and_missing_rollbacks_are_reported_not_failed() {
    let files = [
        ("1_create_items.sql", BASE),
        ("1_create_items_rollback.sql", BASE_ROLLBACK),
        ("2_drop_price.sql", "alter table public.items drop column price;\n"),
        (
            "2_drop_price_rollback.sql",
            "-- strata:irreversible the prices are gone\nalter table public.items add column price numeric(10,2);\n",
        ),
        ("3_add_note.sql", "alter table public.items add column note text;\n"),
    ];
    let r = run(&files, false).await;
    assert!(r.passed, "{r:#?}");
    assert_eq!(
        outcomes(&r),
        [
            ("1".to_string(), Outcome::Reversible),
            ("2".to_string(), Outcome::Irreversible),
            ("3".to_string(), Outcome::NoRollback),
        ]
    );
    assert_eq!(
        r.migrations[1].reason.as_deref(),
        Some("the prices are gone")
    );
    let r = run(&files, true).await;
    assert!(!r.passed);
}

#[tokio::test]
async fn a_failing_rollback_is_located_in_its_file() {
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            (
                "1_create_items_rollback.sql",
                "-- undo\n\ndrop table public.itemz;\n",
            ),
            (
                "2_add_note.sql",
                "alter table public.items add column note text;\n",
            ),
            (
                "2_add_note_rollback.sql",
                "alter table public.items drop column note;\n",
            ),
        ],
        false,
    )
    .await;
    assert!(!r.passed);
    let m = &r.migrations[0];
    assert_eq!(m.outcome, Outcome::Failed);
    let e = m.error.as_deref().unwrap();
    assert!(
        e.contains("1_create_items_rollback.sql:3:1:") && e.contains("itemz"),
        "{e}"
    );
    match m.failure.as_deref() {
        Some(strata::Error::Migration(f)) => assert_eq!(f.line, 3),
        other => panic!("{other:?}"),
    }
    // It failed as a whole: the migration stays applied and the next one is still verified.
    assert_eq!(r.migrations[1].outcome, Outcome::Reversible);
}

#[tokio::test]
async fn the_example_app_verifies_clean() {
    let set = MigrationSet::load_dir(chat_app_dir()).unwrap();
    let n = set.migrations.len();
    let r = verify::verify(
        set,
        &server(),
        VerifyOptions {
            platform: Platform::Supabase,
            require_rollbacks: true,
        },
    )
    .await
    .unwrap();
    assert!(r.passed, "{r:#?}");
    assert_eq!(r.migrations.len(), n);
    assert!(r
        .migrations
        .iter()
        .all(|m| m.outcome == Outcome::Reversible));
}

#[tokio::test]
async fn a_dropped_column_re_added_at_the_end_is_a_note_but_a_recreated_table_in_another_order_is_not(
) {
    // DROP COLUMN undone by ADD COLUMN: the column comes back at the table's end, as PostgreSQL
    // always does. Reversible, with a note.
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            ("1_create_items_rollback.sql", BASE_ROLLBACK),
            (
                "2_drop_name.sql",
                "alter table public.items drop column name;\n",
            ),
            (
                "2_drop_name_rollback.sql",
                "alter table public.items add column name text default 'none';\n",
            ),
        ],
        false,
    )
    .await;
    let m = &r.migrations[1];
    assert_eq!(m.outcome, Outcome::Reversible, "{r:#?}");
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("public.items") && n.contains("another order")),
        "{:?}",
        m.notes
    );
    // A table dropped and created again by the rollback with its columns in another order: the
    // rollback's to get right.
    let r = run(
        &[
            ("1_create_items.sql", BASE),
            ("1_create_items_rollback.sql", BASE_ROLLBACK),
            (
                "2_create_pairs.sql",
                "create table public.pairs (a int, b int);\n",
            ),
            ("2_create_pairs_rollback.sql", "drop table public.pairs;\n"),
            ("3_drop_pairs.sql", "drop table public.pairs;\n"),
            (
                "3_drop_pairs_rollback.sql",
                "create table public.pairs (b int, a int);\n",
            ),
        ],
        false,
    )
    .await;
    let m = &r.migrations[2];
    assert_eq!(m.outcome, Outcome::Asymmetric, "{r:#?}");
    assert!(m
        .differences
        .iter()
        .any(|d| d.changes.iter().any(|c| c.property == "column order")));
}
