//! The parts of a table altered one by one after its columns,
//! constraints and indexes: triggers (enabled or disabled in place when
//! that is all that changed), policies, rules, RLS flags, storage
//! settings, owner, comment and grants.

use super::privileges::{acl, comment, literal, owner};
use super::reorder::Reorder;
use super::{Hazard, Out, Phase};
use crate::ddl::{policy_statement, trigger_state, trigger_statement};
use crate::model::{quote_ident, Table};

/// Two triggers alike but for their enabled state and comment.
fn same_trigger(a: &crate::model::Trigger, b: &crate::model::Trigger) -> bool {
    let bare = |t: &crate::model::Trigger| crate::model::Trigger {
        enabled: String::new(),
        comment: None,
        ..t.clone()
    };
    bare(a) == bare(b)
}

/// Triggers, policies, rules, flags, owner, comment and grants.
pub(super) fn alter_rest(
    a: &Table,
    b: &Table,
    name: &str,
    new: bool,
    moves: Option<&Reorder>,
    out: &mut Out,
) {
    let touched = |texts: Vec<&str>| moves.is_some_and(|m| m.touches(texts));
    let trigger_moves = |t: &crate::model::Trigger| {
        touched(
            t.events
                .iter()
                .map(String::as_str)
                .chain(t.when.as_deref())
                .collect(),
        )
    };
    let policy_moves = |p: &crate::model::Policy| {
        touched(
            p.using
                .iter()
                .chain(&p.with_check)
                .map(String::as_str)
                .collect(),
        )
    };
    // A trigger that differs only in its enabled state or comment is
    // altered in place (ENABLE / DISABLE TRIGGER, COMMENT ON TRIGGER).
    let kept = |t: &crate::model::Trigger, others: &[crate::model::Trigger]| {
        !trigger_moves(t)
            && others
                .iter()
                .find(|x| x.name == t.name)
                .is_some_and(|x| same_trigger(x, t))
    };
    for t in &a.triggers {
        if !kept(t, &b.triggers) {
            out.push(
                Phase::DropTriggers,
                format!("DROP TRIGGER {} ON {name};", quote_ident(&t.name)),
                &[],
            );
        }
    }
    for t in &b.triggers {
        if let Some(old) = a
            .triggers
            .iter()
            .find(|x| x.name == t.name && kept(t, &a.triggers))
        {
            if old.enabled != t.enabled {
                let state = trigger_state(t, name).unwrap_or_else(|| {
                    format!(
                        "ALTER TABLE {name} ENABLE TRIGGER {};",
                        quote_ident(&t.name)
                    )
                });
                out.push(Phase::Triggers, state, &[]);
            }
            if old.comment != t.comment {
                out.push(
                    Phase::Comments,
                    format!(
                        "COMMENT ON TRIGGER {} ON {name} IS {};",
                        quote_ident(&t.name),
                        t.comment.as_deref().map_or("NULL".into(), literal)
                    ),
                    &[],
                );
            }
            continue;
        }
        if trigger_moves(t) || a.triggers.iter().find(|x| x.name == t.name) != Some(t) {
            out.push(Phase::Triggers, trigger_statement(t, name), &[]);
            if let Some(s) = trigger_state(t, name) {
                out.push(Phase::Triggers, s, &[]);
            }
            if let Some(c) = &t.comment {
                out.push(
                    Phase::Comments,
                    format!(
                        "COMMENT ON TRIGGER {} ON {name} IS {};",
                        quote_ident(&t.name),
                        literal(c)
                    ),
                    &[],
                );
            }
        }
    }
    for p in &a.policies {
        if policy_moves(p) || b.policies.iter().find(|x| x.name == p.name) != Some(p) {
            out.push(
                Phase::DropTriggers,
                format!("DROP POLICY {} ON {name};", quote_ident(&p.name)),
                &[Hazard::AuthzUpdate],
            );
        }
    }
    for p in &b.policies {
        if policy_moves(p) || a.policies.iter().find(|x| x.name == p.name) != Some(p) {
            out.push(
                Phase::Policies,
                policy_statement(p, name),
                &[Hazard::AuthzUpdate],
            );
        }
    }
    for r in &a.rules {
        if b.rules.iter().find(|x| x.name == r.name) != Some(r) {
            out.push(
                Phase::DropTriggers,
                format!("DROP RULE {} ON {name};", quote_ident(&r.name)),
                &[],
            );
        }
    }
    for r in &b.rules {
        if a.rules.iter().find(|x| x.name == r.name) != Some(r) {
            out.push(Phase::Triggers, r.definition.trim().to_string(), &[]);
        }
    }
    let flag = |on: bool, yes: &str, no: &str| if on { yes.to_string() } else { no.to_string() };
    if a.row_security != b.row_security {
        out.push(
            Phase::Policies,
            format!(
                "ALTER TABLE {name} {} ROW LEVEL SECURITY;",
                flag(b.row_security, "ENABLE", "DISABLE")
            ),
            &[Hazard::AuthzUpdate],
        );
    }
    if a.force_row_security != b.force_row_security {
        out.push(
            Phase::Policies,
            format!(
                "ALTER TABLE {name} {} ROW LEVEL SECURITY;",
                flag(b.force_row_security, "FORCE", "NO FORCE")
            ),
            &[Hazard::AuthzUpdate],
        );
    }
    if !new && a.unlogged != b.unlogged {
        out.push(
            Phase::Columns,
            format!(
                "ALTER TABLE {name} SET {};",
                flag(b.unlogged, "UNLOGGED", "LOGGED")
            ),
            &[],
        );
    }
    if a.replica_identity != b.replica_identity {
        let how = match b.replica_identity.as_deref() {
            None => "DEFAULT".to_string(),
            Some(r) => match r.strip_prefix("using index ") {
                Some(i) => format!("USING INDEX {}", quote_ident(i)),
                None => r.to_uppercase(),
            },
        };
        out.push(
            Phase::Others,
            format!("ALTER TABLE {name} REPLICA IDENTITY {how};"),
            &[],
        );
    }
    if a.cluster_on != b.cluster_on {
        let sql = match &b.cluster_on {
            Some(i) => format!("ALTER TABLE {name} CLUSTER ON {};", quote_ident(i)),
            None => format!("ALTER TABLE {name} SET WITHOUT CLUSTER;"),
        };
        out.push(Phase::Others, sql, &[]);
    }
    if !new && a.options != b.options {
        let gone: Vec<&str> = a
            .options
            .iter()
            .filter_map(|o| o.split('=').next())
            .filter(|k| !b.options.iter().any(|o| o.split('=').next() == Some(k)))
            .collect();
        if !gone.is_empty() {
            out.push(
                Phase::Others,
                format!("ALTER TABLE {name} RESET ({});", gone.join(", ")),
                &[],
            );
        }
        if !b.options.is_empty() {
            out.push(
                Phase::Others,
                format!("ALTER TABLE {name} SET ({});", b.options.join(", ")),
                &[],
            );
        }
    }
    if !new
        && (a.tablespace != b.tablespace
            || a.access_method != b.access_method
            || a.server_options != b.server_options)
    {
        out.unsupported(
            Phase::Others,
            format!("{name}: tablespace, access method or foreign table OPTIONS changed"),
        );
    }
    owner(
        out,
        "TABLE",
        name,
        (!new).then_some(a.owner.as_str()),
        &b.owner,
    );
    comment(out, "TABLE", name, a.comment.as_ref(), b.comment.as_ref());
    acl(out, "TABLE", name, None, &a.acl, &b.acl, &b.owner);
}
