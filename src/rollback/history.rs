//! What the directory's own tool does to its history table when it rolls
//! the same migrations back, so the admin knows which rows go.

use super::{HistoryEffect, Selection};
use crate::history::Tool;
use crate::store::MigrationIndex;

/// The history rows a rollback of `sel` removes, for the tools whose
/// rollback deletes rows (a hand-written runner, sqlx, dbmate, diesel) or
/// moves golang-migrate's one row; None for the others (Flyway's undo adds
/// rows rather than removing them, Prisma has no rollback).
pub fn effect(tool: Tool, index: &MigrationIndex, sel: Selection) -> Option<HistoryEffect> {
    let removed: Vec<String> = index.migrations[sel.first..=sel.applied]
        .iter()
        .rev()
        .filter_map(|m| m.version.clone())
        .collect();
    let kept = index.migrations[..sel.first]
        .iter()
        .rev()
        .find_map(|m| m.version.clone());
    let table = tool.table().to_string();
    match tool {
        Tool::Generic | Tool::Sqlx | Tool::Dbmate | Tool::Diesel => Some(HistoryEffect {
            tool,
            afterwards: match &kept {
                Some(v) => format!("the newest row left is version {v}"),
                None => "no row is left".to_string(),
            },
            table,
            rows_removed: removed,
        }),
        Tool::GolangMigrate => {
            // golang-migrate keeps one row, the current version as a bigint.
            let number = |v: &str| match v.trim_start_matches('0') {
                "" => "0".to_string(),
                n => n.to_string(),
            };
            let now = index.migrations[sel.applied]
                .version
                .as_deref()
                .map(number)
                .unwrap_or_default();
            Some(HistoryEffect {
                tool,
                table,
                rows_removed: vec![format!("{now} (dirty false)")],
                afterwards: match &kept {
                    Some(v) => format!("one row: version {}, dirty false", number(v)),
                    None => "no row (migrate down to nothing)".to_string(),
                },
            })
        }
        _ => None,
    }
}
