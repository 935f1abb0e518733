//! A connection with what the server said on the side: `NOTICE`, `WARNING`, `INFO` and `LOG`
//! messages (`RAISE NOTICE` in a migration, a server warning), kept in order so that a caller can
//! attach them to the file that caused them. psql prints them; so does Strata.

use std::ops::{Deref, DerefMut};

use serde::Serialize;
use tokio::sync::mpsc;
use tokio_postgres::Client;

/// A message the server sent that is not an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// `NOTICE`, `WARNING`, `INFO`, `LOG` or `DEBUG` (as the server names it).
    pub severity: String,
    /// The SQLSTATE, e.g. `00000` for `RAISE NOTICE`, `01000` for a warning.
    pub sqlstate: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(d) = &self.detail {
            write!(f, "\nDETAIL: {d}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\nHINT: {h}")?;
        }
        Ok(())
    }
}

impl From<&tokio_postgres::error::DbError> for Notice {
    fn from(e: &tokio_postgres::error::DbError) -> Self {
        Notice {
            // The parsed (never translated) severity when the server sends one (9.6+).
            severity: e
                .parsed_severity()
                .map_or_else(|| e.severity().to_string(), |s| s.to_string()),
            sqlstate: e.code().code().to_string(),
            message: e.message().to_string(),
            detail: e.detail().map(str::to_string),
            hint: e.hint().map(str::to_string),
        }
    }
}

/// A client and the notices its connection received, in the order they arrived. Derefs to the
/// [`Client`], so it is used like one.
pub struct Session {
    client: Client,
    notices: mpsc::UnboundedReceiver<Notice>,
}

impl Session {
    pub(crate) fn new(client: Client, notices: mpsc::UnboundedReceiver<Notice>) -> Session {
        Session { client, notices }
    }

    /// The notices received since the last call. The connection reads messages in order, so
    /// after a query returns, every notice it caused is here.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        let mut out = Vec::new();
        while let Ok(n) = self.notices.try_recv() {
            out.push(n);
        }
        out
    }

    /// The client, giving up the notices.
    pub fn into_client(self) -> Client {
        self.client
    }
}

impl Deref for Session {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Drives a connection on a task of its own, forwarding notices to `tx` (dropped when the
/// receiver is gone).
pub(crate) fn spawn_connection<S, T>(
    mut conn: tokio_postgres::Connection<S, T>,
    tx: mpsc::UnboundedSender<Notice>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut tx = Some(tx);
        loop {
            let message = std::future::poll_fn(|cx| conn.poll_message(cx)).await;
            match message {
                Some(Ok(tokio_postgres::AsyncMessage::Notice(n))) => {
                    if let Some(t) = &tx {
                        if t.send(Notice::from(&n)).is_err() {
                            tx = None;
                        }
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
    });
}
