//! Catalog SQL for every supported PostgreSQL major from one text per query.
//!
//! The catalogs differ between majors by a handful of columns (see
//! docs/postgres-majors.md). Rather than a copy of a query per
//! major, a query marks the parts that differ:
//!
//! ```sql
//! /*if 15+*/ i.indnullsnotdistinct /*else*/ false /*end*/ AS nulls_not_distinct
//! /*if 15-16*/ c.colliculocale /*end*/
//! ```
//!
//! [`render`] keeps the first branch on the majors the gate names (`N+`: N
//! and newer, `N-M`: N to M) and the `else` branch (empty when absent) on
//! the others. Gates do not nest.

// The supported majors are a property of the connection layer (every
// command that connects refuses an older server, capturing or not).
pub use crate::database::{major_of, NEWEST_MAJOR, OLDEST_MAJOR};

/// `template` with every `/*if N+*/ A /*else*/ B /*end*/` (or `N-M`) gate
/// resolved for `major`. A malformed gate is a bug in a bundled file: the
/// tests render every file for every major, so it panics there, never for a
/// user.
pub fn render(template: &str, major: u32) -> String {
    const OPEN: &str = "/*if ";
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after_open = &rest[start + OPEN.len()..];
        let close = after_open.find("*/").expect("unterminated /*if N+*/ gate");
        let applies = gate_applies(after_open[..close].trim(), major);
        let body = &after_open[close + 2..];
        let end = body.find("/*end*/").expect("/*if*/ gate without /*end*/");
        let (then, otherwise) = match body[..end].find("/*else*/") {
            Some(e) => (&body[..e], &body[e + "/*else*/".len()..end]),
            None => (&body[..end], ""),
        };
        out.push_str(if applies { then } else { otherwise }.trim());
        rest = &body[end + "/*end*/".len()..];
    }
    out.push_str(rest);
    out
}

/// Whether the gate `N+` or `N-M` covers `major`.
fn gate_applies(gate: &str, major: u32) -> bool {
    let number = |s: &str| -> u32 {
        s.trim()
            .parse()
            .unwrap_or_else(|_| panic!("gate /*if {gate}*/ needs N+ or N-M"))
    };
    match gate.strip_suffix('+') {
        Some(since) => major >= number(since),
        None => {
            let (from, to) = gate
                .split_once('-')
                .unwrap_or_else(|| panic!("gate /*if {gate}*/ needs N+ or N-M"));
            (number(from)..=number(to)).contains(&major)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_choose_by_major() {
        let sql = "SELECT /*if 15+*/ i.a /*else*/ false /*end*/ AS a, b /*if 17+*/, c /*end*/ /*if 14-15*/ d /*end*/ FROM t";
        assert_eq!(render(sql, 13), "SELECT false AS a, b   FROM t");
        assert_eq!(render(sql, 15), "SELECT i.a AS a, b  d FROM t");
        assert_eq!(render(sql, 17), "SELECT i.a AS a, b , c  FROM t");
        assert_eq!(render("no gates", 13), "no gates");
    }

    #[test]
    fn majors_of_version_numbers() {
        assert_eq!(major_of(130023), 13);
        assert_eq!(major_of(180004), 18);
    }
}

#[cfg(test)]
mod bundled {
    use super::*;

    /// Every bundled query renders to SQL PostgreSQL's grammar accepts, for
    /// every supported major, with no gate left over.
    #[test]
    fn every_query_renders_for_every_major() {
        for major in OLDEST_MAJOR..=NEWEST_MAJOR {
            for job in crate::catalog::jobs() {
                for (_, sql) in job
                    .render(major)
                    .into_iter()
                    .chain(job.render_narrowed(major))
                {
                    assert!(!sql.contains("/*if"), "{} on {major}: gate left", job.name);
                    assert!(
                        !sql.contains("/*end*/"),
                        "{} on {major}: /*end*/ left",
                        job.name
                    );
                    if let Err(e) = pg_query::parse(&sql, pg_query::ParserOptions::DEFAULT) {
                        panic!("{} on {major} does not parse: {e}\n{sql}", job.name);
                    }
                }
            }
        }
    }
}
