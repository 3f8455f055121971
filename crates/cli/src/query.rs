//! Read-only SQL on the local warehouse, printed as a table, CSV or JSON.

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use propcast_platform::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

/// Renders query results. Column order is the query's.
pub fn render(records: &[Record], format: Format) -> anyhow::Result<String> {
    let columns: Vec<String> = records
        .first()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default();
    match format {
        Format::Json => Ok(serde_json::to_string_pretty(records)? + "\n"),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(&columns)?;
            for record in records {
                writer.write_record(columns.iter().map(|c| cell_text(record.get(c))))?;
            }
            Ok(String::from_utf8(writer.into_inner()?)?)
        }
        Format::Table => {
            if records.is_empty() {
                return Ok("(no rows)\n".to_string());
            }
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            table.set_header(&columns);
            for record in records {
                table.add_row(columns.iter().map(|c| cell_text(record.get(c))));
            }
            Ok(format!("{table}\n({} rows)\n", records.len()))
        }
    }
}

fn cell_text(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(pairs: &[(&str, serde_json::Value)]) -> Record {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn csv_keeps_column_order_and_nulls_empty() {
        let rows = vec![record(&[
            ("player_lookup", "stephencurry".into()),
            ("points", 28.into()),
            ("usage_rate", serde_json::Value::Null),
        ])];
        let text = render(&rows, Format::Csv).unwrap();
        assert_eq!(text, "player_lookup,points,usage_rate\nstephencurry,28,\n");
    }
}
