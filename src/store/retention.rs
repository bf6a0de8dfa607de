//! `SESSION_RETENTION_DAYS`: completed interviews and their reports, archived (abandoned)
//! interviews and quarantined documents older than the limit are deleted by a periodic task,
//! from the files or from the database ([`InterviewStore::purge_older`]). Interviews in
//! progress, dialogue state and profiles are never touched.
//!
//! A file's age is taken from the time in its name (`<user>-<stamp>.<ext>`), written when the
//! file was retired: it says when the interview ended, and unlike the modification time it
//! survives a backup restored with `cp` or `rsync` without `-a`. A file whose name carries no
//! time (one put there by hand) is aged by its modification time.

use std::{
    io,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use chrono::{DateTime, NaiveDateTime, Utc};

use super::{Folder, InterviewStore, STAMP_FORMAT, StoreError, atomic, io_error};

/// The folders the policy applies to.
pub const FOLDERS: [Folder; 3] = [Folder::Completed, Folder::Archive, Folder::Quarantine];

/// How often the policy runs (and once at start-up).
pub const INTERVAL: Duration = Duration::from_secs(6 * 3600);

/// What a file's age was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatedBy {
    /// The time in the file's name.
    Name,
    /// The file's modification time.
    Modified,
}

/// Where the periodic task reports: the time it ages files against, what it deleted and when
/// a pass failed. The operations metrics are the product's tally; the store only names what
/// happened, so it stays below them.
pub trait Tally: Send + Sync + 'static {
    /// The time now.
    fn now(&self) -> DateTime<Utc>;
    /// A pass deleted `count` files.
    fn purged(&self, count: u64);
    /// A pass could not finish.
    fn failed(&self, failure: PassFailure);
}

/// Why a pass of the policy could not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassFailure {
    /// A folder could not be read or a file deleted.
    Storage,
    /// The pass itself failed (its blocking task panicked).
    Internal,
}

/// One deleted file (or row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    /// The file; for a row of the database, its key spelled as the file it would be.
    pub path: PathBuf,
    /// Its folder.
    pub folder: Folder,
    /// How old it was.
    pub age: Duration,
    /// What its age was taken from.
    pub dated_by: DatedBy,
}

/// The time in a retired file's name, if it has one.
pub fn stamp_of(file_name: &str) -> Option<DateTime<Utc>> {
    let (_, rest) = file_name.split_once('-')?;
    let stamp = rest.get(..rest.find('Z')? + 1)?;
    NaiveDateTime::parse_from_str(stamp, STAMP_FORMAT)
        .ok()
        .map(|t| t.and_utc())
}

/// Deletes every file in [`FOLDERS`] of `root` older than `max_age` at `now`. Blocking.
pub fn purge(
    root: &Path,
    max_age: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Purged>, StoreError> {
    let mut purged = Vec::new();
    for folder in FOLDERS {
        let dir = root.join(folder.name());
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&dir)(e)),
        };
        let before = purged.len();
        for entry in entries {
            let entry = entry.map_err(io_error(&dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Writes in flight are not the policy's business.
            if name.starts_with(atomic::TEMP_PREFIX) {
                continue;
            }
            let path = entry.path();
            let meta = entry.metadata().map_err(io_error(&path))?;
            if !meta.is_file() {
                continue;
            }
            let (at, dated_by) = match stamp_of(&name) {
                Some(at) => (at, DatedBy::Name),
                None => {
                    let modified = meta.modified().map_err(io_error(&path))?;
                    (DateTime::<Utc>::from(modified), DatedBy::Modified)
                }
            };
            let Ok(age) = (now - at).to_std() else {
                continue;
            };
            if age > max_age {
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_error(&path)(e)),
                }
                purged.push(Purged {
                    path,
                    folder,
                    age,
                    dated_by,
                });
            }
        }
        if purged.len() > before {
            atomic::sync_dir(&dir).map_err(io_error(&dir))?;
        }
    }
    Ok(purged)
}

/// Runs the policy on `stores` (the files of `SESSIONS_DIR`, the database) now and every
/// `every`, on the tally's clock, logging each deletion and counting it in `tally`.
/// `days == 0` keeps everything: no task is started.
pub fn spawn(
    stores: Vec<Arc<dyn InterviewStore>>,
    days: u32,
    tally: impl Tally,
    every: Duration,
) -> Option<tokio::task::JoinHandle<()>> {
    if days == 0 {
        return None;
    }
    let max_age = Duration::from_secs(u64::from(days) * 86_400);
    Some(tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            for store in &stores {
                run_once(store.as_ref(), max_age, &tally).await;
            }
        }
    }))
}

/// One pass of the policy, logged and counted.
pub async fn run_once(store: &dyn InterviewStore, max_age: Duration, tally: &impl Tally) {
    let now = tally.now();
    match store.purge_older(max_age, now).await {
        Ok(purged) => {
            for file in &purged {
                tracing::info!(file = %file.path.display(), folder = file.folder.name(),
                    age_days = file.age.as_secs() / 86_400, dated_by = ?file.dated_by,
                    "purged by SESSION_RETENTION_DAYS");
            }
            tally.purged(purged.len() as u64);
        }
        Err(StoreError::Task(error)) => {
            tally.failed(PassFailure::Internal);
            tracing::error!(%error, "retention task failed");
        }
        Err(error) => {
            tally.failed(PassFailure::Storage);
            tracing::warn!(%error, "retention: could not purge old interviews; retrying later");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_in_a_retired_files_name_is_read_back() {
        let at = DateTime::parse_from_rfc3339("2027-01-15T08:30:05.123Z")
            .unwrap()
            .to_utc();
        let name = format!("42-{}.json", at.format(STAMP_FORMAT));
        assert_eq!(stamp_of(&name), Some(at));
        assert_eq!(
            stamp_of(&format!("42-{}.md", at.format(STAMP_FORMAT))),
            Some(at)
        );
        assert_eq!(
            stamp_of(&format!("metrics-{}.json", at.format(STAMP_FORMAT))),
            Some(at)
        );
        assert_eq!(stamp_of("42.json"), None);
        assert_eq!(stamp_of("notes-about-x.txt"), None);
        assert_eq!(stamp_of("42-2027Z.json"), None);
    }
}
