//! A shadow database that holds a given schema: the live schema of a
//! target (for `preflight`) or a stored `after` snapshot (for `rollback`'s
//! verification). The planner writes the SQL from the shadow's empty
//! database to the snapshot, every kind, owners and grants; the roles the
//! snapshot names are created first.
//!
//! Owners: migrations that follow run as [`crate::shadow::REPLAY_ROLE`],
//! so the role that owns most of the snapshot (its migrating role) is read
//! as the replay role, as [`super::owners`] reads a replay against a live
//! database the other way round. The objects are created by the replay
//! role, unprivileged (a materialized view's query runs when it is
//! created); then the owners, grants and comments, statements that run no
//! code of the schema's, run on the shadow's superuser connection, so
//! that objects owned by other roles (created NOLOGIN when missing) and
//! their grantors are as in the snapshot. The replay role is made a member
//! of no other role: a pending migration that alters another role's table
//! fails on the shadow as it would in production. A role that is a
//! superuser on the shadow is read as the replay role, with a warning.

use super::owners;
use crate::catalog::{self, CaptureOptions};
use crate::ddl::plan::{plan, snapshot_major, PlanOptions};
use crate::error::{Error, Result};
use crate::model::{quote_ident, Grantee, Objects, Snapshot};
use crate::shadow::ReplayDatabase;
use serde_json::Value;
use sqlx::Connection;
use std::collections::{BTreeMap, BTreeSet};

/// What seeding did, for the caller's report.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// The snapshot's migrating role, read as the role the SQL ran as.
    pub migrating_role: Option<String>,
    /// Roles created on the shadow because the snapshot names them.
    pub created_roles: Vec<String>,
    /// Statements the seed ran.
    pub statements: usize,
    /// What the reader must know (kinds the planner cannot write, owners
    /// read as the replay role).
    pub warnings: Vec<String>,
}

/// Fields of the snapshot JSON that name one role.
const ROLE_FIELDS: &[&str] = &["owner", "grantee", "grantor", "role"];

/// Builds `snapshot`'s schema in the replay database `db` (empty, from
/// [`crate::shadow::Shadow::replay_database`]). `origin` names the
/// snapshot in messages (`live schema of prod`). The SQL is the planner's
/// and names only quoted identifiers and literals, so it runs as written;
/// extension statements go to the superuser connection as a replay's do.
pub async fn seed(db: &ReplayDatabase, snapshot: &Snapshot, origin: &str) -> Result<Seeded> {
    let mut seeded = Seeded::default();
    let runner = current_role(db).await?;
    let superusers = match &db.superuser {
        Some(_) => db.superusers.clone(),
        None => Vec::new(),
    };
    let named = roles_named(&snapshot.objects);
    let migrating = owners::migrating_role(&snapshot.objects);
    seeded.migrating_role = migrating.clone();
    // Which snapshot roles are read as the role the SQL runs as.
    let mut renames: BTreeMap<String, String> = BTreeMap::new();
    if let Some(m) = &migrating {
        if *m != runner {
            renames.insert(m.clone(), runner.clone());
        }
    }
    for role in &named {
        if superusers.contains(role) && *role != runner && !renames.contains_key(role) {
            seeded.warnings.push(format!(
                "objects of {role}, a superuser on the shadow server, are owned by the role migrations run as there"
            ));
            renames.insert(role.clone(), runner.clone());
        }
    }
    let to_create: Vec<String> = named
        .iter()
        .filter(|r| !renames.contains_key(*r) && **r != runner)
        .cloned()
        .collect();
    seeded.created_roles = create_roles(db, &to_create, false).await?;
    let wanted = if renames.is_empty() {
        snapshot.clone()
    } else {
        rename_roles(snapshot, &renames)?
    };

    // The shadow's empty database as it is (public schema, its owner):
    // the plan starts there.
    let (empty, _) = catalog::capture(&db.url, &CaptureOptions::default()).await?;
    let plan = plan(
        &empty,
        &wanted,
        &PlanOptions {
            allow_drops: true,
            server_major: snapshot_major(snapshot),
            ..PlanOptions::default()
        },
    );
    seeded.statements = plan.statements.len();
    seeded.warnings.extend(plan.warnings.iter().cloned());
    let ours = |e: Error| {
        match e {
        Error::Input { path, message, .. } => Error::Shadow(format!(
            "rebuilding {origin} on the shadow failed at {path}: {message} (driftwatch's own SQL: please report it)"
        )),
        other => other,
    }
    };
    match &db.superuser {
        Some(superuser) => {
            let (objects, authorization) = plan.split_authorization();
            crate::shadow::load_sql_as(db, &objects.to_migration_sql(), origin)
                .await
                .map_err(ours)?;
            if !authorization.is_empty() {
                crate::shadow::load_sql(superuser, &authorization.to_migration_sql(), origin)
                    .await
                    .map_err(ours)?;
            }
        }
        None => crate::shadow::load_sql_as(db, &plan.to_migration_sql(), origin)
            .await
            .map_err(ours)?,
    }
    Ok(seeded)
}

/// The role `db`'s connections run as.
async fn current_role(db: &ReplayDatabase) -> Result<String> {
    let mut conn = db.url.connect(&[]).await?;
    let role: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| Error::Shadow(format!("{}: reading the role: {e}", db.url.redacted())))?;
    let _ = conn.close().await;
    Ok(role)
}

/// Creates the roles of `roles` that the shadow lacks (NOLOGIN), on the
/// superuser connection when there is one; when `grant`, each role created
/// is granted to the replay role, which may then hand it objects
/// (`rollback`'s verification runs its ALTER … OWNER TO as that role).
/// Returns the roles created.
pub async fn create_roles(
    db: &ReplayDatabase,
    roles: &[String],
    grant: bool,
) -> Result<Vec<String>> {
    if roles.is_empty() {
        return Ok(Vec::new());
    }
    let url = db.superuser.as_ref().unwrap_or(&db.url);
    let mut conn = url.connect(&[]).await?;
    let fail = |e: sqlx::Error| Error::Shadow(format!("{}: creating roles: {e}", url.redacted()));
    let existing: Vec<String> =
        sqlx::query_scalar("SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)")
            .bind(roles)
            .fetch_all(&mut conn)
            .await
            .map_err(fail)?;
    let mut created = Vec::new();
    for role in roles.iter().filter(|r| !existing.contains(r)) {
        let quoted = quote_ident(role);
        let mut sql = format!("CREATE ROLE {quoted} NOLOGIN");
        if grant && db.superuser.is_some() {
            sql.push_str(&format!(
                "; GRANT {quoted} TO {}",
                quote_ident(crate::shadow::REPLAY_ROLE)
            ));
        }
        sqlx::Executor::execute(&mut conn, sqlx::raw_sql(&sql))
            .await
            .map_err(fail)?;
        created.push(role.clone());
    }
    let _ = conn.close().await;
    Ok(created)
}

/// Every role `objects` names as an owner, grantee, grantor, default
/// privileges' role or policy role; PUBLIC and the predefined `pg_*`
/// roles left out.
pub fn roles_named(objects: &Objects) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    if let Ok(value) = serde_json::to_value(objects) {
        collect(&value, &mut found);
    }
    found.retain(|r| !r.is_empty() && !r.starts_with("pg_"));
    found
}

fn collect(v: &Value, found: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    (key, Value::String(name)) if ROLE_FIELDS.contains(&key) => {
                        if let Grantee::Role(role) = Grantee::from_key(name) {
                            found.insert(role);
                        }
                    }
                    ("roles", Value::Array(items)) => {
                        for name in items.iter().filter_map(Value::as_str) {
                            if let Grantee::Role(role) = Grantee::from_key(name) {
                                found.insert(role);
                            }
                        }
                    }
                    _ => collect(v, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect(i, found)),
        _ => {}
    }
}

/// `snapshot` with the roles of `renames` read as others, in every field
/// that names a role.
fn rename_roles(snapshot: &Snapshot, renames: &BTreeMap<String, String>) -> Result<Snapshot> {
    let mut value = serde_json::to_value(&snapshot.objects)
        .map_err(|e| Error::Shadow(format!("reading a snapshot's roles: {e}")))?;
    rename(&mut value, renames);
    let objects: Objects = serde_json::from_value(value)
        .map_err(|e| Error::Shadow(format!("reading a snapshot's roles: {e}")))?;
    Ok(Snapshot::new(snapshot.meta.clone(), objects))
}

fn rename(v: &mut Value, renames: &BTreeMap<String, String>) {
    let renamed = |name: &str| -> Option<String> {
        match Grantee::from_key(name) {
            Grantee::Role(role) => renames.get(&role).map(|to| Grantee::Role(to.clone()).key()),
            Grantee::Public => None,
        }
    };
    match v {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                match v {
                    Value::String(name) if ROLE_FIELDS.contains(&k.as_str()) => {
                        if let Some(to) = renamed(name) {
                            *name = to;
                        }
                    }
                    Value::Array(items) if k == "roles" => {
                        for item in items.iter_mut() {
                            if let Some(to) = item.as_str().and_then(renamed) {
                                *item = Value::String(to);
                            }
                        }
                    }
                    _ => rename(v, renames),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| rename(i, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::REPLAY_ROLE;

    fn objects(json: serde_json::Value) -> Objects {
        serde_json::from_value(json).expect("objects")
    }

    #[test]
    fn roles_named_reads_owners_grants_and_policy_roles_but_not_public() {
        let o = objects(serde_json::json!({
            "schemas": [{"name": "app", "owner": "migrator",
                         "acl": [{"grantee": "PUBLIC", "grantor": "migrator", "privileges": ["USAGE"]},
                                 {"grantee": "\"PUBLIC\"", "grantor": "migrator", "privileges": ["USAGE"]},
                                 {"grantee": "pg_read_all_data", "grantor": "migrator", "privileges": ["USAGE"]}]}],
            "tables": [{"schema": "app", "name": "t", "kind": "table", "owner": "o'wner",
                        "policies": [{"name": "p", "command": "all", "permissive": true,
                                      "roles": ["PUBLIC", "reader"]}]}]
        }));
        let named: Vec<String> = roles_named(&o).into_iter().collect();
        assert_eq!(named, vec!["PUBLIC", "migrator", "o'wner", "reader"]);
    }

    #[test]
    fn renaming_keeps_the_public_pseudo_role() {
        let snapshot = Snapshot::new(
            Default::default(),
            objects(serde_json::json!({
                "schemas": [{"name": "app", "owner": "migrator",
                             "acl": [{"grantee": "PUBLIC", "grantor": "migrator", "privileges": ["USAGE"]}]}]
            })),
        );
        let map = BTreeMap::from([("migrator".to_string(), REPLAY_ROLE.to_string())]);
        let renamed = rename_roles(&snapshot, &map).expect("renamed");
        let schema = &renamed.objects.schemas[0];
        assert_eq!(schema.owner, REPLAY_ROLE);
        let text = serde_json::to_string(&schema.acl).expect("json");
        assert!(text.contains("\"grantee\":\"PUBLIC\""), "{text}");
        assert!(!text.contains("migrator"), "{text}");
    }
}
