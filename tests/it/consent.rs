//! Consent before the first question: the briefing says who reads the interview, which
//! services process it and how long it is kept; 🚀 Begin accepts it, and the session keeps
//! the notice's version and the time of the press.

use crate::support::bot::{BotOptions, spawn_bot};

#[tokio::test]
async fn the_briefing_carries_the_notice_and_begin_records_its_version() {
    let bot = spawn_bot(BotOptions {
        vars: vec![("SESSION_RETENTION_DAYS", "45".to_owned())],
        ..BotOptions::default()
    })
    .await;
    let ann = bot.telegram.user(701, "Ann", Some("en"));
    let welcome = bot.say(&ann, "/start").await;
    bot.press(&ann, &welcome, "lang:en");
    let styles = bot.offers(&ann, &welcome, "style:0").await;
    bot.press(&ann, &styles, "style:0");
    let briefing = bot.offers(&ann, &welcome, "begin").await;
    let shown = briefing.plain();
    assert!(
        shown.contains("the operators of this bot read your interview"),
        "{shown}"
    );
    assert!(
        shown.contains("Anthropic") && shown.contains("45 days"),
        "{shown}"
    );
    assert!(shown.contains("/delete erases everything"), "{shown}");
    assert!(
        !shown.contains("AssemblyAI"),
        "no AssemblyAI key is set, so voice notes go nowhere: {shown}"
    );
    // Before the press nothing is agreed: no session exists yet.
    assert!(bot.session(&ann).is_none());
    bot.press(&ann, &briefing, "begin");
    bot.next(&ann).await;
    let session = bot.session(&ann).expect("the interview is saved");
    let consent = &session["consent"];
    assert_eq!(
        consent["version"].as_str().map(str::len),
        Some(16),
        "{session}"
    );
    assert_eq!(consent["at"], session["started_at"], "{session}");
}

#[tokio::test]
async fn an_operators_own_notice_replaces_the_built_in_one_and_changes_the_version() {
    let notices = tempfile::tempdir().unwrap();
    let file = notices.path().join("ru.txt");
    std::fs::write(&file, "Интервью читает отдел обучения «Сварка-Юг».\n").unwrap();
    let bot = spawn_bot(BotOptions {
        vars: vec![("CONSENT_RU_FILE", file.display().to_string())],
        ..BotOptions::default()
    })
    .await;
    let mut versions = Vec::new();
    for (id, lang) in [(702, "ru"), (703, "en")] {
        let user = bot.telegram.user(id, "Олег", Some(lang));
        let welcome = bot.say(&user, "/start").await;
        bot.press(&user, &welcome, &format!("lang:{lang}"));
        let styles = bot.offers(&user, &welcome, "style:1").await;
        bot.press(&user, &styles, "style:1");
        let briefing = bot.offers(&user, &welcome, "begin").await;
        let own = briefing.plain().contains("отдел обучения «Сварка-Юг»");
        assert_eq!(own, lang == "ru", "{}", briefing.plain());
        bot.press(&user, &briefing, "begin");
        bot.next(&user).await;
        let session = bot.session(&user).unwrap();
        versions.push(session["consent"]["version"].as_str().unwrap().to_owned());
    }
    assert_ne!(versions[0], versions[1]);
}
