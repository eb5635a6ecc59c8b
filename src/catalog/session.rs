//! A capture session for replays: captures one shadow database again and
//! again (after every migration), cheaply.
//!
//! - Two connections stay open for the whole replay, and every catalog query
//!   is a prepared statement with a generic plan: planned once per session
//!   (planning the big catalog queries costs more than running them on a
//!   small schema).
//! - An incremental capture reads only the objects that changed since the
//!   previous capture of the session: `changed.sql` finds the catalog rows
//!   newer than the previous capture's transaction marker and everything
//!   that depends on them; every narrowed query (see [`super::runner::Narrow`])
//!   then gets their oids as `$1`. The result is merged into the previous
//!   objects: dirty and vanished objects (by the oid → identity inventory)
//!   are replaced or removed, everything else is kept as it was.
//! - Removals of parts that leave no newer row behind (DROP INDEX, COMMENT
//!   … IS NULL) are invisible here: the caller asks for a full capture when
//!   the migration's parse says it may do that.
//!
//! Only for databases driftwatch owns: no lock check, no exported snapshot.

use super::runner::{self, Rendered, Rows, ScopeOids};
use super::{CaptureOptions, DatabaseUrl};
use crate::error::{Error, Result};
use crate::model::{Capture, Listed, Objects, Snapshot};
use sqlx::postgres::types::Oid;
use sqlx::postgres::PgConnection;
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// Full or incremental.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureMode {
    /// Read the whole schema.
    Full,
    /// Read what changed since the previous capture of this session (a full
    /// capture when there is none).
    Incremental,
}

use super::live_state::Identity;

/// What the previous capture left for the next one (its objects are the
/// caller's: the snapshot it returned).
struct Previous {
    marker: String,
    identities: HashMap<i64, Identity>,
}

/// Open connections and the state of the previous capture.
pub struct CaptureSession {
    url: DatabaseUrl,
    opts: CaptureOptions,
    catalog: PgConnection,
    deparse: PgConnection,
    full_jobs: Vec<Rendered>,
    narrowed_jobs: Vec<Rendered>,
    previous: Option<Previous>,
    major: u32,
}

/// The query of changed rows (shared with the live incremental capture).
pub(super) const CHANGED_SQL: &str = include_str!("sql/changed.sql");
/// Every top-level object's identity (shared with the live capture).
pub(super) const INVENTORY_SQL: &str = include_str!("sql/inventory.sql");
const MARKER_SQL: &str = include_str!("sql/change_marker.sql");

impl CaptureSession {
    /// Opens the session's two connections.
    pub async fn open(url: &DatabaseUrl, opts: &CaptureOptions) -> Result<CaptureSession> {
        let mut settings = super::session_settings(opts);
        // Plan each prepared catalog query once, whatever its parameter.
        settings.push(("plan_cache_mode", "force_generic_plan".to_string()));
        let catalog = url.connect(&settings).await?;
        let deparse = url.connect(&settings).await?;
        let major = runner::server_major(&catalog, url.redacted())?;
        let jobs = super::jobs();
        Ok(CaptureSession {
            url: url.clone(),
            opts: opts.clone(),
            catalog,
            deparse,
            full_jobs: jobs.iter().filter_map(|j| j.render(major)).collect(),
            narrowed_jobs: jobs
                .iter()
                .filter_map(|j| j.render_narrowed(major))
                .collect(),
            previous: None,
            major,
        })
    }

    fn query_error(&self, query: &str, e: sqlx::Error) -> Error {
        Error::Query {
            target: self.url.redacted().to_string(),
            query: query.to_string(),
            message: e.to_string(),
        }
    }

    async fn execute(&mut self, sql: &'static str) -> Result<()> {
        sqlx::Executor::execute(&mut self.catalog, sqlx::raw_sql(sql))
            .await
            .map_err(|e| self.query_error(sql, e))?;
        Ok(())
    }

    /// Captures the database. An incremental capture merges what changed
    /// into `previous`, the snapshot this session's previous capture
    /// returned; without it the capture is a full one.
    pub async fn capture(
        &mut self,
        mode: CaptureMode,
        previous: Option<&Objects>,
    ) -> Result<Snapshot> {
        let mode = if previous.is_some() {
            mode
        } else {
            CaptureMode::Full
        };
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let result = self.capture_in_transaction(mode, previous).await;
        let _ = self.execute("COMMIT").await;
        let (mut objects, marker, identities, database) = result?;
        objects.retain_schemas(&self.opts.schemas, &self.opts.exclude_schemas);
        objects.align_to_newest(self.major);
        crate::history::exclude_history_tables(&mut objects, &self.opts.history_tables);
        self.previous = Some(Previous { marker, identities });
        let meta = super::capture_meta(&self.url, &self.opts, database);
        Ok(Snapshot::new(meta, objects))
    }

    #[allow(clippy::type_complexity)]
    async fn capture_in_transaction(
        &mut self,
        mode: CaptureMode,
        previous_objects: Option<&Objects>,
    ) -> Result<(
        Objects,
        String,
        HashMap<i64, Identity>,
        super::build::ServerRow,
    )> {
        let marker: String = sqlx::query(MARKER_SQL)
            .persistent(true)
            .fetch_one(&mut self.catalog)
            .await
            .map_err(|e| self.query_error("change_marker.sql", e))?
            .get("marker");
        let inventory = super::versioned::render(INVENTORY_SQL, self.major);
        let identities: HashMap<i64, Identity> = sqlx::query(&inventory)
            .persistent(true)
            .fetch_all(&mut self.catalog)
            .await
            .map_err(|e| self.query_error("inventory.sql", e))?
            .iter()
            .map(|r| {
                (
                    r.get::<i64, _>("oid"),
                    (r.get("list"), r.get("schema"), r.get("name"), r.get("args")),
                )
            })
            .collect();

        let scope = match (&self.previous, mode) {
            (Some(previous), CaptureMode::Incremental) => {
                let changed = sqlx::query(CHANGED_SQL)
                    .bind(&previous.marker)
                    .bind(Vec::<i64>::new())
                    .bind(None::<Vec<String>>)
                    .persistent(true)
                    .fetch_all(&mut self.catalog)
                    .await
                    .map_err(|e| self.query_error("changed.sql", e))?;
                let mut scope = ScopeOids {
                    objects: Vec::new(),
                    lookups: Vec::new(),
                };
                for row in &changed {
                    let oid = Oid(row.get::<i64, _>("oid") as u32);
                    if row.get::<bool, _>("dirty") {
                        scope.objects.push(oid);
                    }
                    scope.lookups.push(oid);
                }
                Some(scope)
            }
            _ => None,
        };

        let mut rows = Rows::new(self.url.redacted().to_string());
        let jobs = if scope.is_some() {
            &self.narrowed_jobs
        } else {
            &self.full_jobs
        };
        runner::run_on(
            &mut self.catalog,
            &mut self.deparse,
            jobs,
            scope.as_ref(),
            &mut rows,
            None,
        )
        .await?;
        let prepared = super::prepare(&rows, &self.url)?;
        for statement in prepared.follow_ups() {
            runner::follow_up_on(&mut self.deparse, &mut rows, statement, true).await?;
        }
        let server = rows.one::<super::build::ServerRow>("server.sql")?;
        let keep: Option<HashSet<i64>> = scope
            .as_ref()
            .map(|s| s.objects.iter().map(|o| i64::from(o.0)).collect());
        let fresh = prepared.assemble(&rows, &self.url, keep.as_ref())?;
        let objects = match (&self.previous, previous_objects, &keep) {
            (Some(previous), Some(objects), Some(dirty)) => {
                merge(previous, objects, fresh, &identities, dirty)
            }
            _ => fresh,
        };
        Ok((objects, marker, identities, server))
    }
}

/// Whether an object of a list, by its `(schema, name, arguments)`, stays
/// from the previous capture.
type Keep<'a> = dyn Fn(&str, (&str, &str, &str)) -> bool + 'a;

pub(crate) fn as_refs(i: &Identity) -> (&str, &str, &str, &str) {
    (i.0.as_str(), i.1.as_str(), i.2.as_str(), i.3.as_str())
}

/// The previous objects with every dirty or vanished object taken out
/// (under its old identity and its new one): see [`merge_objects`].
fn merge(
    previous: &Previous,
    prev: &Objects,
    fresh: Objects,
    identities: &HashMap<i64, Identity>,
    dirty: &HashSet<i64>,
) -> Objects {
    let mut stale: HashSet<(&str, &str, &str, &str)> = HashSet::new();
    for (oid, identity) in &previous.identities {
        if dirty.contains(oid) || !identities.contains_key(oid) {
            stale.insert(as_refs(identity));
        }
    }
    for oid in dirty {
        if let Some(identity) = identities.get(oid) {
            stale.insert(as_refs(identity));
        }
    }
    merge_objects(prev.clone(), fresh, &stale)
}

/// The previous objects minus the `stale` identities, with the fresh
/// captures of the dirty objects put in, for every kind whose query is
/// narrowed; the kinds read whole ([`Capture::Whole`]) come from the fresh
/// capture alone. Every list is named: a new one does not compile until it
/// is merged.
pub(crate) fn merge_objects(
    prev: Objects,
    fresh: Objects,
    stale: &HashSet<(&str, &str, &str, &str)>,
) -> Objects {
    let keep = |list: &str, (schema, name, args): (&str, &str, &str)| -> bool {
        !stale.contains(&(list, schema, name, args))
    };
    /// One kind: the fresh list when it is read whole, else the previous
    /// objects still current followed by the fresh ones.
    fn merged<T: Listed>(prev: Vec<T>, fresh: Vec<T>, keep: &Keep<'_>) -> Vec<T> {
        match T::CAPTURE {
            Capture::Whole => fresh,
            Capture::Narrowed => prev
                .into_iter()
                .filter(|o| keep(T::LIST, o.sort_key()))
                .chain(fresh)
                .collect(),
        }
    }
    let Objects {
        schemas,
        extensions,
        collations,
        types,
        sequences,
        tables,
        views,
        materialized_views,
        functions,
        statistics,
        event_triggers,
        publications,
        foreign_data_wrappers,
        foreign_servers,
        default_privileges,
        text_search_dictionaries,
        text_search_configurations,
    } = fresh;
    Objects {
        schemas: merged(prev.schemas, schemas, &keep),
        extensions: merged(prev.extensions, extensions, &keep),
        collations: merged(prev.collations, collations, &keep),
        types: merged(prev.types, types, &keep),
        sequences: merged(prev.sequences, sequences, &keep),
        tables: merged(prev.tables, tables, &keep),
        views: merged(prev.views, views, &keep),
        materialized_views: merged(prev.materialized_views, materialized_views, &keep),
        functions: merged(prev.functions, functions, &keep),
        statistics: merged(prev.statistics, statistics, &keep),
        event_triggers: merged(prev.event_triggers, event_triggers, &keep),
        publications: merged(prev.publications, publications, &keep),
        foreign_data_wrappers: merged(prev.foreign_data_wrappers, foreign_data_wrappers, &keep),
        foreign_servers: merged(prev.foreign_servers, foreign_servers, &keep),
        default_privileges: merged(prev.default_privileges, default_privileges, &keep),
        text_search_dictionaries: merged(
            prev.text_search_dictionaries,
            text_search_dictionaries,
            &keep,
        ),
        text_search_configurations: merged(
            prev.text_search_configurations,
            text_search_configurations,
            &keep,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Table, TextSearchConfiguration};

    fn table(name: &str) -> Table {
        serde_json::from_value(serde_json::json!({
            "schema": "s", "name": name, "kind": "table", "owner": "o"
        }))
        .expect("a minimal table")
    }

    fn configuration(name: &str) -> TextSearchConfiguration {
        serde_json::from_value(serde_json::json!({
            "schema": "s", "name": name, "parser": "default", "owner": "o"
        }))
        .expect("a minimal configuration")
    }

    fn identity(list: &str, name: &str) -> Identity {
        (list.into(), "s".into(), name.into(), String::new())
    }

    /// A narrowed kind keeps its clean objects and takes the fresh capture
    /// of its dirty ones, dropping the vanished; a kind read whole is the
    /// fresh capture's.
    #[test]
    fn narrowed_kinds_merge_and_whole_kinds_are_fresh() {
        let previous = Previous {
            marker: String::new(),
            identities: HashMap::from([
                (1, identity("tables", "clean")),
                (2, identity("tables", "dirty")),
                (3, identity("tables", "gone")),
            ]),
        };
        let prev = Objects {
            tables: vec![table("clean"), table("dirty"), table("gone")],
            text_search_configurations: vec![configuration("old")],
            ..Objects::default()
        };
        let mut changed = table("dirty");
        changed.comment = Some("changed".into());
        let fresh = Objects {
            tables: vec![changed.clone()],
            text_search_configurations: vec![configuration("new")],
            ..Objects::default()
        };
        let now = HashMap::from([
            (1, identity("tables", "clean")),
            (2, identity("tables", "dirty")),
        ]);
        let merged = merge(&previous, &prev, fresh, &now, &HashSet::from([2]));
        assert_eq!(merged.tables, vec![table("clean"), changed]);
        assert_eq!(
            merged.text_search_configurations,
            vec![configuration("new")]
        );
    }
}
