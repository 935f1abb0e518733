//! Migrations embedded at compile time behave like the same directory read at run time.

mod support;

use strata::platform::Platform;
use strata::{MigrationSet, Migrator, PushOptions};

static CHAT_APP: &[strata::EmbeddedFile] =
    strata::embed_migrations!("../../examples/chat-app/supabase/migrations");

#[test]
fn embedded_set_equals_the_directory() {
    let embedded = MigrationSet::from_embedded(CHAT_APP).unwrap();
    let dir = MigrationSet::load_dir(support::chat_app_dir()).unwrap();
    assert_eq!(embedded.migrations.len(), dir.migrations.len());
    for (e, d) in embedded.migrations.iter().zip(&dir.migrations) {
        assert_eq!(e.version, d.version);
        assert_eq!(e.name, d.name);
        assert_eq!(e.checksum, d.checksum);
        assert_eq!(e.rollback.is_some(), d.rollback.is_some());
    }
}

#[tokio::test]
async fn embedded_migrations_push_on_an_existing_client() {
    let db = support::TestDb::new("embed").await;
    let mut client = db.client().await;
    let set = MigrationSet::from_embedded(CHAT_APP).unwrap();
    let total = set.migrations.len();
    let migrator = Migrator::new(set).with_options(PushOptions {
        platform: Platform::Supabase,
        ..PushOptions::default()
    });
    let report = migrator.push_client(&mut client).await.unwrap();
    assert_eq!(report.applied.len(), total);
    let again = migrator.push_client(&mut client).await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.already_applied, total);
}
