//! Finding a date's payloads in the landing zone.

use crate::error::FileError;
use propcast_patterns::{ProcessError, Quarantine};
use propcast_platform::{LandingError, LandingObject, LandingZone};

/// The `.json` files under `folder` (recursively), sorted by path. A missing
/// folder is an empty list.
pub async fn json_files(
    landing: &dyn LandingZone,
    folder: &str,
) -> Result<Vec<LandingObject>, ProcessError> {
    files_ending(landing, folder, ".json").await
}

/// The files under `folder` (recursively) whose name ends with `suffix`
/// (`".pdf"`), sorted by path. A missing folder is an empty list.
pub async fn files_ending(
    landing: &dyn LandingZone,
    folder: &str,
    suffix: &str,
) -> Result<Vec<LandingObject>, ProcessError> {
    let prefix = format!("{}/", folder.trim_end_matches('/'));
    let mut files = match landing.list(folder).await {
        Ok(files) => files,
        Err(LandingError::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    files.retain(|f| f.path.starts_with(&prefix) && f.path.ends_with(suffix));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The file name (last path segment).
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Parses the newest file of `files` (by file name) that loads. Every newer
/// file that does not load is quarantined, so a corrupt re-scrape falls back
/// to the previous good payload instead of wiping the date.
pub async fn latest_loadable<T>(
    landing: &dyn LandingZone,
    files: &[LandingObject],
    quarantine: &mut Quarantine,
    parse: impl Fn(&[u8], &str) -> Result<T, FileError>,
) -> Result<Option<(LandingObject, T)>, ProcessError> {
    let mut newest_first: Vec<&LandingObject> = files.iter().collect();
    newest_first.sort_by(|a, b| {
        file_name(&b.path)
            .cmp(file_name(&a.path))
            .then_with(|| b.path.cmp(&a.path))
    });
    for file in newest_first {
        let bytes = landing.get(&file.path).await?;
        match parse(&bytes, &file.path) {
            Ok(parsed) => return Ok(Some((file.clone(), parsed))),
            Err(e) => {
                tracing::warn!(file = %file.path, reason = %e.reason(), "payload file quarantined");
                e.quarantine_into(quarantine);
            }
        }
    }
    Ok(None)
}
