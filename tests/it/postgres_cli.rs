//! The commands for the database on the binary: `migrate` and `import-files`.

use std::{collections::BTreeMap, path::Path, process::Output};

use ai_interviewer::{
    model::{Lang, NewStudy, Style},
    store::{Filed, Folder, InterviewStore, Loaded, PgStore, StudyRecords, StudyStore},
};

use crate::support::{binary, epoch, postgres, seed::seed};

fn run(sessions: &Path, url: &str, command: &str) -> Output {
    let out = binary(sessions)
        .env("DATABASE_URL", url)
        .arg(command)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The summary's lines as `what` → (imported, already there).
fn counts(out: &Output) -> BTreeMap<String, (usize, usize)> {
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|line| {
            let (what, rest) = line.split_once(": ")?;
            let (imported, present) = rest.split_once(" imported, ")?;
            let present = present.strip_suffix(" already there")?;
            Some((
                what.to_owned(),
                (imported.parse().ok()?, present.parse().ok()?),
            ))
        })
        .collect()
}

#[tokio::test]
async fn migrate_brings_an_empty_database_to_the_latest_schema_and_leaves_a_current_one() {
    let url = postgres::database().await;
    let dir = tempfile::tempdir().unwrap();
    let first = run(dir.path(), &url, "migrate");
    let again = run(dir.path(), &url, "migrate");
    let database = PgStore::connect(&url).await.unwrap();
    let version = database.schema_version().await.unwrap();
    assert!(version >= 3, "every migration applied: {version}");
    let said = format!("the database schema is at version {version}\n");
    assert_eq!(String::from_utf8_lossy(&first.stdout), said);
    assert_eq!(String::from_utf8_lossy(&again.stdout), said);
}

#[tokio::test]
async fn migrate_without_database_url_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = binary(dir.path()).arg("migrate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DATABASE_URL is not set"), "{stderr}");
}

#[tokio::test]
async fn import_files_moves_a_sessions_dir_into_the_database_once() {
    let url = postgres::database().await;
    let dir = tempfile::tempdir().unwrap();
    let seeded = seed(dir.path(), 14, epoch());
    let in_folder = |folder: &str| {
        seeded
            .iter()
            .filter(|s| s.json.parent().and_then(Path::file_name) == Some(folder.as_ref()))
            .count()
    };
    let in_progress = seeded
        .iter()
        .filter(|s| s.json.parent() == Some(dir.path()))
        .count();
    let reports = seeded.iter().filter(|s| s.report.is_some()).count();
    // A study with a synthesis, a chat record, a profile and a quarantined document besides.
    let studies = StudyStore::new(dir.path());
    let study = studies
        .create(
            NewStudy {
                title: "Night shift".into(),
                subject: "How the furnace is kept stable".into(),
                language: Lang::En,
                style: Style::MasterInterviewer,
                consent: None,
                experts_sought: 3,
            },
            epoch(),
        )
        .await
        .unwrap();
    studies
        .save_synthesis(&study.id, b"{\"experts\":[]}".to_vec(), "# Night shift")
        .await
        .unwrap();
    studies
        .remember_bot_username("interview_bot")
        .await
        .unwrap();
    let user = seeded[0].user;
    std::fs::write(
        dir.path().join(format!("chats/{user}.json")),
        r#"{"dialogue":"Idle"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join(format!("profiles/{user}.json")),
        r#"{"language":"ru"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path()
            .join(format!("quarantine/{user}-20270101T000000.000Z.json")),
        "{not json",
    )
    .unwrap();

    let first = counts(&run(dir.path(), &url, "import-files"));
    let expected = |n: usize| (n, 0);
    assert_eq!(first["interviews in progress"], expected(in_progress));
    assert_eq!(
        first["completed interviews"],
        expected(in_folder("completed"))
    );
    assert_eq!(first["archived interviews"], expected(in_folder("archive")));
    assert_eq!(first["reports"], expected(reports));
    assert_eq!(first["quarantined documents"], expected(1));
    assert_eq!(first["chat records"], expected(1));
    assert_eq!(first["profiles"], expected(1));
    assert_eq!(first["studies"], expected(1));
    assert_eq!(first["syntheses"], expected(1));
    assert_eq!(first["bot username"], expected(1));
    assert_eq!(
        in_progress + in_folder("completed") + in_folder("archive"),
        seeded.len(),
        "every seeded interview counted"
    );
    // Run again: everything is there already, nothing is written twice.
    let second = counts(&run(dir.path(), &url, "import-files"));
    assert_eq!(second.len(), first.len());
    for (what, (imported, present)) in &first {
        assert_eq!(second[what], (0, imported + present), "{what}");
    }

    // What the bot will read is what the files held.
    let database = PgStore::connect(&url).await.unwrap();
    for s in &seeded {
        let place = s.json.parent().and_then(Path::file_name);
        if s.json.parent() == Some(dir.path()) {
            let Loaded::Session(session) = database.load(s.user).await.unwrap() else {
                panic!("{} is in progress in the database", s.user);
            };
            assert_eq!(session.id, s.id);
            continue;
        }
        let folder = if place == Some("completed".as_ref()) {
            Folder::Completed
        } else {
            Folder::Archive
        };
        let session = database
            .latest(folder, s.user)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{} is filed in the database", s.user));
        assert_eq!(session.id, s.id);
        if let Some(report) = &s.report {
            let filed = Filed::of(&session, folder);
            assert_eq!(
                database.attachment(filed, "md").await.unwrap(),
                Some(std::fs::read_to_string(report).unwrap()),
                "the report of {}",
                s.user
            );
        }
    }
    let record = database.load_value(Folder::Profiles, user).await.unwrap();
    assert_eq!(record, Some(serde_json::json!({"language": "ru"})));
    let imported = database.get(&study.id).await.unwrap().expect("the study");
    assert_eq!(imported, study);
    assert_eq!(
        database
            .synthesis_markdown(&study.id)
            .await
            .unwrap()
            .as_deref(),
        Some("# Night shift")
    );
    assert_eq!(
        database.bot_username().await.unwrap().as_deref(),
        Some("interview_bot")
    );
}
