//! TLS with libpq's sslmode meanings, against the test server when it has TLS on (Debian's
//! PostgreSQL does, with the `ssl-cert-snakeoil` certificate for `localhost`). Skipped, saying
//! so, on a server without TLS.

use strata::target::{SessionSettings, Target, TargetSource};

const SNAKEOIL: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";

fn target(url: &str) -> Target {
    Target::from_url(url, TargetSource::DbUrl, SessionSettings::default()).unwrap()
}

async fn encrypted(url: &str) -> Result<bool, strata::Error> {
    let client = target(url).connect().await?;
    let row = client
        .query_one(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    Ok(row.get(0))
}

/// The test server's host:port when it speaks TLS, else None (and the test is skipped).
async fn tls_server() -> Option<&'static str> {
    if std::env::var("STRATA_TEST_ADMIN_URL").is_ok() {
        eprintln!("skipping: TLS tests run against 127.0.0.1:5432 only");
        return None;
    }
    match encrypted("postgresql://postgres@127.0.0.1:5432/postgres?sslmode=require").await {
        Ok(true) => Some("127.0.0.1:5432"),
        _ => {
            eprintln!("skipping: no TLS-enabled PostgreSQL at 127.0.0.1:5432");
            None
        }
    }
}

#[tokio::test]
async fn sslmodes_follow_libpq() {
    let Some(server) = tls_server().await else {
        return;
    };
    let url = |host: &str, query: &str| {
        let port = server.rsplit(':').next().unwrap();
        format!("postgresql://postgres@{host}:{port}/postgres?{query}")
    };
    // disable: plain text; prefer and require: encrypted, certificate not checked.
    assert!(!encrypted(&url("127.0.0.1", "sslmode=disable"))
        .await
        .unwrap());
    assert!(encrypted(&url("127.0.0.1", "sslmode=prefer"))
        .await
        .unwrap());
    assert!(encrypted(&url("127.0.0.1", "sslmode=require"))
        .await
        .unwrap());

    // verify-full against public roots: the self-signed certificate is refused, clearly.
    let err = encrypted(&url("localhost", "sslmode=verify-full"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "connect", "{err}");
    assert!(
        err.hint().unwrap_or_default().contains("sslrootcert"),
        "{err}: {:?}",
        err.hint()
    );

    if !std::path::Path::new(SNAKEOIL).is_file() {
        eprintln!("skipping the sslrootcert half: no {SNAKEOIL}");
        return;
    }
    let root = format!("sslrootcert={SNAKEOIL}");
    // verify-full with the right root and the certificate's host name: accepted.
    assert!(
        encrypted(&url("localhost", &format!("sslmode=verify-full&{root}")))
            .await
            .unwrap()
    );
    // verify-full by IP: the certificate names localhost only, so it is refused...
    assert!(
        encrypted(&url("127.0.0.1", &format!("sslmode=verify-full&{root}")))
            .await
            .is_err()
    );
    // ...while verify-ca checks the chain, not the name.
    assert!(
        encrypted(&url("127.0.0.1", &format!("sslmode=verify-ca&{root}")))
            .await
            .unwrap()
    );
    // libpq: require with a root certificate behaves like verify-ca.
    assert!(
        encrypted(&url("127.0.0.1", &format!("sslmode=require&{root}")))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_missing_root_certificate_names_the_setting() {
    let err = encrypted("postgresql://postgres@localhost:5432/postgres?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "setting", "{err}");
    assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");
}
