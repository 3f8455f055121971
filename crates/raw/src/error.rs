//! Why a whole payload file could not be loaded.
//!
//! A record-level problem quarantines one record; a [`FileError`] quarantines
//! the file (record `"file"` or the envelope part at fault) and the other
//! files of the date still load.

use crate::json_fields::FieldError;
use propcast_patterns::Quarantine;

/// A payload file that cannot be loaded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Not JSON (truncated, corrupted).
    #[error("{path}: invalid JSON at line {line} column {column}: {message}")]
    InvalidJson {
        path: String,
        line: usize,
        column: usize,
        message: String,
        /// The text just before the error position.
        excerpt: String,
    },
    /// A document (the injury report PDF) whose text cannot be extracted.
    #[error("{path}: unreadable document: {message}")]
    Unreadable { path: String, message: String },
    /// JSON, but not the layout of this endpoint.
    #[error("{path}: unexpected layout: {message}")]
    Layout { path: String, message: String },
    /// A field the whole file depends on (a header, the event's tip-off).
    #[error("{path}: {record}: {error}")]
    Field {
        path: String,
        record: String,
        error: Box<FieldError>,
        excerpt: String,
    },
    /// The file contradicts where it is stored (date, teams).
    #[error("{path}: {record}: {field}: {reason}")]
    Inconsistent {
        path: String,
        record: String,
        field: String,
        reason: String,
        excerpt: String,
    },
}

impl FileError {
    /// Classifies a `serde_json` error: syntax errors are invalid JSON,
    /// type and shape errors are an unexpected layout.
    pub fn from_json(path: &str, bytes: &[u8], error: &serde_json::Error) -> Self {
        let message = strip_position(&error.to_string());
        match error.classify() {
            serde_json::error::Category::Data => FileError::Layout {
                path: path.to_string(),
                message: if error.line() > 0 {
                    format!(
                        "{message} at line {} column {}",
                        error.line(),
                        error.column()
                    )
                } else {
                    message
                },
            },
            _ => FileError::InvalidJson {
                path: path.to_string(),
                line: error.line(),
                column: error.column(),
                message,
                excerpt: excerpt_before(bytes, error.line(), error.column()),
            },
        }
    }

    pub fn path(&self) -> &str {
        match self {
            FileError::InvalidJson { path, .. }
            | FileError::Layout { path, .. }
            | FileError::Unreadable { path, .. }
            | FileError::Field { path, .. }
            | FileError::Inconsistent { path, .. } => path,
        }
    }

    /// Where in the file: `"file"` or the envelope part at fault.
    pub fn record(&self) -> &str {
        match self {
            FileError::InvalidJson { .. }
            | FileError::Layout { .. }
            | FileError::Unreadable { .. } => "file",
            FileError::Field { record, .. } | FileError::Inconsistent { record, .. } => record,
        }
    }

    /// The offending field, or "" for the whole file.
    pub fn field(&self) -> &str {
        match self {
            FileError::InvalidJson { .. }
            | FileError::Layout { .. }
            | FileError::Unreadable { .. } => "",
            FileError::Field { error, .. } => &error.field,
            FileError::Inconsistent { field, .. } => field,
        }
    }

    /// The reason, without the path (the quarantine has its own column).
    pub fn reason(&self) -> String {
        match self {
            FileError::InvalidJson {
                line,
                column,
                message,
                ..
            } => format!("invalid JSON at line {line} column {column}: {message}"),
            FileError::Layout { message, .. } => format!("unexpected layout: {message}"),
            FileError::Unreadable { message, .. } => format!("unreadable document: {message}"),
            FileError::Field { error, .. } => error.reason(),
            FileError::Inconsistent { reason, .. } => reason.clone(),
        }
    }

    pub fn excerpt(&self) -> &str {
        match self {
            FileError::InvalidJson { excerpt, .. }
            | FileError::Field { excerpt, .. }
            | FileError::Inconsistent { excerpt, .. } => excerpt,
            FileError::Layout { .. } | FileError::Unreadable { .. } => "",
        }
    }

    /// Sets the file aside in `quarantine`.
    pub fn quarantine_into(&self, quarantine: &mut Quarantine) {
        quarantine.add(
            self.path(),
            self.record(),
            self.field(),
            self.reason(),
            self.excerpt(),
        );
    }
}

/// `serde_json` appends " at line L column C"; the quarantine reason puts
/// the position first.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Up to 120 characters of text ending at (line, column), 1-based.
fn excerpt_before(bytes: &[u8], line: usize, column: usize) -> String {
    let mut offset = 0usize;
    for (i, text_line) in bytes.split(|b| *b == b'\n').enumerate() {
        if i + 1 == line.max(1) {
            offset += column.min(text_line.len());
            break;
        }
        offset += text_line.len() + 1;
    }
    let end = offset.min(bytes.len());
    let start = end.saturating_sub(120);
    String::from_utf8_lossy(&bytes[start..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_json_names_its_position() {
        let text = br#"{"a":[1,2,3"#;
        let err = serde_json::from_slice::<serde_json::Value>(text).unwrap_err();
        let fe = FileError::from_json("x/y.json", text, &err);
        assert_eq!(fe.record(), "file");
        assert_eq!(fe.field(), "");
        assert_eq!(
            fe.reason(),
            "invalid JSON at line 1 column 11: EOF while parsing a list"
        );
        assert_eq!(fe.excerpt(), r#"{"a":[1,2,3"#);
    }

    #[test]
    fn wrong_shape_is_a_layout_error() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Shape {
            headers: Vec<String>,
        }
        let text = br#"{"rows":[]}"#;
        let err = serde_json::from_slice::<Shape>(text).unwrap_err();
        let fe = FileError::from_json("x.json", text, &err);
        assert!(
            fe.reason()
                .starts_with("unexpected layout: missing field `headers`")
        );
    }
}
