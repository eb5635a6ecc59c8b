//! Every kind outside relations: schemas, extensions, collations, types,
//! functions, statistics, event triggers, publications, foreign-data
//! wrappers and servers, default privileges; plus the name lookups.

use super::build::{sorted, BuildError, Lookups};
use super::runner::Rows;
use super::Moved;
use crate::model::{
    parse_acl, Aggregate, Collation, DefaultPrivilege, DomainConstraint, EventTrigger, Extension,
    ForeignDataWrapper, ForeignServer, Function, Objects, Publication, PublicationTable, Schema,
    Statistics, TypeAttribute, TypeDef, TypeKind,
};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct OidName {
    oid: i64,
    name: String,
}

#[derive(sqlx::FromRow)]
struct OpclassRow {
    oid: i64,
    name: String,
    is_default: bool,
}

pub(crate) fn collation_names(rows: &Rows) -> Result<HashMap<i64, String>, BuildError> {
    Ok(rows
        .decode::<OidName>("collation_names.sql")?
        .into_iter()
        .map(|r| (r.oid, r.name))
        .collect())
}

pub(crate) fn opclasses(rows: &Rows) -> Result<HashMap<i64, (String, bool)>, BuildError> {
    Ok(rows
        .decode::<OpclassRow>("opclasses.sql")?
        .into_iter()
        .map(|r| (r.oid, (r.name, r.is_default)))
        .collect())
}

#[derive(sqlx::FromRow)]
struct SchemaRow {
    name: String,
    owner: String,
    comment: Option<String>,
    acl: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct CollationRow {
    schema: String,
    name: String,
    provider: String,
    deterministic: bool,
    lc_collate: Option<String>,
    lc_ctype: Option<String>,
    icu_locale: Option<String>,
    icu_rules: Option<String>,
    builtin_locale: Option<String>,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
pub(super) struct TypeRow {
    schema: String,
    name: String,
    typtype: String,
    owner: String,
    comment: Option<String>,
    acl: Vec<String>,
    labels: Option<Vec<String>>,
    base_type: Option<String>,
    collation_oid: Option<i64>,
    not_null: bool,
    not_null_name: Option<String>,
    default_expr: Option<String>,
    domain_constraints: Option<serde_json::Value>,
    attributes: Option<serde_json::Value>,
    subtype: Option<String>,
    subtype_opclass_oid: Option<i64>,
    range_collation_oid: Option<i64>,
    canonical: Option<String>,
    subtype_diff: Option<String>,
    multirange: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawAttribute {
    name: String,
    #[serde(rename = "type")]
    data_type: String,
    collation: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub(super) struct FunctionRow {
    oid: i64,
    schema: String,
    name: String,
    arguments: String,
    prokind: String,
    signature: String,
    returns: Option<String>,
    language: String,
    body: Option<String>,
    has_sql_body: bool,
    volatility: String,
    strict: bool,
    security_definer: bool,
    leakproof: bool,
    parallel: String,
    cost: f32,
    rows: f32,
    returns_set: bool,
    config: Vec<String>,
    owner: String,
    comment: Option<String>,
    acl: Vec<String>,
    agg_kind: Option<String>,
    agg_transition: Option<String>,
    agg_state_type: Option<String>,
    agg_final: Option<String>,
    agg_combine: Option<String>,
    agg_initial: Option<String>,
    agg_sort_operator: Option<String>,
}

#[derive(sqlx::FromRow)]
struct OidText {
    oid: i64,
    text: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StatisticsRow {
    oid: i64,
    schema: String,
    name: String,
    relid: i64,
    columns: Vec<i32>,
    kinds: Vec<String>,
    has_expressions: bool,
    target: Option<i32>,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StatisticsExprRow {
    oid: i64,
    exprs: Option<Vec<String>>,
}

#[derive(sqlx::FromRow)]
struct EventTriggerRow {
    name: String,
    event: String,
    function: String,
    tags: Vec<String>,
    enabled: String,
    owner: String,
    comment: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PublicationRow {
    name: String,
    all_tables: bool,
    ins: bool,
    upd: bool,
    del: bool,
    trunc: bool,
    via_root: bool,
    generated_columns: Option<String>,
    owner: String,
    comment: Option<String>,
    tables: serde_json::Value,
    schemas: Vec<String>,
}

#[derive(serde::Deserialize)]
struct RawPublicationTable {
    oid: i64,
    relid: i64,
    columns: Vec<i32>,
    has_filter: bool,
}

#[derive(sqlx::FromRow)]
struct WrapperRow {
    name: String,
    handler: Option<String>,
    validator: Option<String>,
    options: Vec<String>,
    owner: String,
    comment: Option<String>,
    acl: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ServerRow {
    name: String,
    wrapper: String,
    server_type: Option<String>,
    version: Option<String>,
    options: Vec<String>,
    user_mappings: Vec<String>,
    owner: String,
    comment: Option<String>,
    acl: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct DefaultPrivilegeRow {
    role: String,
    schema: Option<String>,
    object_type: String,
    acl: Vec<String>,
}

/// Fills every non-relation list of `objects`.
pub(crate) fn fill(
    objects: &mut Objects,
    rows: &Rows,
    lookups: &Lookups,
) -> Result<(), BuildError> {
    objects.schemas = rows
        .decode::<SchemaRow>("schemas.sql")?
        .into_iter()
        .map(|s| Schema {
            name: s.name,
            owner: s.owner,
            comment: s.comment,
            acl: parse_acl(&s.acl),
        })
        .collect();
    objects.extensions = rows
        .decode::<ExtensionRow>("extensions.sql")?
        .into_iter()
        .map(Into::into)
        .collect();
    objects.collations = rows
        .decode::<CollationRow>("collations.sql")?
        .into_iter()
        .map(|c| Collation {
            schema: c.schema,
            name: c.name,
            provider: c.provider,
            deterministic: c.deterministic,
            lc_collate: c.lc_collate,
            lc_ctype: c.lc_ctype,
            icu_locale: c.icu_locale,
            icu_rules: c.icu_rules,
            builtin_locale: c.builtin_locale,
            owner: c.owner,
            comment: c.comment,
        })
        .collect();
    objects.types = types(rows, lookups)?;
    objects.functions = functions(rows)?;
    objects.statistics = statistics(rows, lookups)?;
    objects.event_triggers = rows
        .decode::<EventTriggerRow>("event_triggers.sql")?
        .into_iter()
        .map(|t| EventTrigger {
            name: t.name,
            event: t.event,
            function: t.function,
            tags: sorted(t.tags),
            enabled: match t.enabled.as_str() {
                "D" => "disabled",
                "R" => "replica",
                "A" => "always",
                _ => "origin",
            }
            .to_string(),
            owner: t.owner,
            comment: t.comment,
        })
        .collect();
    objects.publications = publications(rows, lookups)?;
    objects.foreign_data_wrappers = rows
        .decode::<WrapperRow>("foreign_data_wrappers.sql")?
        .into_iter()
        .map(|w| ForeignDataWrapper {
            name: w.name,
            handler: w.handler,
            validator: w.validator,
            options: sorted(w.options),
            owner: w.owner,
            comment: w.comment,
            acl: parse_acl(&w.acl),
        })
        .collect();
    objects.foreign_servers = rows
        .decode::<ServerRow>("foreign_servers.sql")?
        .into_iter()
        .map(|s| ForeignServer {
            name: s.name,
            wrapper: s.wrapper,
            server_type: s.server_type,
            version: s.version,
            options: sorted(s.options),
            user_mappings: sorted(s.user_mappings),
            owner: s.owner,
            comment: s.comment,
            acl: parse_acl(&s.acl),
        })
        .collect();
    objects.default_privileges = rows
        .decode::<DefaultPrivilegeRow>("default_privileges.sql")?
        .into_iter()
        .map(|d| DefaultPrivilege {
            role: d.role,
            schema: d.schema,
            object_type: d.object_type,
            grants: parse_acl(&d.acl),
        })
        .collect();
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ExtensionRow {
    name: String,
    schema: String,
    version: String,
}

impl From<ExtensionRow> for Extension {
    fn from(e: ExtensionRow) -> Self {
        Extension {
            name: e.name,
            schema: e.schema,
            version: e.version,
        }
    }
}

fn types(rows: &Rows, lookups: &Lookups) -> Result<Vec<TypeDef>, BuildError> {
    let mut out = Vec::new();
    for t in rows.decode::<TypeRow>("types.sql")? {
        let kind = match t.typtype.as_str() {
            "e" => TypeKind::Enum {
                labels: t.labels.unwrap_or_default(),
            },
            "d" => {
                let constraints: Vec<DomainConstraint> = match t.domain_constraints {
                    Some(v) if !v.is_null() => serde_json::from_value(v).map_err(|e| {
                        BuildError::Moved(Moved(format!(
                            "domain {} constraints unreadable: {e}",
                            t.name
                        )))
                    })?,
                    _ => Vec::new(),
                };
                TypeKind::Domain {
                    base_type: t.base_type.unwrap_or_default(),
                    collation: t.collation_oid.and_then(|o| lookups.collation(o)),
                    not_null: t.not_null,
                    // only a name the user chose says something
                    not_null_name: t.not_null_name.and_then(super::build::chosen_not_null_name),
                    default: t.default_expr,
                    constraints,
                }
            }
            "c" => {
                let raw: Vec<RawAttribute> = match t.attributes {
                    Some(v) if !v.is_null() => serde_json::from_value(v).map_err(|e| {
                        BuildError::Moved(Moved(format!(
                            "type {} attributes unreadable: {e}",
                            t.name
                        )))
                    })?,
                    _ => Vec::new(),
                };
                TypeKind::Composite {
                    attributes: raw
                        .into_iter()
                        .map(|a| TypeAttribute {
                            name: a.name,
                            data_type: a.data_type,
                            collation: a.collation.and_then(|o| lookups.collation(o)),
                        })
                        .collect(),
                }
            }
            _ => TypeKind::Range {
                subtype: t.subtype.unwrap_or_default(),
                subtype_opclass: t
                    .subtype_opclass_oid
                    .and_then(|o| lookups.opclasses.get(&o))
                    .filter(|(_, is_default)| !is_default)
                    .map(|(name, _)| name.clone()),
                collation: t.range_collation_oid.and_then(|o| lookups.collation(o)),
                canonical: t.canonical,
                subtype_diff: t.subtype_diff,
                multirange: t.multirange,
            },
        };
        out.push(TypeDef {
            schema: t.schema,
            name: t.name,
            kind,
            owner: t.owner,
            comment: t.comment,
            acl: parse_acl(&t.acl),
        });
    }
    Ok(out)
}

fn functions(rows: &Rows) -> Result<Vec<Function>, BuildError> {
    let bodies: HashMap<i64, Option<String>> = rows
        .decode::<OidText>("deparse_functions.sql")?
        .into_iter()
        .map(|r| (r.oid, r.text))
        .collect();
    let mut out = Vec::new();
    for f in rows.decode::<FunctionRow>("functions.sql")? {
        let body = if f.has_sql_body {
            Some(bodies.get(&f.oid).cloned().flatten().ok_or_else(|| {
                BuildError::Moved(Moved(format!("function {}.{} vanished", f.schema, f.name)))
            })?)
        } else {
            f.body
        };
        let kind = match f.prokind.as_str() {
            "p" => "procedure",
            "a" => "aggregate",
            "w" => "window",
            _ => "function",
        };
        let aggregate = f.agg_kind.map(|k| Aggregate {
            kind: match k.as_str() {
                "o" => "ordered-set",
                "h" => "hypothetical",
                _ => "normal",
            }
            .to_string(),
            transition_function: f.agg_transition.unwrap_or_default(),
            state_type: f.agg_state_type.unwrap_or_default(),
            final_function: f.agg_final,
            combine_function: f.agg_combine,
            initial_condition: f.agg_initial,
            sort_operator: f.agg_sort_operator,
        });
        out.push(Function {
            schema: f.schema,
            name: f.name,
            arguments: f.arguments,
            kind: kind.to_string(),
            signature: f.signature,
            returns: f.returns,
            language: f.language,
            body,
            volatility: match f.volatility.as_str() {
                "i" => "immutable",
                "s" => "stable",
                _ => "volatile",
            }
            .to_string(),
            strict: f.strict,
            security_definer: f.security_definer,
            leakproof: f.leakproof,
            parallel: match f.parallel.as_str() {
                "s" => "safe",
                "r" => "restricted",
                _ => "unsafe",
            }
            .to_string(),
            cost: f.cost,
            rows: f.returns_set.then_some(f.rows),
            config: sorted(f.config),
            aggregate,
            owner: f.owner,
            comment: f.comment,
            acl: parse_acl(&f.acl),
        });
    }
    Ok(out)
}

fn statistics(rows: &Rows, lookups: &Lookups) -> Result<Vec<Statistics>, BuildError> {
    let exprs: HashMap<i64, Option<Vec<String>>> = rows
        .decode::<StatisticsExprRow>("deparse_statistics.sql")?
        .into_iter()
        .map(|r| (r.oid, r.exprs))
        .collect();
    let mut out = Vec::new();
    for s in rows.decode::<StatisticsRow>("statistics.sql")? {
        let Some(table) = lookups.relation(s.relid) else {
            continue;
        };
        let mut keys: Vec<String> = s
            .columns
            .iter()
            .map(|a| lookups.column(s.relid, *a))
            .collect();
        if s.has_expressions {
            let list = exprs.get(&s.oid).cloned().flatten().ok_or_else(|| {
                BuildError::Moved(Moved(format!("statistics {} vanished", s.name)))
            })?;
            keys.extend(list.into_iter().map(|e| format!("({e})")));
        }
        let kinds = s
            .kinds
            .iter()
            .map(|k| match k.as_str() {
                "d" => "ndistinct",
                "f" => "dependencies",
                "m" => "mcv",
                "e" => "expressions",
                other => other,
            })
            .map(str::to_string)
            .collect();
        out.push(Statistics {
            schema: s.schema,
            name: s.name,
            table,
            kinds: sorted(kinds),
            keys,
            target: s.target,
            owner: s.owner,
            comment: s.comment,
        });
    }
    Ok(out)
}

fn publications(rows: &Rows, lookups: &Lookups) -> Result<Vec<Publication>, BuildError> {
    let filters: HashMap<i64, Option<String>> = rows
        .decode::<OidText>("deparse_publications.sql")?
        .into_iter()
        .map(|r| (r.oid, r.text))
        .collect();
    let mut out = Vec::new();
    for p in rows.decode::<PublicationRow>("publications.sql")? {
        let raw: Vec<RawPublicationTable> = serde_json::from_value(p.tables).map_err(|e| {
            BuildError::Moved(Moved(format!(
                "publication {} tables unreadable: {e}",
                p.name
            )))
        })?;
        let mut tables = Vec::new();
        for t in raw {
            let Some(table) = lookups.relation(t.relid) else {
                continue;
            };
            let row_filter = if t.has_filter {
                filters.get(&t.oid).cloned().flatten()
            } else {
                None
            };
            tables.push(PublicationTable {
                table,
                columns: t
                    .columns
                    .iter()
                    .map(|a| lookups.column(t.relid, *a))
                    .collect(),
                row_filter,
            });
        }
        let publish = [
            ("insert", p.ins),
            ("update", p.upd),
            ("delete", p.del),
            ("truncate", p.trunc),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(name, _)| name.to_string())
        .collect();
        out.push(Publication {
            name: p.name,
            all_tables: p.all_tables,
            publish,
            via_root: p.via_root,
            generated_columns: p.generated_columns,
            tables,
            schemas: p.schemas,
            owner: p.owner,
            comment: p.comment,
        });
    }
    Ok(out)
}
