//! Comparing the business content of two warehouses, table by table —
//! what the cloud-path and services tests assert.

use propcast_core::TableDef;
use propcast_core::tables::ALL_TABLES;
use propcast_platform::{Record, Warehouse};
use std::collections::BTreeMap;

/// Columns that time a run rather than describe the data: they differ
/// between any two runs (besides [`TableDef::is_run_metadata`]).
pub fn is_timing(column: &str) -> bool {
    matches!(column, "duration_ms" | "round_id" | "system_timings")
}

/// Every row of a table as canonical JSON (run metadata and timings
/// dropped), sorted: the business content, independent of engine order.
pub async fn content(warehouse: &dyn Warehouse, def: &TableDef) -> Vec<String> {
    let rows: Vec<Record> = match warehouse
        .query(&format!("SELECT * FROM {}", def.qualified()))
        .await
    {
        Ok(rows) => rows,
        // A table a run never created holds nothing.
        Err(e)
            if e.to_string().to_lowercase().contains("not found")
                || e.to_string().to_lowercase().contains("does not exist") =>
        {
            Vec::new()
        }
        Err(e) => panic!("{}: {e}", def.qualified()),
    };
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|row| {
            let kept: BTreeMap<String, serde_json::Value> = row
                .into_iter()
                .filter(|(k, _)| !TableDef::is_run_metadata(k) && !is_timing(k))
                .collect();
            serde_json::to_string(&kept).unwrap()
        })
        .collect();
    out.sort();
    out
}

pub async fn all_content(warehouse: &dyn Warehouse) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for def in ALL_TABLES {
        out.insert(def.qualified(), content(warehouse, def).await);
    }
    out
}

pub fn assert_same(
    left_name: &str,
    left: &BTreeMap<String, Vec<String>>,
    right_name: &str,
    right: &BTreeMap<String, Vec<String>>,
) {
    let mut differing = Vec::new();
    for (table, rows) in left {
        let other = &right[table];
        if rows != other {
            let only_left: Vec<&String> =
                rows.iter().filter(|r| !other.contains(r)).take(2).collect();
            let only_right: Vec<&String> =
                other.iter().filter(|r| !rows.contains(r)).take(2).collect();
            differing.push(format!(
                "{table}: {} rows on {left_name}, {} on {right_name}\n  only {left_name}: {only_left:?}\n  only {right_name}: {only_right:?}",
                rows.len(),
                other.len()
            ));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
}
