//! The bot on PostgreSQL (`DATABASE_URL` set): the same interview as on the files, every
//! interview, record and report in the database, the inbox and the sent log too, and only the
//! counters in `SESSIONS_DIR`.

use ai_interviewer::{
    model::{Review, UserId},
    store::{Filed, Folder, InterviewStore, Loaded, PgStore},
};

use crate::support::{
    bot::{BotOptions, spawn_bot},
    postgres,
};

#[tokio::test]
async fn on_postgres_a_whole_interview_goes_on_after_a_restart_and_its_report_is_confirmed() {
    let url = postgres::database().await;
    let mut bot = spawn_bot(BotOptions {
        vars: vec![("DATABASE_URL", url.clone())],
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(3301, "Ann", Some("en"));
    bot.start_interview(&ann, "en", 0).await;
    for n in 0..3 {
        bot.say(&ann, &format!("Answer {n}: I check the gas first."))
            .await;
    }
    bot.settled().await;
    let database = PgStore::connect(&url).await.unwrap();
    let user = UserId(ann.id);
    let Loaded::Session(before) = database.load(user).await.unwrap() else {
        panic!("the interview in progress is in the database");
    };
    assert!(
        bot.session(&ann).is_none(),
        "no interview file in SESSIONS_DIR"
    );

    // A restart: the interview, the chat's record and the language come back from the database.
    bot.restart().await;
    let mut ending = None;
    for n in 3..60 {
        let reply = bot
            .say(&ann, &format!("Answer {n}: I check the gas first."))
            .await;
        assert!(!reply.plain().contains("/start"), "{}", reply.plain());
        if reply.plain().contains("100%") && reply.plain().contains("[wrap_up]") {
            ending = Some((bot.next(&ann).await, bot.next(&ann).await));
            break;
        }
    }
    let (notice, document) = ending.expect("the interview ends");
    assert!(
        notice.plain().contains("end of the interview"),
        "{}",
        notice.plain()
    );
    let markdown = String::from_utf8(document.document.expect("the report").bytes).unwrap();
    assert!(markdown.contains("## 3. The task diagram"), "{markdown}");
    let screen = bot.next(&ann).await;
    let ok = screen
        .callback_datas()
        .into_iter()
        .find(|d| d.starts_with("ok:"))
        .expect("a button to confirm the report");
    assert_eq!(ok, format!("ok:{}", before.id), "the same interview");
    bot.press(&ann, &screen, &ok);
    assert!(bot.next(&ann).await.plain().contains("confirmed"));
    bot.settled().await;

    // Filed in the database with its report; nothing of the interview in SESSIONS_DIR.
    assert!(matches!(
        database.load(user).await.unwrap(),
        Loaded::Nothing
    ));
    let filed = database
        .latest(Folder::Completed, user)
        .await
        .unwrap()
        .expect("the interview is completed in the database");
    assert_eq!(filed.id, before.id);
    assert_eq!(filed.report.review, Review::Confirmed);
    let report = database
        .attachment(Filed::of(&filed, Folder::Completed), "md")
        .await
        .unwrap();
    assert_eq!(report.as_deref(), Some(markdown.as_str()));
    for folder in ["completed", "archive", "chats", "profiles", "quarantine"] {
        let dir = bot.dir.path().join(folder);
        let files = std::fs::read_dir(&dir).map_or(0, |entries| entries.count());
        assert_eq!(files, 0, "{} holds files", dir.display());
    }
    assert!(
        !bot.dir.path().join("inbox").exists(),
        "the inbox and the sent log are in the database"
    );
}
