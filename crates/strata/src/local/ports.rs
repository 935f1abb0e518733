//! Choosing a free port.

use super::*;

pub(super) fn pick_free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|source| LocalError::Port { source })?;
    let port = listener
        .local_addr()
        .map_err(|source| LocalError::Port { source })?
        .port();
    Ok(port)
}

pub(super) fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

pub(super) fn make_url(port: u16, database: &str) -> String {
    let mut db = String::with_capacity(database.len());
    for b in database.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            db.push(b as char);
        } else {
            db.push_str(&format!("%{b:02X}"));
        }
    }
    format!("postgresql://{SUPERUSER}@127.0.0.1:{port}/{db}")
}
