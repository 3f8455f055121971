//! What the bulk CSV imports (`import-shots`, `import-props`) share: files
//! read plain or gzip, records read with the unreadable ones and those of
//! the wrong width quarantined (naming the file and line), columns found by
//! name, and a record-level error naming its field.

use propcast_patterns::Quarantine;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// A record-level problem: the field and why.
pub(crate) struct Bad {
    pub field: &'static str,
    pub reason: String,
}

pub(crate) fn bad(field: &'static str, reason: impl Into<String>) -> Bad {
    Bad {
        field,
        reason: reason.into(),
    }
}

/// Column positions of a header.
pub(crate) struct Columns(BTreeMap<&'static str, usize>);

impl Columns {
    /// The positions of `wanted`; `Err(name)` of the first one missing.
    pub fn find(
        header: &csv::StringRecord,
        wanted: &[&'static str],
    ) -> Result<Columns, &'static str> {
        let mut out = BTreeMap::new();
        for name in wanted {
            let idx = header.iter().position(|h| h.trim() == *name).ok_or(*name)?;
            out.insert(*name, idx);
        }
        Ok(Columns(out))
    }

    /// The trimmed value of a column ("" when absent).
    pub fn get<'r>(&self, record: &'r csv::StringRecord, name: &'static str) -> &'r str {
        self.0
            .get(name)
            .and_then(|&i| record.get(i))
            .unwrap_or("")
            .trim()
    }
}

/// "line N" of a record, as quarantine records name it.
pub(crate) fn line_of(r: &csv::StringRecord) -> String {
    format!("line {}", r.position().map_or(0, |p| p.line()))
}

/// The record as it was written, for the quarantine excerpt.
pub(crate) fn excerpt_of(r: &csv::StringRecord) -> String {
    r.iter().collect::<Vec<_>>().join(",")
}

/// Opens a file, gunzipping it when it starts with the gzip magic bytes.
pub(crate) fn open_maybe_gzip(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let file = std::fs::File::open(path)?;
    let mut reader = BufReader::new(file);
    let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else {
        Box::new(reader)
    })
}

/// The header and the well-formed records of a CSV; an unreadable header
/// or record, or a record whose width is not the header's, is quarantined
/// under `source_name`. `None` when the header itself is unreadable.
pub(crate) fn read_records<R: Read>(
    reader: R,
    source_name: &str,
    quarantine: &mut Quarantine,
) -> Option<(csv::StringRecord, Vec<csv::StringRecord>)> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            quarantine.add(
                source_name,
                "header",
                "",
                format!("unreadable header: {e}"),
                "",
            );
            return None;
        }
    };
    let mut records = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                quarantine.add(
                    source_name,
                    format!("line {line}"),
                    "",
                    format!("unreadable CSV record: {e}"),
                    "",
                );
                continue;
            }
        }
        if record.len() != header.len() {
            quarantine.add(
                source_name,
                line_of(&record),
                "",
                format!("{} fields, header has {}", record.len(), header.len()),
                excerpt_of(&record),
            );
            continue;
        }
        records.push(record.clone());
    }
    Some((header, records))
}
