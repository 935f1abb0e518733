//! [`Version`]: a migration's version and its order. A leaf module (no other part of Strata),
//! so that the facts errors carry can name versions without an import cycle.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

/// A migration version: the leading digits of its file name, or — for Flyway's `V1.2.3__` — dot-
/// separated groups of digits. Ordered by numeric value, group by group (`2` < `10` < `100`,
/// `1.2` < `1.10`, as Flyway compares), so 14-digit timestamps, the seed's 8-digit dates, plain
/// counters and dotted versions all sort as people expect.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Version(pub(super) String);

impl Version {
    /// Parses a version: one or more groups of ASCII digits separated by single dots.
    pub fn parse(s: &str) -> Option<Version> {
        s.split('.')
            .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Version(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Each group without leading zeros (`0` for a group of zeros).
    pub(crate) fn groups(&self) -> impl Iterator<Item = &str> {
        self.0.split('.').map(trim_zeros)
    }

    /// The version without leading zeros in any group: `001` and `1` are one migration slot.
    pub fn key(&self) -> String {
        if !self.0.contains('.') {
            return trim_zeros(&self.0).to_string();
        }
        // Trailing zero groups count for nothing, as Flyway compares (`1.0` is `1`).
        let mut groups: Vec<&str> = self.groups().collect();
        while groups.len() > 1 && groups.last() == Some(&"0") {
            groups.pop();
        }
        groups.join(".")
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // The common case, one group each (timestamps, counters): no splitting.
        if !self.0.contains('.') && !other.0.contains('.') {
            let x = trim_zeros(&self.0);
            let y = trim_zeros(&other.0);
            return x
                .len()
                .cmp(&y.len())
                .then_with(|| x.cmp(y))
                .then_with(|| self.0.len().cmp(&other.0.len()));
        }
        let mut a = self.groups();
        let mut b = other.groups();
        loop {
            match (a.next(), b.next()) {
                (Some(x), Some(y)) => {
                    let c = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                // A missing group is a zero one (`1` = `1.0` < `1.1`).
                (None, Some("0")) | (Some("0"), None) => continue,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (None, None) => return self.0.len().cmp(&other.0.len()),
            }
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A group of digits without leading zeros (`0` for a group of zeros).
pub(crate) fn trim_zeros(g: &str) -> &str {
    let t = g.trim_start_matches('0');
    if t.is_empty() {
        "0"
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zero_groups_count_for_nothing_as_flyway_compares() {
        let v = |s: &str| Version::parse(s).unwrap();
        assert_eq!(v("1.0").key(), v("1").key());
        assert_eq!(v("1.0.0").key(), "1");
        assert!(v("1.0") < v("1.1"));
        assert!(v("1") < v("1.0.1"));
        assert_ne!(v("1.0.1").key(), v("1").key());
        assert_eq!(v("010").key(), "10");
    }
}
