//! One suite, two stores: every behaviour of [`InterviewStore`] runs against the JSON files
//! (in a temporary directory) and against PostgreSQL (a database of its own in the test
//! cluster, `support::postgres`). A behaviour that holds for one store and not the other
//! fails here.
//!
//! Damage is planted the way each store can be damaged (a file written behind the store's
//! back, a row written by another client); what the store then does is the same.

use std::sync::Arc;

use ai_interviewer::{
    login::{Links, Refused},
    model::{Lang, NewStudy, Session, Stage, StudyId, Style, UserId},
    store::{
        Change, Filed, Folder, InterviewStore, Invite, Loaded, PgStore, Scanned, SessionStore,
        SignInLinks, StudyRecords, StudyStore, StudyStoreError,
        backend::{load_record, save_record},
    },
    telegram::{outbox::Body, profile::Profile, record::ChatRecord},
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::support::postgres as cluster;

/// A store under test, and the means to damage it behind its back.
struct Subject {
    store: Arc<dyn InterviewStore>,
    studies: Arc<dyn StudyRecords>,
    links: Arc<dyn SignInLinks>,
    damage: Damage,
}

enum Damage {
    /// The sessions directory.
    Files(tempfile::TempDir),
    /// The database's connection string.
    Postgres(String),
}

impl Subject {
    async fn files() -> Subject {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path()).unwrap();
        Subject {
            store: Arc::new(store),
            studies: Arc::new(StudyStore::new(dir.path())),
            links: Arc::new(Links::open(dir.path()).unwrap()),
            damage: Damage::Files(dir),
        }
    }

    async fn postgres() -> Subject {
        let url = cluster::database().await;
        let store = PgStore::connect(&url).await.unwrap();
        Subject {
            store: Arc::new(store.clone()),
            studies: Arc::new(store.clone()),
            links: Arc::new(store),
            damage: Damage::Postgres(url),
        }
    }

    /// Puts `json` where the store keeps the interview in progress of `user`.
    async fn plant_interview(&self, user: u64, json: &str) {
        match &self.damage {
            Damage::Files(dir) => {
                std::fs::write(dir.path().join(format!("{user}.json")), json).unwrap();
            }
            Damage::Postgres(url) => {
                sql(
                    url,
                    "INSERT INTO interviews (user_id, session_id, started_at, doc) \
                     VALUES ($1, 0, now(), $2::text::jsonb)",
                    user,
                    json,
                )
                .await;
            }
        }
    }

    /// Puts `json` where the store keeps the chat record of `user`.
    async fn plant_chat(&self, user: u64, json: &str) {
        match &self.damage {
            Damage::Files(dir) => {
                std::fs::write(dir.path().join(format!("chats/{user}.json")), json).unwrap();
            }
            Damage::Postgres(url) => {
                sql(
                    url,
                    "INSERT INTO records (kind, user_id, doc) VALUES ('chats', $1, $2::text::jsonb)",
                    user,
                    json,
                )
                .await;
            }
        }
    }

    /// Puts `json` where the store keeps study `id`.
    async fn plant_study(&self, id: &StudyId, json: &str) {
        match &self.damage {
            Damage::Files(dir) => {
                let folder = dir.path().join("studies");
                std::fs::create_dir_all(&folder).unwrap();
                std::fs::write(folder.join(format!("{id}.json")), json).unwrap();
            }
            Damage::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                let connection = tokio::spawn(connection);
                client
                    .execute(
                        "INSERT INTO studies (id, invite, created_at, doc) \
                         VALUES ($1, 'planted', now(), $2::text::jsonb)",
                        &[&id.as_str(), &json],
                    )
                    .await
                    .unwrap();
                drop(client);
                connection.await.unwrap().unwrap();
            }
        }
    }
}

/// Runs one statement with a user id and a text on a connection of its own.
async fn sql(url: &str, statement: &str, user: u64, text: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let user = i64::try_from(user).unwrap();
    client.execute(statement, &[&user, &text]).await.unwrap();
    drop(client);
    connection.await.unwrap().unwrap();
}

fn at(minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, minute, 0).unwrap()
}

fn session(user: u64, id: u32, started: DateTime<Utc>) -> Session {
    let mut s = Session::new(id, UserId(user), Lang::En, Style::default(), started);
    s.push_question("What do you do?".into(), started);
    s
}

fn study(hex: &str) -> StudyId {
    StudyId::parse(hex).unwrap()
}

async fn loaded(store: &dyn InterviewStore, user: u64) -> Option<Session> {
    match store.load(UserId(user)).await.unwrap() {
        Loaded::Session(s) => Some(*s),
        Loaded::Nothing => None,
        Loaded::Quarantined { reason } => panic!("user {user} quarantined: {reason}"),
    }
}

async fn a_saved_interview_loads_back_and_saving_again_replaces_it(subject: Subject) {
    let store = &*subject.store;
    let mut s = session(5, 1, at(0));
    store.save(&s).await.unwrap();
    assert_eq!(loaded(store, 5).await, Some(s.clone()));
    s.push_answer("I keep bees.", at(1));
    store.save(&s).await.unwrap();
    assert_eq!(loaded(store, 5).await, Some(s));
    assert_eq!(loaded(store, 6).await, None);
    store.save(&session(3, 1, at(0))).await.unwrap();
    assert_eq!(store.active_users().await.unwrap(), [UserId(3), UserId(5)]);
}

async fn an_unreadable_interview_is_quarantined_once(subject: Subject) {
    let store = &*subject.store;
    let other = serde_json::to_string(&session(8, 1, at(0))).unwrap();
    let cases: [(u64, &str, &str); 3] = [
        (1, r#"{"version": 99}"#, "unknown schema version 99"),
        (2, r#"{"version": 1, "id": "x"}"#, "malformed"),
        (9, &other, "holds user 8"),
    ];
    for (user, json, why) in cases {
        subject.plant_interview(user, json).await;
        match store.load(UserId(user)).await.unwrap() {
            Loaded::Quarantined { reason } => assert!(reason.contains(why), "{reason}"),
            other => panic!("user {user}: {other:?}"),
        }
        assert_eq!(loaded(store, user).await, None, "user {user}");
        // What was quarantined is the user's, and erasing them removes it.
        assert_eq!(store.delete_user(UserId(user)).await.unwrap(), 1);
    }
    assert!(store.active_users().await.unwrap().is_empty());
}

async fn a_quarantined_interview_of_another_user_is_not_read_back(subject: Subject) {
    let store = &*subject.store;
    let mut s = session(4, 1, at(0));
    s.user = UserId(40);
    subject
        .plant_interview(4, &serde_json::to_string(&s).unwrap())
        .await;
    assert!(matches!(
        store.load(UserId(4)).await.unwrap(),
        Loaded::Quarantined { .. }
    ));
    // It holds another user's interview, so it is not this user's to read back.
    assert_eq!(
        store.latest(Folder::Quarantine, UserId(4)).await.unwrap(),
        None
    );
}

async fn retiring_files_the_interview_with_its_attachments(subject: Subject) {
    let store = &*subject.store;
    let mut s = session(12, 1, at(0));
    store.save(&s).await.unwrap();
    s.finished_at = Some(at(30));
    let filed = store
        .retire(&s, Folder::Completed, &[("md", "# report")])
        .await
        .unwrap();
    assert_eq!(
        filed,
        Filed {
            folder: Folder::Completed,
            user: UserId(12),
            at: at(30)
        }
    );
    assert_eq!(loaded(store, 12).await, None);
    assert!(store.active_users().await.unwrap().is_empty());
    assert_eq!(
        store.latest(Folder::Completed, UserId(12)).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.latest(Folder::Archive, UserId(12)).await.unwrap(),
        None
    );
    assert_eq!(
        store.attachment(filed, "md").await.unwrap().as_deref(),
        Some("# report")
    );
    store
        .attach(filed, "md", "# report, reviewed")
        .await
        .unwrap();
    assert_eq!(
        store.attachment(filed, "md").await.unwrap().as_deref(),
        Some("# report, reviewed")
    );
    assert_eq!(store.attachment(filed, "pdf").await.unwrap(), None);
    // Retired again at the same time, it replaces what was filed: one interview, one report.
    store.retire(&s, Folder::Completed, &[]).await.unwrap();
    assert_eq!(store.delete_user(UserId(12)).await.unwrap(), 2);
}

async fn the_latest_retired_interview_is_the_last_filed(subject: Subject) {
    let store = &*subject.store;
    let mut first = session(7, 1, at(0));
    first.finished_at = Some(at(10));
    let mut second = session(7, 2, at(20));
    second.finished_at = Some(at(40));
    // Filed out of order: the time they are filed under decides, not the order of the calls.
    store.retire(&second, Folder::Archive, &[]).await.unwrap();
    store.retire(&first, Folder::Archive, &[]).await.unwrap();
    let latest = store.latest(Folder::Archive, UserId(7)).await.unwrap();
    assert_eq!(latest.map(|s| s.id), Some(2));
    assert_eq!(
        store.latest(Folder::Completed, UserId(7)).await.unwrap(),
        None
    );
    assert_eq!(
        store.latest(Folder::Archive, UserId(70)).await.unwrap(),
        None
    );
}

async fn a_scan_finds_every_interview_with_where_it_is_filed(subject: Subject) {
    let store = &*subject.store;
    let mut done = session(1, 2, at(10));
    done.finished_at = Some(at(20));
    let filed = store.retire(&done, Folder::Completed, &[]).await.unwrap();
    let running = session(1, 3, at(30));
    store.save(&running).await.unwrap();
    let mut dropped = session(2, 1, at(0));
    dropped.finished_at = Some(at(5));
    let set_aside = store.retire(&dropped, Folder::Archive, &[]).await.unwrap();
    // Unreadable: left out, and left where it is.
    subject.plant_interview(3, r#"{"version": 99}"#).await;
    let by_id = |mut found: Vec<Scanned>| {
        found.sort_by_key(|s| (s.session.user, s.session.id));
        found
            .into_iter()
            .map(|s| (s.session.user.0, s.session.id, s.filed))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by_id(store.scan(None).await.unwrap()),
        vec![(1, 2, Some(filed)), (1, 3, None), (2, 1, Some(set_aside))]
    );
    assert_eq!(
        by_id(store.scan(Some(UserId(1))).await.unwrap()),
        vec![(1, 2, Some(filed)), (1, 3, None)]
    );
    let all = store.scan(None).await.unwrap();
    let found = all.iter().find(|s| s.session.id == 3).unwrap();
    assert_eq!(found.session, running, "the interview as saved");
    assert_eq!(
        store.active_users().await.unwrap(),
        vec![UserId(1), UserId(3)]
    );
}

async fn retention_deletes_what_was_filed_before_the_limit_with_its_report_and_keeps_the_rest(
    subject: Subject,
) {
    let store = &*subject.store;
    let mut old = session(1, 1, at(0));
    old.finished_at = Some(at(10));
    let old_filed = store
        .retire(&old, Folder::Completed, &[("md", "# The report")])
        .await
        .unwrap();
    let mut recent = session(2, 1, at(0));
    recent.finished_at = Some(at(50));
    store.retire(&recent, Folder::Archive, &[]).await.unwrap();
    // Begun long ago and still going: never the policy's business.
    let running = session(3, 1, at(0));
    store.save(&running).await.unwrap();

    // Thirty minutes kept, at minute 59: what was filed before minute 29 goes.
    let limit = std::time::Duration::from_secs(30 * 60);
    let purged = store.purge_older(limit, at(59)).await.unwrap();
    let mut gone: Vec<(String, Folder)> = purged
        .iter()
        .map(|p| {
            let name = p.path.file_name().unwrap().to_string_lossy().into_owned();
            (name, p.folder)
        })
        .collect();
    gone.sort_by(|a, b| a.0.cmp(&b.0));
    let name = |ext| {
        store
            .name_of(old_filed, ext)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    assert_eq!(
        gone,
        vec![
            (name("json"), Folder::Completed),
            (name("md"), Folder::Completed)
        ]
    );
    assert!(
        purged
            .iter()
            .all(|p| p.age == (at(59) - at(10)).to_std().unwrap())
    );
    assert_eq!(
        store.latest(Folder::Completed, UserId(1)).await.unwrap(),
        None
    );
    assert_eq!(store.attachment(old_filed, "md").await.unwrap(), None);
    assert!(
        store
            .latest(Folder::Archive, UserId(2))
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(store.load(UserId(3)).await.unwrap(), Loaded::Session(s) if *s == running));
    assert!(
        store.purge_older(limit, at(59)).await.unwrap().is_empty(),
        "nothing twice"
    );
}

async fn a_studys_interviews_are_those_in_progress_and_completed_each_once(subject: Subject) {
    let store = &*subject.store;
    let ours = study("0123456789ab");
    let theirs = study("ba9876543210");
    let of = |user, minute, id: &StudyId| {
        let mut s = session(user, 1, at(minute));
        s.study = Some(id.clone());
        s
    };
    let running = of(1, 5, &ours);
    store.save(&running).await.unwrap();
    let mut done = of(2, 1, &ours);
    done.finished_at = Some(at(20));
    store.retire(&done, Folder::Completed, &[]).await.unwrap();
    let mut dropped = of(3, 2, &ours);
    dropped.finished_at = Some(at(21));
    store.retire(&dropped, Folder::Archive, &[]).await.unwrap();
    store.save(&of(4, 0, &theirs)).await.unwrap();
    store.save(&session(5, 1, at(0))).await.unwrap();
    // Completed, and still saved as in progress (filed between two reads): counted once.
    let mut both = of(6, 3, &ours);
    both.finished_at = Some(at(22));
    store.retire(&both, Folder::Completed, &[]).await.unwrap();
    store.save(&both).await.unwrap();

    let found = store.study_sessions(&ours).await.unwrap();
    let users: Vec<u64> = found.iter().map(|s| s.user.0).collect();
    assert_eq!(users, [2, 6, 1], "by start time");
    assert_eq!(found[1], both);
    assert_eq!(store.study_sessions(&theirs).await.unwrap().len(), 1);
    assert!(
        store
            .study_sessions(&study("000000000000"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Record {
    step: String,
    pending: Vec<u32>,
}

async fn per_user_records_round_trip_and_an_undecodable_one_is_quarantined(subject: Subject) {
    let store = &*subject.store;
    let record = Record {
        step: "consent".into(),
        pending: vec![1, 2],
    };
    save_record(store, Folder::Chats, UserId(3), &record)
        .await
        .unwrap();
    save_record(store, Folder::Profiles, UserId(3), &"ru")
        .await
        .unwrap();
    let back: Option<Record> = load_record(store, Folder::Chats, UserId(3)).await.unwrap();
    assert_eq!(back, Some(record.clone()));
    let lang: Option<String> = load_record(store, Folder::Profiles, UserId(3))
        .await
        .unwrap();
    assert_eq!(lang.as_deref(), Some("ru"));
    let none: Option<Record> = load_record(store, Folder::Chats, UserId(4)).await.unwrap();
    assert_eq!(none, None);

    store.remove_value(Folder::Chats, UserId(3)).await.unwrap();
    store.remove_value(Folder::Chats, UserId(3)).await.unwrap();
    assert_eq!(
        store.load_value(Folder::Chats, UserId(3)).await.unwrap(),
        None
    );
    assert!(
        store
            .load_value(Folder::Profiles, UserId(3))
            .await
            .unwrap()
            .is_some()
    );

    // A record of a shape this version does not know.
    subject.plant_chat(5, r#"{"step": 7}"#).await;
    let damaged: Option<Record> = load_record(store, Folder::Chats, UserId(5)).await.unwrap();
    assert_eq!(damaged, None);
    assert_eq!(
        store.load_value(Folder::Chats, UserId(5)).await.unwrap(),
        None
    );
    assert_eq!(
        store.delete_user(UserId(5)).await.unwrap(),
        1,
        "the quarantined record"
    );
}

async fn the_bots_own_records_and_a_rich_interview_come_back_unchanged(subject: Subject) {
    let store = &*subject.store;
    // What JSON in a database could alter: non-ASCII text, escapes, line breaks, numbers past
    // 2^53, empty strings; documents are read back as text and decoded as a file is.
    let mut s = session(u64::from(u32::MAX) + 7, 1, at(0));
    s.push_answer("Пчёлы 🐝 \"quoted\"\nback\\slash <b>&amp;</b>", at(1));
    s.push_offline_question(String::new(), at(2));
    store.save(&s).await.unwrap();
    assert_eq!(loaded(store, s.user.0).await, Some(s.clone()));

    let user = UserId(77);
    let mut record = ChatRecord::default();
    record.push_prompt(Body::text("Привет"));
    record.push(Body::Document {
        name: "report.md".into(),
        content: "# Отчёт\n\n- one\n- two\u{1F41D}".into(),
        caption: Some(String::new()),
    });
    record.see(u32::MAX);
    save_record(store, Folder::Chats, user, &record)
        .await
        .unwrap();
    let back: Option<ChatRecord> = load_record(store, Folder::Chats, user).await.unwrap();
    assert_eq!(back, Some(record));

    let profile = Profile { language: Lang::Ru };
    save_record(store, Folder::Profiles, user, &profile)
        .await
        .unwrap();
    let back: Option<Profile> = load_record(store, Folder::Profiles, user).await.unwrap();
    assert_eq!(back, Some(profile));
}

async fn erasing_a_user_removes_everything_of_theirs_and_nothing_else(subject: Subject) {
    let store = &*subject.store;
    let mut s = session(12, 1, at(0));
    s.finished_at = Some(at(9));
    store
        .retire(&s, Folder::Completed, &[("md", "# report")])
        .await
        .unwrap();
    store.save(&session(12, 2, at(10))).await.unwrap();
    save_record(store, Folder::Chats, UserId(12), &"state")
        .await
        .unwrap();
    save_record(store, Folder::Profiles, UserId(12), &"en")
        .await
        .unwrap();
    // A user whose id starts with the same digits.
    store.save(&session(123, 1, at(0))).await.unwrap();
    save_record(store, Folder::Chats, UserId(123), &"theirs")
        .await
        .unwrap();

    assert_eq!(store.delete_user(UserId(12)).await.unwrap(), 5);
    assert_eq!(loaded(store, 12).await, None);
    assert_eq!(
        store.latest(Folder::Completed, UserId(12)).await.unwrap(),
        None
    );
    assert_eq!(
        store.load_value(Folder::Chats, UserId(12)).await.unwrap(),
        None
    );
    assert_eq!(store.delete_user(UserId(12)).await.unwrap(), 0);
    assert!(loaded(store, 123).await.is_some());
    assert!(
        store
            .load_value(Folder::Chats, UserId(123))
            .await
            .unwrap()
            .is_some()
    );
}

async fn saving_retiring_and_erasing_are_announced(subject: Subject) {
    let store = &*subject.store;
    let mut changes = store.changes();
    let mut s = session(21, 1, at(0));
    store.save(&s).await.unwrap();
    s.finished_at = Some(at(1) + Duration::seconds(1));
    store.retire(&s, Folder::Completed, &[]).await.unwrap();
    store.delete_user(UserId(21)).await.unwrap();
    let mut seen = Vec::new();
    while let Ok(change) = changes.try_recv() {
        seen.push(change);
    }
    assert_eq!(
        seen,
        [
            Change::Saved(UserId(21)),
            Change::Retired(UserId(21)),
            Change::Deleted(UserId(21))
        ]
    );
}

fn draft(title: &str) -> NewStudy {
    NewStudy {
        title: title.into(),
        subject: "the subject".into(),
        language: Lang::Ru,
        style: Style::StageSpecific,
        consent: Some("Our own words.".into()),
        experts_sought: 3,
    }
}

async fn studies_are_created_listed_found_by_invite_changed_and_closed(subject: Subject) {
    let studies = &*subject.studies;
    assert!(studies.list().await.unwrap().is_empty());
    let a = studies.create(draft("A"), at(0)).await.unwrap();
    let b = studies.create(draft("B"), at(1)).await.unwrap();
    let titles: Vec<String> = studies
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.title)
        .collect();
    assert_eq!(titles, ["A", "B"]);
    assert_eq!(studies.get(&a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(studies.get(&StudyId::random()).await.unwrap(), None);
    assert_eq!(
        studies.by_invite(b.invite.as_str()).await.unwrap(),
        Invite::Open(Box::new(b.clone()))
    );
    assert_eq!(
        studies.by_invite("forged-code").await.unwrap(),
        Invite::Unknown
    );
    let question = "What do the best do?".to_owned();
    let added = studies
        .add_questions(&a.id, Stage::Mastery, std::slice::from_ref(&question))
        .await
        .unwrap();
    assert_eq!(added, 1);
    let again = studies
        .add_questions(&a.id, Stage::Mastery, std::slice::from_ref(&question))
        .await
        .unwrap();
    assert_eq!(again, 0, "a question already there is not added twice");
    let closed = studies.close(&a.id, at(5)).await.unwrap();
    assert_eq!(closed.closed_at, Some(at(5)));
    let closed_again = studies.close(&a.id, at(9)).await.unwrap();
    assert_eq!(
        closed_again.closed_at,
        Some(at(5)),
        "closed from the first time"
    );
    assert_eq!(
        studies.get(&a.id).await.unwrap(),
        Some(closed_again.clone())
    );
    assert_eq!(closed_again.plan().questions(Stage::Mastery), [question]);
    assert_eq!(
        studies.by_invite(a.invite.as_str()).await.unwrap(),
        Invite::Closed
    );
    let unknown = StudyId::random();
    assert!(matches!(
        studies.close(&unknown, at(0)).await,
        Err(StudyStoreError::Unknown(id)) if id == unknown
    ));
}

async fn changes_to_one_study_made_at_once_are_all_kept(subject: Subject) {
    let studies = &*subject.studies;
    let study = studies.create(draft("A"), at(0)).await.unwrap();
    // As many as a stage takes (`MAX_QUESTIONS_PER_STAGE`), all at once.
    let questions: Vec<String> = (0..8).map(|n| format!("Question {n}?")).collect();
    let added = futures::future::join_all(
        questions
            .iter()
            .map(|q| studies.add_questions(&study.id, Stage::Mastery, std::slice::from_ref(q))),
    )
    .await;
    assert!(added.into_iter().all(|n| n.unwrap() == 1));
    let kept = studies.get(&study.id).await.unwrap().unwrap();
    let mut kept = kept.plan().questions(Stage::Mastery).to_vec();
    kept.sort();
    let mut expected = questions;
    expected.sort();
    assert_eq!(kept, expected);
}

async fn a_synthesis_and_the_bots_username_are_kept_as_given(subject: Subject) {
    let studies = &*subject.studies;
    let study = studies.create(draft("A"), at(0)).await.unwrap();
    assert_eq!(studies.synthesis_json(&study.id).await.unwrap(), None);
    assert_eq!(studies.synthesis_markdown(&study.id).await.unwrap(), None);
    let data = b"{\n  \"themes\": []\n}".to_vec();
    studies
        .save_synthesis(&study.id, data.clone(), "# first")
        .await
        .unwrap();
    studies
        .save_synthesis(&study.id, data.clone(), "# Синтез")
        .await
        .unwrap();
    assert_eq!(studies.synthesis_json(&study.id).await.unwrap(), Some(data));
    assert_eq!(
        studies
            .synthesis_markdown(&study.id)
            .await
            .unwrap()
            .as_deref(),
        Some("# Синтез")
    );
    // A synthesis is not a study.
    assert_eq!(studies.list().await.unwrap().len(), 1);

    assert_eq!(studies.bot_username().await.unwrap(), None);
    studies.remember_bot_username("@ivbot").await.unwrap();
    assert_eq!(
        studies.bot_username().await.unwrap().as_deref(),
        Some("ivbot")
    );
    studies.remember_bot_username("newbot").await.unwrap();
    assert_eq!(
        studies.bot_username().await.unwrap().as_deref(),
        Some("newbot")
    );
}

async fn a_study_that_cannot_be_read_is_left_out(subject: Subject) {
    let studies = &*subject.studies;
    let good = studies.create(draft("A"), at(0)).await.unwrap();
    let damaged = StudyId::random();
    subject.plant_study(&damaged, r#"{"id": 5}"#).await;
    assert_eq!(studies.get(&damaged).await.unwrap(), None);
    assert_eq!(studies.list().await.unwrap(), [good]);
    assert!(matches!(
        studies.close(&damaged, at(1)).await,
        Err(StudyStoreError::Unknown(id)) if id == damaged
    ));
}

async fn a_sign_in_link_opens_once_and_only_in_time(subject: Subject) {
    let links = &*subject.links;
    let token = links.issue_until(at(10)).await.unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(links.redeem(&token, at(0)).await.unwrap(), Ok(()));
    assert_eq!(
        links.redeem(&token, at(0)).await.unwrap(),
        Err(Refused::Unknown)
    );
    let late = links.issue_until(at(10)).await.unwrap();
    assert_eq!(
        links.redeem(&late, at(10)).await.unwrap(),
        Err(Refused::Expired)
    );
    assert_eq!(
        links.redeem(&late, at(0)).await.unwrap(),
        Err(Refused::Unknown),
        "spent all the same"
    );
    for forged in ["", "../../etc/passwd", &"A".repeat(43), &"é".repeat(43)] {
        assert_eq!(
            links.redeem(forged, at(0)).await.unwrap(),
            Err(Refused::Unknown),
            "{forged}"
        );
    }
}

async fn a_link_opened_many_times_at_once_signs_in_once(subject: Subject) {
    let links = &*subject.links;
    let token = links.issue_until(at(10)).await.unwrap();
    let verdicts = futures::future::join_all((0..8).map(|_| links.redeem(&token, at(0)))).await;
    let signed_in = verdicts
        .into_iter()
        .filter(|v| v.as_ref().unwrap().is_ok())
        .count();
    assert_eq!(signed_in, 1);
}

async fn expired_links_are_purged_and_live_ones_kept(subject: Subject) {
    let links = &*subject.links;
    let old = links.issue_until(at(5)).await.unwrap();
    let live = links.issue_until(at(15)).await.unwrap();
    links.purge_expired(at(5)).await.unwrap();
    // Had it been kept, opening it early would sign in.
    assert_eq!(
        links.redeem(&old, at(0)).await.unwrap(),
        Err(Refused::Unknown)
    );
    assert_eq!(links.redeem(&live, at(6)).await.unwrap(), Ok(()));
}

/// Each behaviour, once per store: `store_conformance::files::<behaviour>` and
/// `store_conformance::postgres::<behaviour>`.
macro_rules! conformance {
    ($($behaviour:ident),* $(,)?) => {
        mod files {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(super::Subject::files().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $behaviour() {
                    super::$behaviour(super::Subject::postgres().await).await;
                }
            )*
        }
    };
}

conformance!(
    a_saved_interview_loads_back_and_saving_again_replaces_it,
    an_unreadable_interview_is_quarantined_once,
    a_quarantined_interview_of_another_user_is_not_read_back,
    retiring_files_the_interview_with_its_attachments,
    the_latest_retired_interview_is_the_last_filed,
    a_scan_finds_every_interview_with_where_it_is_filed,
    retention_deletes_what_was_filed_before_the_limit_with_its_report_and_keeps_the_rest,
    a_studys_interviews_are_those_in_progress_and_completed_each_once,
    per_user_records_round_trip_and_an_undecodable_one_is_quarantined,
    the_bots_own_records_and_a_rich_interview_come_back_unchanged,
    erasing_a_user_removes_everything_of_theirs_and_nothing_else,
    saving_retiring_and_erasing_are_announced,
    studies_are_created_listed_found_by_invite_changed_and_closed,
    changes_to_one_study_made_at_once_are_all_kept,
    a_synthesis_and_the_bots_username_are_kept_as_given,
    a_study_that_cannot_be_read_is_left_out,
    a_sign_in_link_opens_once_and_only_in_time,
    a_link_opened_many_times_at_once_signs_in_once,
    expired_links_are_purged_and_live_ones_kept,
);

/// The schema's migrations: applied once, found applied by the next start, and a database
/// migrated by a newer version is refused rather than written to.
mod migrations {
    use ai_interviewer::store::{PgStore, postgres::MIGRATIONS};

    use crate::support::postgres;

    #[tokio::test]
    async fn a_second_start_finds_the_schema_migrated_and_a_newer_schema_is_refused() {
        let url = postgres::database().await;
        let latest = MIGRATIONS.last().unwrap().version;
        let first = PgStore::connect(&url).await.unwrap();
        assert_eq!(first.schema_version().await.unwrap(), latest);
        // Two replicas starting together: both succeed, the schema is migrated once.
        let (a, b) = tokio::join!(PgStore::connect(&url), PgStore::connect(&url));
        a.unwrap();
        b.unwrap();
        assert_eq!(first.schema_version().await.unwrap(), latest);

        super::sql(
            &url,
            "INSERT INTO schema_migrations (version, name) VALUES ($1::bigint::int, $2)",
            u64::try_from(latest + 1).unwrap(),
            "from the future",
        )
        .await;
        let err = PgStore::connect(&url).await.unwrap_err().to_string();
        assert!(err.contains("newer than this version"), "{err}");
    }
}

/// Two stores on one database, as two replicas have: each hears of the other's writes once,
/// and of its own once.
mod replicas {
    use ai_interviewer::{
        model::UserId,
        store::{Change, Folder, InterviewStore, PgStore},
    };
    use chrono::Duration;
    use tokio::sync::broadcast::Receiver;

    use crate::support::{eventually, postgres};

    /// Saves through `writer` until `listener` hears of it: its connection is then up.
    async fn until_heard(writer: &PgStore, listener: &mut Receiver<Change>, user: u64) {
        let s = super::session(user, 1, super::at(0));
        eventually(
            format_args!("a store to hear of user {user}'s save"),
            async || {
                writer.save(&s).await.unwrap();
                listener.try_recv().ok()
            },
        )
        .await;
    }

    /// Saves `user` once through `writer` and waits until `listener` hears of it, dropping
    /// everything heard before: notifications arrive in commit order, so nothing older is
    /// still on its way.
    async fn settle(writer: &PgStore, listener: &mut Receiver<Change>, user: u64) {
        let s = super::session(user, 1, super::at(0));
        writer.save(&s).await.unwrap();
        eventually(
            format_args!("a store to hear of user {user}'s save"),
            async || drain(listener).contains(&Change::Saved(UserId(user))),
        )
        .await;
    }

    fn drain(changes: &mut Receiver<Change>) -> Vec<Change> {
        std::iter::from_fn(|| changes.try_recv().ok()).collect()
    }

    #[tokio::test]
    async fn a_write_through_one_store_is_announced_by_the_other() {
        let url = postgres::database().await;
        let one = PgStore::connect(&url).await.unwrap();
        let other = PgStore::connect(&url).await.unwrap();
        let mut heard_by_one = one.changes();
        let mut heard_by_other = other.changes();
        until_heard(&one, &mut heard_by_other, 31).await;
        until_heard(&other, &mut heard_by_one, 32).await;
        // Priming may have left saves on their way: let both feeds settle.
        settle(&other, &mut heard_by_one, 34).await;
        settle(&one, &mut heard_by_other, 35).await;
        drain(&mut heard_by_one);

        let mut s = super::session(31, 1, super::at(0));
        s.finished_at = Some(super::at(1) + Duration::seconds(3));
        one.retire(&s, Folder::Archive, &[]).await.unwrap();
        one.delete_user(UserId(31)).await.unwrap();
        let expected = [Change::Retired(UserId(31)), Change::Deleted(UserId(31))];
        let mut seen = Vec::new();
        eventually(
            "the other store to hear of the retirement and the erasure",
            async || {
                seen.extend(drain(&mut heard_by_other));
                seen.len() >= 2
            },
        )
        .await;
        assert_eq!(seen, expected);

        // Notifications arrive in commit order: once the writer hears of a later write by
        // the other store, any notification of its own would have come before it.
        other
            .save(&super::session(33, 1, super::at(0)))
            .await
            .unwrap();
        let mut mine = Vec::new();
        eventually("the writer to hear of the other store's save", async || {
            mine.extend(drain(&mut heard_by_one));
            mine.contains(&Change::Saved(UserId(33)))
        })
        .await;
        assert_eq!(
            mine,
            [expected[0], expected[1], Change::Saved(UserId(33))],
            "each of its own writes announced once"
        );
    }
}
