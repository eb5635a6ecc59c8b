//! The same schema read on different PostgreSQL majors, made one snapshot.
//!
//! Only what a major prints or stores differently for the same DDL is
//! aligned here (always to the newest major's reading); a real difference
//! stays. View definitions are aligned when captured (see
//! [`crate::normalize::unqualify_single_relation`]); privileges here, so
//! that snapshots written by older versions of driftwatch are aligned when
//! read, too.

use super::{Grant, Objects};

/// The privileges a relation's ACL holds with "ALL" before 17, in
/// PostgreSQL's order.
const RELATION_ALL_BEFORE_17: [&str; 7] = [
    "INSERT",
    "SELECT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "REFERENCES",
    "TRIGGER",
];

/// 17 added MAINTAIN to the privileges of relations (and to an owner's
/// default ACL). A grant that holds every relation privilege of an older
/// major is what `GRANT ALL` (or the owner's default) gives there, and what
/// `pg_upgrade` turns into a grant with MAINTAIN: read it so. A grant of
/// fewer privileges is kept as it is.
fn imply_maintain(acl: &mut [Grant]) {
    for grant in acl {
        let holds_all = |list: &[String]| {
            RELATION_ALL_BEFORE_17
                .iter()
                .all(|p| list.iter().any(|h| h == p))
        };
        if grant.privileges.iter().any(|p| p == "MAINTAIN") || !holds_all(&grant.privileges) {
            continue;
        }
        grant.privileges.push("MAINTAIN".to_string());
        if holds_all(&grant.grantable) {
            grant.grantable.push("MAINTAIN".to_string());
        }
    }
}

impl Objects {
    /// Aligns objects read from a server of `major` with the newest major's
    /// reading of the same schema. Idempotent; nothing to do from 17 on.
    pub fn align_to_newest(&mut self, major: u32) {
        if major >= 17 {
            return;
        }
        for t in &mut self.tables {
            imply_maintain(&mut t.acl);
        }
        for v in &mut self.views {
            imply_maintain(&mut v.acl);
        }
        for m in &mut self.materialized_views {
            imply_maintain(&mut m.acl);
        }
        for d in &mut self.default_privileges {
            if d.object_type == "tables" {
                imply_maintain(&mut d.grants);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_acl;

    #[test]
    fn all_privileges_before_17_read_as_17_reads_them() {
        let mut old = parse_acl(&[
            "o=arwdDxt/o".into(),
            "b=r/o".into(),
            "c=a*r*w*d*D*x*t*/o".into(),
        ]);
        let new = parse_acl(&[
            "o=arwdDxtm/o".into(),
            "b=r/o".into(),
            "c=a*r*w*d*D*x*t*m*/o".into(),
        ]);
        imply_maintain(&mut old);
        assert_eq!(old, new);
        // a 17 grant without MAINTAIN is not all privileges: it stays
        let mut revoked = parse_acl(&["o=arwdDxt/o".into()]);
        let mut objects = Objects::default();
        objects
            .default_privileges
            .push(crate::model::DefaultPrivilege {
                role: "o".into(),
                schema: None,
                object_type: "tables".into(),
                grants: revoked.clone(),
            });
        objects.align_to_newest(17);
        assert_eq!(objects.default_privileges[0].grants, revoked);
        objects.align_to_newest(16);
        imply_maintain(&mut revoked);
        assert_eq!(objects.default_privileges[0].grants, revoked);
    }
}
