//! The writes of a range run held back and made once per table: what the
//! default [`crate::Processor::process_range`] runs a processor's
//! per-date [`crate::Processor::process`] against.
//!
//! [`RangeWrites`] is a [`Warehouse`] over another. A whole-partition
//! replace (`replace_partition` or `replace_partition_values` with no
//! scope) is kept in memory as given, a later
//! replace of the same date superseding it as it would in the warehouse;
//! [`RangeWrites::flush`] writes every held table with one
//! [`Warehouse::replace_dates_values`] of the dates held. Everything else passes
//! through, and a read never sees a state the unbuffered run would not:
//! before a query whose SQL names a held table, that table is flushed;
//! before a scoped replace, a merge or a `replace_dates` of a held table,
//! likewise. So a processor computes the same rows, in the same order of
//! reads and writes, as date by date, and its range costs one write per
//! table instead of one per date.
//!
//! The stats of a held replace report the rows given as written and none
//! as deleted (the deleted count is only logged); records are checked
//! against the table when flushed (typed rows were checked when made into
//! column values), and an error there fails the range (the
//! driver then re-runs its dates one by one, so the error lands on its
//! date).

use async_trait::async_trait;
use chrono::NaiveDate;
use propcast_core::TableDef;
use propcast_platform::warehouse::{
    Param, QueryRows, Record, Warehouse, WarehouseError, WriteStats, column_values,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Held partitions of one table.
struct Held {
    def: TableDef,
    dates: BTreeMap<NaiveDate, Rows>,
}

/// One held partition's rows, as they were given.
enum Rows {
    Records(Vec<Record>),
    Values(Vec<Vec<Param>>),
}

impl Rows {
    fn len(&self) -> usize {
        match self {
            Rows::Records(r) => r.len(),
            Rows::Values(v) => v.len(),
        }
    }
}

/// A warehouse that holds whole-partition replaces until [`RangeWrites::flush`].
pub struct RangeWrites {
    inner: Arc<dyn Warehouse>,
    held: Mutex<BTreeMap<String, Held>>,
}

impl RangeWrites {
    pub fn new(inner: Arc<dyn Warehouse>) -> Self {
        RangeWrites {
            inner,
            held: Mutex::new(BTreeMap::new()),
        }
    }

    fn take(&self, pick: impl Fn(&str) -> bool) -> Vec<Held> {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let names: Vec<String> = held.keys().filter(|k| pick(k)).cloned().collect();
        names
            .into_iter()
            .filter_map(|name| held.remove(&name))
            .collect()
    }

    async fn write(&self, tables: Vec<Held>) -> Result<(), WarehouseError> {
        for held in tables {
            let dates: Vec<NaiveDate> = held.dates.keys().copied().collect();
            let mut rows: Vec<Vec<Param>> = Vec::new();
            for given in held.dates.into_values() {
                match given {
                    Rows::Values(mut v) => rows.append(&mut v),
                    Rows::Records(r) => rows.append(&mut column_values(&held.def, r)?),
                }
            }
            let expected = rows.len() as u64;
            let stats = self
                .inner
                .replace_dates_values(&held.def, &dates, rows)
                .await?;
            if stats.rows_written != expected {
                return Err(WarehouseError::Other(format!(
                    "{}: wrote {} rows for {} dates but was given {expected}",
                    held.def.qualified(),
                    stats.rows_written,
                    dates.len()
                )));
            }
        }
        Ok(())
    }

    /// Holds a whole-partition replace of `date`.
    async fn hold(
        &self,
        def: &TableDef,
        date: NaiveDate,
        rows: Rows,
    ) -> Result<WriteStats, WarehouseError> {
        // Created now, as an unheld write would, so a read of the table
        // between here and the flush finds it.
        self.inner.ensure_table(def).await?;
        let written = rows.len() as u64;
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.entry(def.qualified())
            .or_insert_with(|| Held {
                def: *def,
                dates: BTreeMap::new(),
            })
            .dates
            .insert(date, rows);
        Ok(WriteStats {
            rows_deleted: 0,
            rows_written: written,
        })
    }

    /// Writes the held partitions of the tables `sql` names.
    async fn flush_named(&self, sql: &str) -> Result<(), WarehouseError> {
        let tables = self.take(|name| sql.contains(name));
        self.write(tables).await
    }

    /// Writes every held partition: one `replace_dates` per table.
    pub async fn flush(&self) -> Result<(), WarehouseError> {
        let tables = self.take(|_| true);
        self.write(tables).await
    }
}

#[async_trait]
impl Warehouse for RangeWrites {
    async fn ensure_table(&self, def: &TableDef) -> Result<(), WarehouseError> {
        self.inner.ensure_table(def).await
    }

    async fn query(&self, sql: &str) -> Result<Vec<Record>, WarehouseError> {
        self.flush_named(sql).await?;
        self.inner.query(sql).await
    }

    async fn query_with(
        &self,
        sql: &str,
        params: &[(&str, Param)],
    ) -> Result<Vec<Record>, WarehouseError> {
        self.flush_named(sql).await?;
        self.inner.query_with(sql, params).await
    }

    async fn query_rows(&self, sql: &str) -> Result<QueryRows, WarehouseError> {
        self.flush_named(sql).await?;
        self.inner.query_rows(sql).await
    }

    async fn tables(&self) -> Result<Vec<(String, String)>, WarehouseError> {
        self.flush().await?;
        self.inner.tables().await
    }

    async fn replace_partition(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        if !scope.is_empty() {
            self.flush_named(&def.qualified()).await?;
            return self.inner.replace_partition(def, date, scope, rows).await;
        }
        self.hold(def, date, Rows::Records(rows)).await
    }

    async fn replace_partition_values(
        &self,
        def: &TableDef,
        date: NaiveDate,
        scope: &[(&str, &str)],
        rows: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        if !scope.is_empty() {
            self.flush_named(&def.qualified()).await?;
            return self
                .inner
                .replace_partition_values(def, date, scope, rows)
                .await;
        }
        self.hold(def, date, Rows::Values(rows)).await
    }

    async fn merge(&self, def: &TableDef, rows: Vec<Record>) -> Result<WriteStats, WarehouseError> {
        self.flush_named(&def.qualified()).await?;
        self.inner.merge(def, rows).await
    }

    async fn replace_dates(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        rows: Vec<Record>,
    ) -> Result<WriteStats, WarehouseError> {
        self.flush_named(&def.qualified()).await?;
        self.inner.replace_dates(def, dates, rows).await
    }

    async fn replace_dates_values(
        &self,
        def: &TableDef,
        dates: &[NaiveDate],
        rows: Vec<Vec<Param>>,
    ) -> Result<WriteStats, WarehouseError> {
        self.flush_named(&def.qualified()).await?;
        self.inner.replace_dates_values(def, dates, rows).await
    }
}
