//! Grants, owners and comments: the attributes every kind shares.

use super::{Hazard, Out, Phase};
use crate::model::{quote_ident, Grant, Grantee};

/// The privileges PostgreSQL gives PUBLIC on a new object of `kind` (the
/// differ's rule), which a new object's target ACL is compared with.
pub(crate) fn public_defaults(kind: crate::diff::ObjectKind) -> Vec<Grant> {
    crate::diff::public_default_privilege(kind)
        .map(|privilege| Grant {
            grantee: Grantee::Public,
            privileges: vec![privilege.into()],
            grantable: Vec::new(),
            grantor: String::new(),
        })
        .into_iter()
        .collect()
}

/// The PUBLIC keyword for the pseudo-role; a role (even one named
/// PUBLIC) as a quoted identifier.
fn role(grantee: &Grantee) -> String {
    grantee.to_sql()
}

/// GRANT and REVOKE statements that turn `before` into `after` on
/// `what name` (the owner's own privileges are left alone), `columns` the
/// column list of a column grant.
pub(crate) fn acl(
    out: &mut Out,
    what: &str,
    name: &str,
    columns: Option<&str>,
    before: &[Grant],
    after: &[Grant],
    owner: &str,
) {
    let cols = columns.map(|c| format!(" ({c})")).unwrap_or_default();
    let find = |list: &[Grant], grantee: &Grantee| -> (Vec<String>, Vec<String>) {
        list.iter()
            .find(|g| g.grantee == *grantee)
            .map(|g| (g.privileges.clone(), g.grantable.clone()))
            .unwrap_or_default()
    };
    let mut grantees: Vec<&Grantee> = before
        .iter()
        .chain(after)
        .map(|g| &g.grantee)
        .filter(|g| !g.is_role(owner))
        .collect();
    grantees.sort();
    grantees.dedup();
    let maintain = out.maintain;
    let keep = |(p, g): (Vec<String>, Vec<String>)| {
        let known = |x: &String| maintain || x != "MAINTAIN";
        (
            p.into_iter().filter(known).collect::<Vec<_>>(),
            g.into_iter().filter(known).collect::<Vec<_>>(),
        )
    };
    for grantee in grantees {
        let (b, bg) = keep(find(before, grantee));
        let (a, ag) = keep(find(after, grantee));
        let list = |p: Vec<&String>| {
            p.iter()
                .map(|s| format!("{s}{cols}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let revoke: Vec<&String> = b.iter().filter(|p| !a.contains(p)).collect();
        if !revoke.is_empty() {
            out.push(
                Phase::Privileges,
                format!(
                    "REVOKE {} ON {what} {name} FROM {};",
                    list(revoke),
                    role(grantee)
                ),
                &[Hazard::AuthzUpdate],
            );
        }
        let lose_option: Vec<&String> = bg
            .iter()
            .filter(|p| a.contains(p) && !ag.contains(p))
            .collect();
        if !lose_option.is_empty() {
            out.push(
                Phase::Privileges,
                format!(
                    "REVOKE GRANT OPTION FOR {} ON {what} {name} FROM {};",
                    list(lose_option),
                    role(grantee)
                ),
                &[Hazard::AuthzUpdate],
            );
        }
        let plain: Vec<&String> = a
            .iter()
            .filter(|p| !b.contains(p) && !ag.contains(p))
            .collect();
        if !plain.is_empty() {
            out.push(
                Phase::Privileges,
                format!(
                    "GRANT {} ON {what} {name} TO {};",
                    list(plain),
                    role(grantee)
                ),
                &[Hazard::AuthzUpdate],
            );
        }
        let with_option: Vec<&String> = ag.iter().filter(|p| !bg.contains(p)).collect();
        if !with_option.is_empty() {
            out.push(
                Phase::Privileges,
                format!(
                    "GRANT {} ON {what} {name} TO {} WITH GRANT OPTION;",
                    list(with_option),
                    role(grantee)
                ),
                &[Hazard::AuthzUpdate],
            );
        }
    }
}

pub(crate) use crate::ddl::quote::literal;

/// COMMENT ON when the comment differs.
pub(crate) fn comment(
    out: &mut Out,
    what: &str,
    name: &str,
    before: Option<&String>,
    after: Option<&String>,
) {
    if before == after {
        return;
    }
    let text = after.map_or("NULL".to_string(), |c| literal(c));
    out.push(
        Phase::Comments,
        format!("COMMENT ON {what} {name} IS {text};"),
        &[],
    );
}

/// ALTER … OWNER TO when an existing object's owner differs. A new object
/// is owned by the role that runs the migration: it gets a statement only
/// when the target has it owned by another role than the one that owns
/// most of the schema (presumably the migrating role).
pub(crate) fn owner(out: &mut Out, what: &str, name: &str, before: Option<&str>, after: &str) {
    let before = before.unwrap_or(out.default_owner.as_str());
    if after.is_empty() || before == after {
        return;
    }
    out.push(
        Phase::Owners,
        format!("ALTER {what} {name} OWNER TO {};", quote_ident(after)),
        &[Hazard::AuthzUpdate],
    );
}
