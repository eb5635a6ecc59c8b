//! Assembles catalog rows into model objects: relations and their columns
//! here, their parts in `build_parts`, every other kind in `build_types`.

use super::runner::Rows;
use super::Moved;
use crate::error::Result;
use crate::model::{
    parse_acl, qualified, Column, ColumnDetails, Identity, MaterializedView, Objects, Sequence,
    SequenceOptions, Table, View,
};
use std::collections::HashMap;

/// Row of server.sql.
#[derive(sqlx::FromRow)]
pub(crate) struct ServerRow {
    pub database: String,
    pub server_version: String,
    pub server_version_num: i32,
}

/// Names the assembly steps share: relations, columns, collations, opclasses.
pub(crate) struct Lookups {
    /// Relation oid → (schema, name).
    pub relations: HashMap<i64, (String, String)>,
    /// (relation oid, attnum) → (column name, collation oid).
    pub columns: HashMap<(i64, i32), (String, i64)>,
    /// Collation oid → name as a COLLATE clause writes it.
    pub collations: HashMap<i64, String>,
    /// Operator class oid → (name, is default).
    pub opclasses: HashMap<i64, (String, bool)>,
}

impl Lookups {
    /// `schema.name` of a relation, quoted.
    pub fn relation(&self, oid: i64) -> Option<String> {
        self.relations.get(&oid).map(|(s, n)| qualified(s, n))
    }

    /// A column's name, quoted for SQL.
    pub fn column(&self, relid: i64, attnum: i32) -> String {
        match self.columns.get(&(relid, attnum)) {
            Some((name, _)) => crate::model::quote_ident(name),
            None => format!("#{attnum}"),
        }
    }

    /// A collation's name.
    pub fn collation(&self, oid: i64) -> Option<String> {
        self.collations.get(&oid).cloned()
    }
}

/// The relations of a capture, by oid, while their parts are attached.
pub(crate) struct Relations {
    pub tables: HashMap<i64, Table>,
    pub views: HashMap<i64, View>,
    pub matviews: HashMap<i64, MaterializedView>,
}

#[derive(sqlx::FromRow)]
struct RelationRow {
    oid: i64,
    schema: String,
    name: String,
    relkind: String,
    owner: String,
    persistence: String,
    partition_bound: Option<String>,
    parents: Vec<i64>,
    is_partition: bool,
    row_security: bool,
    force_row_security: bool,
    replica_identity: String,
    replica_identity_index: Option<String>,
    cluster_on: Option<String>,
    access_method: Option<String>,
    tablespace: Option<String>,
    options: Vec<String>,
    server: Option<String>,
    server_options: Vec<String>,
    comment: Option<String>,
    acl: Vec<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct ColumnRow {
    relid: i64,
    attnum: i32,
    name: String,
    type_oid: i64,
    typmod: i32,
    attcollation: i64,
    not_null: bool,
    identity: Option<String>,
    generated: Option<String>,
    is_local: bool,
    statistics_target: Option<i32>,
    storage: String,
    compression: Option<String>,
    options: Option<Vec<String>>,
    server_options: Option<Vec<String>>,
    acl: Option<Vec<String>>,
}

/// Row of not_nulls.sql (18 and newer).
#[derive(sqlx::FromRow)]
struct NotNullRow {
    relid: i64,
    attnum: i32,
    name: String,
    validated: bool,
    no_inherit: bool,
}

/// Whether a NOT NULL constraint's name is one PostgreSQL chose:
/// `<table>_<column>_not_null` (with a number when taken). Such a name keeps
/// the old table and column names after a rename, and no major before 18
/// has one at all, so only a name a user chose is captured.
pub(crate) fn chosen_not_null_name(name: String) -> Option<String> {
    let generated = name
        .trim_end_matches(|c: char| c.is_ascii_digit())
        .ends_with("_not_null");
    (!generated).then_some(name)
}

#[derive(sqlx::FromRow)]
struct ColumnTypeRow {
    type_oid: i64,
    typmod: i32,
    type_name: String,
    type_collation: i64,
    type_storage: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct ColumnDefaultRow {
    relid: i64,
    attnum: i32,
    default_expr: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ColumnCommentRow {
    relid: i64,
    attnum: i32,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct SequenceRow {
    schema: String,
    name: String,
    data_type: String,
    start: i64,
    increment: i64,
    min: i64,
    max: i64,
    cache: i64,
    cycle: bool,
    unlogged: bool,
    owner: String,
    comment: Option<String>,
    acl: Vec<String>,
    owner_relid: Option<i64>,
    owner_attnum: Option<i32>,
    owner_deptype: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RelidAttnumText {
    relid: i64,
    attnum: i32,
    text: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RelidText {
    relid: i64,
    text: Option<String>,
}

/// Why assembly stopped: a query error, or the schema moved.
pub(crate) enum BuildError {
    Query(crate::error::Error),
    Moved(Moved),
}

impl BuildError {
    pub(crate) fn into_error(self, url: &super::DatabaseUrl) -> crate::error::Error {
        match self {
            BuildError::Query(e) => e,
            BuildError::Moved(m) => m.into_error(url),
        }
    }
}

impl From<crate::error::Error> for BuildError {
    fn from(e: crate::error::Error) -> Self {
        BuildError::Query(e)
    }
}

/// The two big row sets, decoded once for both the lookups and assembly.
pub(crate) struct Decoded {
    relations: Vec<RelationRow>,
    columns: Vec<ColumnRow>,
}

impl Decoded {
    /// The distinct (type oid, typmod) pairs of the columns, as two lists.
    pub(crate) fn type_pairs(&self) -> (Vec<i64>, Vec<i32>) {
        let pairs: std::collections::BTreeSet<(i64, i32)> = self
            .columns
            .iter()
            .map(|c| (c.type_oid, c.typmod))
            .collect();
        pairs.into_iter().unzip()
    }
}

/// Decodes relations and columns and builds the name lookups every
/// assembly step shares.
pub(crate) fn lookups(rows: &Rows) -> Result<(Lookups, Decoded), BuildError> {
    let relation_rows: Vec<RelationRow> = rows.decode("relations.sql")?;
    let column_rows: Vec<ColumnRow> = rows.decode("columns.sql")?;
    let lookups = Lookups {
        relations: relation_rows
            .iter()
            .map(|r| (r.oid, (r.schema.clone(), r.name.clone())))
            .collect(),
        columns: column_rows
            .iter()
            .map(|c| ((c.relid, c.attnum), (c.name.clone(), c.attcollation)))
            .collect(),
        collations: super::build_types::collation_names(rows)?,
        opclasses: super::build_types::opclasses(rows)?,
    };
    let decoded = Decoded {
        relations: relation_rows,
        columns: column_rows,
    };
    Ok((lookups, decoded))
}

/// Decodes, on the calling thread, the large queries [`assemble`] reads,
/// from its last to its first: run beside it, the two meet in the middle
/// and each query is decoded once, by whichever thread reaches it first.
pub(crate) fn decode_ahead(rows: &Rows) {
    use super::build_parts::{ConstraintRow, IndexRow, TriggerRow};
    use super::build_types::{FunctionRow, TypeRow};
    rows.decode_ahead::<FunctionRow>("functions.sql");
    rows.decode_ahead::<TypeRow>("types.sql");
    rows.decode_ahead::<TriggerRow>("triggers.sql");
    rows.decode_ahead::<IndexRow>("indexes.sql");
    rows.decode_ahead::<ConstraintRow>("constraints.sql");
    rows.decode_ahead::<SequenceRow>("sequences.sql");
    rows.decode_ahead::<ColumnDefaultRow>("column_defaults.sql");
}

/// Assembles every object from the rows of a capture.
///
/// `keep`, for narrowed captures: the relations to return (others were
/// read only for their names and columns).
pub(crate) fn assemble(
    rows: &Rows,
    lookups: &Lookups,
    decoded: Decoded,
    checks: &super::checks::CheckGroups,
    keep: Option<&std::collections::HashSet<i64>>,
) -> Result<Objects, BuildError> {
    let mut relations = relations(decoded.relations, rows, lookups)?;
    attach_columns(&mut relations, decoded.columns, rows, lookups)?;
    let sequences = sequences(rows, &mut relations, lookups)?;
    super::build_parts::attach(&mut relations, rows, lookups, checks)?;

    let mut objects = Objects {
        sequences,
        ..Objects::default()
    };
    super::build_types::fill(&mut objects, rows, lookups)?;
    objects.text_search_configurations = super::build_text_search::configurations(rows)?;
    objects.text_search_dictionaries = super::build_text_search::dictionaries(rows)?;
    if let Some(keep) = keep {
        relations.tables.retain(|oid, _| keep.contains(oid));
        relations.views.retain(|oid, _| keep.contains(oid));
        relations.matviews.retain(|oid, _| keep.contains(oid));
    }
    objects.tables = relations.tables.into_values().collect();
    objects.views = relations.views.into_values().collect();
    objects.materialized_views = relations.matviews.into_values().collect();
    Ok(objects)
}

fn relations(
    relation_rows: Vec<RelationRow>,
    rows: &Rows,
    lookups: &Lookups,
) -> Result<Relations, BuildError> {
    let view_defs: HashMap<i64, Option<String>> = rows
        .decode::<RelidText>("deparse_views.sql")?
        .into_iter()
        .map(|r| (r.relid, r.text))
        .collect();
    let partition_keys: HashMap<i64, Option<String>> = rows
        .decode::<RelidText>("deparse_partitions.sql")?
        .into_iter()
        .map(|r| (r.relid, r.text))
        .collect();
    let mut out = Relations {
        tables: HashMap::new(),
        views: HashMap::new(),
        matviews: HashMap::new(),
    };
    for r in relation_rows {
        let acl = parse_acl(&r.acl);
        let heap = |am: Option<String>| am.filter(|a| a != "heap");
        match r.relkind.as_str() {
            "v" | "m" => {
                let definition = view_defs.get(&r.oid).cloned().flatten().ok_or_else(|| {
                    BuildError::Moved(Moved(format!("view {}.{} vanished", r.schema, r.name)))
                })?;
                // 16 and newer print single-relation queries unqualified:
                // one spelling on every major
                let definition = crate::normalize::unqualify_single_relation(&definition);
                if r.relkind == "v" {
                    out.views.insert(
                        r.oid,
                        View {
                            schema: r.schema,
                            name: r.name,
                            definition,
                            options: r.options,
                            owner: r.owner,
                            comment: r.comment,
                            acl,
                            columns: Vec::new(),
                            triggers: Vec::new(),
                            rules: Vec::new(),
                        },
                    );
                } else {
                    out.matviews.insert(
                        r.oid,
                        MaterializedView {
                            schema: r.schema,
                            name: r.name,
                            definition,
                            options: r.options,
                            tablespace: r.tablespace,
                            access_method: heap(r.access_method),
                            owner: r.owner,
                            comment: r.comment,
                            acl,
                            columns: Vec::new(),
                            indexes: Vec::new(),
                        },
                    );
                }
            }
            _ => {
                let kind = match r.relkind.as_str() {
                    "p" => "partitioned-table",
                    "f" => "foreign-table",
                    _ => "table",
                };
                let partition_by = if r.relkind == "p" {
                    Some(
                        partition_keys
                            .get(&r.oid)
                            .cloned()
                            .flatten()
                            .ok_or_else(|| {
                                BuildError::Moved(Moved(format!(
                                    "partitioned table {}.{} vanished",
                                    r.schema, r.name
                                )))
                            })?,
                    )
                } else {
                    None
                };
                let parents: Vec<String> = r
                    .parents
                    .iter()
                    .map(|p| lookups.relation(*p).unwrap_or_else(|| format!("#{p}")))
                    .collect();
                let (partition_of, inherits) = if r.is_partition {
                    (parents.first().cloned(), Vec::new())
                } else {
                    (None, parents)
                };
                // Foreign tables carry 'n' (nothing) by default: only tables
                // have a replica identity to speak of.
                let replica_identity = match r.replica_identity.as_str() {
                    _ if r.relkind == "f" => None,
                    "f" => Some("full".to_string()),
                    "n" => Some("nothing".to_string()),
                    "i" => Some(format!(
                        "using index {}",
                        r.replica_identity_index.as_deref().unwrap_or("?")
                    )),
                    _ => None,
                };
                out.tables.insert(
                    r.oid,
                    Table {
                        schema: r.schema,
                        name: r.name,
                        kind: kind.to_string(),
                        owner: r.owner,
                        unlogged: r.persistence == "u",
                        partition_by,
                        partition_of,
                        partition_bound: r.partition_bound,
                        inherits,
                        row_security: r.row_security,
                        force_row_security: r.force_row_security,
                        replica_identity,
                        cluster_on: r.cluster_on,
                        access_method: heap(r.access_method),
                        tablespace: r.tablespace,
                        options: r.options,
                        server: r.server,
                        server_options: r.server_options,
                        comment: r.comment,
                        acl,
                        columns: Vec::new(),
                        constraints: Vec::new(),
                        indexes: Vec::new(),
                        triggers: Vec::new(),
                        policies: Vec::new(),
                        rules: Vec::new(),
                    },
                );
            }
        }
    }
    Ok(out)
}

fn attach_columns(
    relations: &mut Relations,
    mut column_rows: Vec<ColumnRow>,
    rows: &Rows,
    lookups: &Lookups,
) -> Result<(), BuildError> {
    let types: HashMap<(i64, i32), ColumnTypeRow> = rows
        .decode::<ColumnTypeRow>("column_types.sql")?
        .into_iter()
        .map(|t| ((t.type_oid, t.typmod), t))
        .collect();
    // A default is either deparsed lock-free (Some) or needs its table as
    // context (None here, then found in deparse_defaults.sql).
    let mut defaults: HashMap<(i64, i32), Option<String>> = rows
        .decode::<ColumnDefaultRow>("column_defaults.sql")?
        .into_iter()
        .map(|d| ((d.relid, d.attnum), d.default_expr))
        .collect();
    let mut comments: HashMap<(i64, i32), Option<String>> = rows
        .decode::<ColumnCommentRow>("column_comments.sql")?
        .into_iter()
        .map(|c| ((c.relid, c.attnum), c.comment))
        .collect();
    let mut not_nulls: HashMap<(i64, i32), NotNullRow> = rows
        .decode::<NotNullRow>("not_nulls.sql")?
        .into_iter()
        .map(|n| ((n.relid, n.attnum), n))
        .collect();
    let contextual: HashMap<(i64, i32), Option<String>> = rows
        .decode::<RelidAttnumText>("deparse_defaults.sql")?
        .into_iter()
        .map(|r| ((r.relid, r.attnum), r.text))
        .collect();
    // Position is the rank among live columns, so attnums left by dropped
    // columns do not show.
    column_rows.sort_by_key(|c| (c.relid, c.attnum));
    let mut position = 0u32;
    let mut last_relid = None;
    for (i, c) in column_rows.iter().enumerate() {
        if last_relid != Some(c.relid) {
            // Room for exactly this relation's columns: pushing one by one
            // left a 9-column table room for 16, half the memory columns
            // took on a big schema.
            let count = column_rows[i..]
                .iter()
                .take_while(|next| next.relid == c.relid)
                .count();
            reserve_columns(relations, c.relid, count);
            last_relid = Some(c.relid);
        }
    }
    last_relid = None;
    for c in column_rows {
        if last_relid != Some(c.relid) {
            position = 0;
            last_relid = Some(c.relid);
        }
        position += 1;
        let key = (c.relid, c.attnum);
        let ty = types.get(&(c.type_oid, c.typmod)).ok_or_else(|| {
            BuildError::Moved(Moved(format!("type of column {} vanished", c.name)))
        })?;
        let expression = match defaults.remove(&key) {
            None => None,
            Some(Some(lock_free)) => Some(lock_free),
            Some(None) => Some(contextual.get(&key).cloned().flatten().ok_or_else(|| {
                BuildError::Moved(Moved(format!("default of column {} vanished", c.name)))
            })?),
        };
        let (default, generated) = match c.generated.as_deref() {
            Some("s") | Some("v") => (None, expression),
            _ => (expression, None),
        };
        let not_null = not_nulls.remove(&key);
        let details = ColumnDetails {
            not_null_name: not_null
                .as_ref()
                .and_then(|n| chosen_not_null_name(n.name.clone())),
            not_null_valid: not_null.as_ref().map_or(true, |n| n.validated),
            not_null_no_inherit: not_null.as_ref().is_some_and(|n| n.no_inherit),
            identity: match c.identity.as_deref() {
                Some("a") => Some(identity_placeholder("always")),
                Some("d") => Some(identity_placeholder("by-default")),
                _ => None,
            },
            generated,
            generated_virtual: c.generated.as_deref() == Some("v"),
            statistics_target: c.statistics_target,
            storage: (c.storage != ty.type_storage).then(|| storage_name(&c.storage)),
            compression: match c.compression.as_deref() {
                Some("p") => Some("pglz".to_string()),
                Some("l") => Some("lz4".to_string()),
                _ => None,
            },
            options: sorted(c.options.unwrap_or_default()),
            server_options: sorted(c.server_options.unwrap_or_default()),
        };
        let column = Column {
            name: c.name,
            position,
            data_type: ty.type_name.clone(),
            collation: (c.attcollation != ty.type_collation)
                .then(|| lookups.collation(c.attcollation))
                .flatten(),
            not_null: c.not_null,
            default,
            inherited: !c.is_local,
            comment: comments.remove(&key).flatten(),
            acl: parse_acl(&c.acl.unwrap_or_default()),
            details: details.boxed(),
        };
        if let Some(t) = relations.tables.get_mut(&c.relid) {
            t.columns.push(column);
        } else if let Some(v) = relations.views.get_mut(&c.relid) {
            v.columns.push(column);
        } else if let Some(m) = relations.matviews.get_mut(&c.relid) {
            m.columns.push(column);
        }
    }
    Ok(())
}

/// Makes room for exactly `count` columns in the relation `relid`.
fn reserve_columns(relations: &mut Relations, relid: i64, count: usize) {
    if let Some(t) = relations.tables.get_mut(&relid) {
        t.columns.reserve_exact(count);
    } else if let Some(v) = relations.views.get_mut(&relid) {
        v.columns.reserve_exact(count);
    } else if let Some(m) = relations.matviews.get_mut(&relid) {
        m.columns.reserve_exact(count);
    }
}

/// Identity columns get their sequence's options from sequences.sql; until
/// then they carry PostgreSQL's defaults for an integer identity.
fn identity_placeholder(generation: &str) -> Identity {
    Identity {
        generation: generation.to_string(),
        sequence: SequenceOptions {
            data_type: "integer".into(),
            start: 1,
            increment: 1,
            min: 1,
            max: i32::MAX as i64,
            cache: 1,
            cycle: false,
        },
    }
}

fn storage_name(code: &str) -> String {
    match code {
        "p" => "plain",
        "e" => "external",
        "m" => "main",
        "x" => "extended",
        other => other,
    }
    .to_string()
}

pub(crate) fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Free-standing and serial sequences; identity sequences fold into their
/// column, and sequences of history tables are left out with the table.
fn sequences(
    rows: &Rows,
    relations: &mut Relations,
    lookups: &Lookups,
) -> Result<Vec<Sequence>, BuildError> {
    let mut out = Vec::new();
    for s in rows.decode::<SequenceRow>("sequences.sql")? {
        let options = SequenceOptions {
            data_type: s.data_type,
            start: s.start,
            increment: s.increment,
            min: s.min,
            max: s.max,
            cache: s.cache,
            cycle: s.cycle,
        };
        let owner = match (s.owner_relid, s.owner_attnum) {
            (Some(relid), Some(attnum)) => Some((relid, attnum)),
            _ => None,
        };
        if let Some((relid, attnum)) = owner {
            if s.owner_deptype.as_deref() == Some("i") {
                let name = lookups.columns.get(&(relid, attnum)).map(|c| c.0.clone());
                if let (Some(table), Some(name)) = (relations.tables.get_mut(&relid), name) {
                    if let Some(col) = table.columns.iter_mut().find(|c| c.name == name) {
                        if let Some(identity) = col.details_mut().identity.as_mut() {
                            identity.sequence = options;
                        }
                    }
                }
                continue;
            }
        }
        let owned_by = owner.and_then(|(relid, attnum)| {
            lookups
                .relation(relid)
                .map(|t| format!("{t}.{}", lookups.column(relid, attnum)))
        });
        out.push(Sequence {
            schema: s.schema,
            name: s.name,
            options,
            owned_by,
            unlogged: s.unlogged,
            owner: s.owner,
            comment: s.comment,
            acl: parse_acl(&s.acl),
        });
    }
    Ok(out)
}
