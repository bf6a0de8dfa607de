//! Several replicas on one database, as the store sees them: liveness is a held connection,
//! a chat is claimed by one live replica at a time, one replica leads the polling, and the
//! inbox tells which chats' updates nobody runs. Against the real test cluster.

use ai_interviewer::store::{
    PgStore,
    postgres::{Replica, Role, inbox::Saved},
};

use crate::support::{eventually, postgres};

async fn store() -> PgStore {
    PgStore::connect(&postgres::database().await).await.unwrap()
}

fn update(id: i64, chat: i64) -> Saved {
    Saved {
        id,
        chat: Some(chat),
        doc: format!(r#"{{"update_id":{id}}}"#),
    }
}

#[tokio::test]
async fn a_chat_is_claimed_by_one_live_replica_and_taken_over_once_it_dies() {
    let store = store().await;
    let a = Replica::join(&store, "a").await.unwrap();
    let b = Replica::join(&store, "b").await.unwrap();
    assert_ne!(a.id(), b.id());

    let first = a.claim(7).await.unwrap().expect("a free chat is taken");
    assert_eq!(
        b.claim(7).await.unwrap(),
        None,
        "another live replica's chat"
    );
    assert!(a.holds(first).await.unwrap());
    let again = a
        .claim(7)
        .await
        .unwrap()
        .expect("a replica takes its own chat again");
    assert!(again.epoch > first.epoch, "every taking raises the epoch");
    a.release(first).await.unwrap();
    assert!(
        a.holds(again).await.unwrap(),
        "a release by an earlier taking leaves the newer claim alone"
    );

    // The replica dies (its connection closes): its chat is anyone's.
    a.leave();
    let taken = eventually("the dead replica's chat is taken", async || {
        b.claim(7).await.unwrap()
    })
    .await;
    assert!(taken.epoch > again.epoch);
    assert!(
        !a.holds(again).await.unwrap(),
        "the dead replica's claim is void"
    );
    b.release(taken).await.unwrap();
    let c = Replica::join(&store, "c").await.unwrap();
    assert!(
        c.claim(7).await.unwrap().is_some(),
        "a released chat is free"
    );
}

#[tokio::test]
async fn one_replica_leads_and_another_leads_once_it_is_gone() {
    let store = store().await;
    let a = Replica::join(&store, "a").await.unwrap();
    let b = Replica::join(&store, "b").await.unwrap();
    assert!(a.lead(Role::Poller).await.unwrap());
    assert!(!b.lead(Role::Poller).await.unwrap(), "one poller at a time");
    assert!(
        a.lead(Role::Poller).await.unwrap(),
        "the leader stays the leader"
    );
    assert_eq!(b.alive().await.unwrap(), 2);
    let mut lost = a.lost();
    a.leave();
    lost.wait_for(|lost| *lost).await.unwrap();
    eventually("another replica leads", async || {
        b.lead(Role::Poller).await.unwrap()
    })
    .await;
    assert_eq!(b.alive().await.unwrap(), 1);
}

#[tokio::test]
async fn the_inbox_saves_an_update_once_and_names_the_chats_nobody_runs() {
    let store = store().await;
    let inbox = store.inbox();
    assert_eq!(inbox.seen().await.unwrap(), None);
    let fresh = inbox
        .save(&[update(10, 1), update(11, 2), update(12, 1)])
        .await
        .unwrap();
    assert_eq!(fresh, [10, 11, 12]);
    let again = inbox.save(&[update(11, 2), update(13, 3)]).await.unwrap();
    assert_eq!(again, [13], "a redelivery is not saved twice");
    assert_eq!(inbox.seen().await.unwrap(), Some(13));
    let ones: Vec<i64> = inbox
        .unhandled(Some(1))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ones, [10, 12], "a chat's updates, oldest first");

    let a = Replica::join(&store, "a").await.unwrap();
    a.claim(2).await.unwrap().unwrap();
    assert_eq!(
        inbox.orphaned().await.unwrap(),
        [1, 3],
        "chat 2 runs on a live replica"
    );
    inbox.handled(10).await.unwrap();
    inbox.handled(12).await.unwrap();
    assert_eq!(inbox.orphaned().await.unwrap(), [3]);
    a.leave();
    eventually("a dead replica's chat is nobody's", async || {
        inbox.orphaned().await.unwrap() == [2, 3]
    })
    .await;
    assert_eq!(inbox.backlog().await.unwrap(), 2);
    inbox.forget(2).await.unwrap();
    assert_eq!(inbox.backlog().await.unwrap(), 1);
    let _ = inbox.save(&[update(11, 2)]).await.unwrap();
    assert_eq!(
        inbox.seen().await.unwrap(),
        Some(13),
        "the offset never goes back"
    );
}

#[tokio::test]
async fn the_sent_log_answers_for_a_chat_whichever_replica_logged_it() {
    let store = store().await;
    let log = store.sent_log();
    let since = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    log.record(5, r#"{"outbox":1}"#, Some(40)).await.unwrap();
    log.record(5, r#"{"outbox":2}"#, None).await.unwrap();
    log.record(6, r#"{"outbox":1}"#, Some(41)).await.unwrap();
    let mut five = log.of_chat(5, since).await.unwrap();
    five.sort();
    assert_eq!(
        five,
        [
            (r#"{"outbox":1}"#.to_owned(), Some(40)),
            (r#"{"outbox":2}"#.to_owned(), None)
        ]
    );
    assert_eq!(
        log.purge(chrono::Utc::now() + chrono::TimeDelta::seconds(1))
            .await
            .unwrap(),
        3
    );
    assert!(log.of_chat(5, since).await.unwrap().is_empty());
}

/// A replica: the real binary on the shared database, with a `SESSIONS_DIR` of its own.
fn replica(
    dir: &std::path::Path,
    url: &str,
    telegram: &crate::support::telegram::FakeTelegram,
    anthropic: &crate::support::FakeAnthropic,
) -> crate::support::RunningBot {
    let mut cmd = crate::support::binary(dir);
    cmd.env("TELEGRAM_BOT_TOKEN", telegram.token())
        .env("TELEGRAM_API_URL", telegram.api_url())
        .env("ANTHROPIC_API_KEY", crate::support::anthropic::API_KEY)
        .env("ANTHROPIC_BASE_URL", &anthropic.url)
        .env("DATABASE_URL", url)
        // Nobody reads the replicas' output: only what matters is written.
        .env("LOG_LEVEL", "error");
    crate::support::RunningBot(cmd.spawn().unwrap())
}

/// Sends `text` as the expert's answer and returns the one reply it gets: the chat held
/// `seen` messages before, and holds one more after.
async fn answer(
    telegram: &crate::support::telegram::FakeTelegram,
    ann: &crate::support::telegram::TestUser,
    seen: &mut usize,
    text: &str,
) -> String {
    let seen = std::mem::replace(seen, *seen + 1);
    telegram.send_text(ann, text);
    let replies = telegram
        .wait_for_count(ann.chat_id(), seen + 1, crate::support::bot::WAIT)
        .await;
    assert_eq!(
        replies.len(),
        seen + 1,
        "one reply to one answer: {:?}",
        replies[seen..]
            .iter()
            .map(|m| m.plain())
            .collect::<Vec<_>>()
    );
    replies[seen].plain()
}

/// Waits until every update is fetched and handled (each reply delivered and recorded): a
/// replica killed after this is not in the instant between Telegram's accepting a message and
/// its record, the one moment where a message may repeat.
async fn settle(telegram: &crate::support::telegram::FakeTelegram, store: &PgStore) {
    eventually("the replicas settle", async || {
        telegram.pending_updates() == 0 && store.inbox().backlog().await.unwrap() == 0
    })
    .await;
}

#[tokio::test]
async fn three_replicas_carry_an_interview_while_the_poller_and_the_chat_s_replica_are_killed() {
    use crate::support::{FakeAnthropic, Reply, telegram::FakeTelegram};

    let url = postgres::database().await;
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dirs: Vec<_> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    // The first replica up polls: it is the one killed first.
    let poller = replica(dirs[0].path(), &url, &telegram, &anthropic);
    telegram
        .wait_until(crate::support::bot::WAIT, "the first replica polls", |t| {
            !t.calls("getUpdates").is_empty()
        })
        .await;
    let second = replica(dirs[1].path(), &url, &telegram, &anthropic);
    let third = replica(dirs[2].path(), &url, &telegram, &anthropic);
    let ann = telegram.user(701, "Ann", Some("en"));
    crate::bot_process::onboard(&telegram, &ann).await;
    let mut seen = telegram.sent(ann.chat_id()).len();
    let reply = answer(&telegram, &ann, &mut seen, "I build bridges for a living.").await;
    assert!(reply.contains("Could you tell me more"), "{reply}");

    // The poller dies: another replica polls, and the interview goes on.
    let store = PgStore::connect(&url).await.unwrap();
    settle(&telegram, &store).await;
    drop(poller);
    let reply = answer(&telegram, &ann, &mut seen, "Mostly steel ones.").await;
    assert!(reply.contains("Could you tell me more"), "{reply}");

    // Another replica dies: one is left, and carries on.
    settle(&telegram, &store).await;
    drop(second);
    let reply = answer(&telegram, &ann, &mut seen, "Rivets, then welds.").await;
    assert!(reply.contains("Could you tell me more"), "{reply}");

    // A fourth joins, and the replica running the chat dies while Claude writes the reply:
    // the new one takes the chat over and answers the saved message, once.
    let _fourth = replica(dirs[3].path(), &url, &telegram, &anthropic);
    let turns = anthropic.turn_count();
    anthropic.script([Reply::Hang(std::time::Duration::from_secs(120))]);
    telegram.send_text(&ann, "The last one was in Porto.");
    eventually("the answer reached Claude", async || {
        anthropic.turn_count() > turns
    })
    .await;
    drop(third);
    let replies = telegram
        .wait_for_count(ann.chat_id(), seen + 1, crate::support::bot::WAIT)
        .await;
    assert!(
        replies[seen].plain().contains("Could you tell me more"),
        "{}",
        replies[seen].plain()
    );
    let last = anthropic
        .received()
        .last()
        .expect("a request")
        .body
        .to_string();
    assert_eq!(
        last.matches("The last one was in Porto.").count(),
        1,
        "answered once, not joined with a copy: {last}"
    );
    seen += 1;
    let reply = answer(&telegram, &ann, &mut seen, "Steel again.").await;
    assert!(reply.contains("Could you tell me more"), "{reply}");

    // Everything handled: every question reached the chat once, none twice.
    settle(&telegram, &store).await;
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        seen,
        "every question reached the chat once"
    );
}

/// A replica whose error output is kept, read as it is written.
struct Watched {
    _process: crate::support::RunningBot,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Watched {
    fn start(
        dir: &std::path::Path,
        url: &str,
        telegram: &crate::support::telegram::FakeTelegram,
        anthropic: &crate::support::FakeAnthropic,
    ) -> Watched {
        use std::io::BufRead;
        let mut process = replica(dir, url, telegram, anthropic);
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut pipe = std::io::BufReader::new(process.0.stderr.take().unwrap());
        let written = output.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while pipe.read_line(&mut line).unwrap_or(0) > 0 {
                written.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Watched {
            _process: process,
            output,
        }
    }

    fn said(&self, what: &str) -> usize {
        self.output.lock().unwrap().matches(what).count()
    }
}

#[tokio::test]
async fn the_replicas_wait_for_a_restarted_database_and_go_on_with_nothing_lost() {
    use crate::support::{FakeAnthropic, telegram::FakeTelegram};

    let cluster = postgres::cluster_of_its_own().await;
    let url = cluster.database().await;
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let replicas: Vec<Watched> = dirs
        .iter()
        .map(|dir| Watched::start(dir.path(), &url, &telegram, &anthropic))
        .collect();
    telegram
        .wait_until(crate::support::bot::WAIT, "a replica polls", |t| {
            !t.calls("getUpdates").is_empty()
        })
        .await;
    let ann = telegram.user(702, "Ann", Some("en"));
    crate::bot_process::onboard(&telegram, &ann).await;
    let mut seen = telegram.sent(ann.chat_id()).len();
    answer(&telegram, &ann, &mut seen, "I build bridges for a living.").await;
    // Everything recorded: a stop now falls outside the instant between Telegram's accepting a
    // message and its record, the one moment where a message may repeat.
    let store = PgStore::connect(&url).await.unwrap();
    settle(&telegram, &store).await;
    drop(store);

    // The database goes away with every connection, and an answer comes in meanwhile.
    cluster.stop().await;
    telegram.send_text(&ann, "Mostly steel ones.");
    eventually("both replicas start again and wait", async || {
        replicas
            .iter()
            .all(|r| r.said("starting again as a new replica") >= 1)
    })
    .await;
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        seen,
        "nothing is answered while the database is away"
    );

    // It is back: the answer that came in meanwhile is answered, once, and the interview goes on.
    cluster.start().await;
    seen += 1;
    let replies = telegram
        .wait_for_count(ann.chat_id(), seen, crate::support::bot::WAIT)
        .await;
    assert!(
        replies[seen - 1].plain().contains("Could you tell me more"),
        "{}",
        replies[seen - 1].plain()
    );
    answer(&telegram, &ann, &mut seen, "Rivets, then welds.").await;
    let store = PgStore::connect(&url).await.unwrap();
    settle(&telegram, &store).await;
    assert_eq!(
        telegram.sent(ann.chat_id()).len(),
        seen,
        "every question reached the chat once"
    );
}

#[tokio::test]
async fn three_replicas_behind_a_proxy_take_the_webhook_s_updates_while_two_of_them_die() {
    use crate::support::{FakeAnthropic, proxy::Proxy, settings, telegram::FakeTelegram};

    const SECRET: &str = "hook_Replicas-0123456789";
    let url = postgres::database().await;
    let telegram = FakeTelegram::start().await;
    let anthropic = FakeAnthropic::start().await;
    let addrs: Vec<std::net::SocketAddr> = (0..3)
        .map(|_| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
        })
        .collect();
    let proxy = Proxy::start(addrs.clone()).await;
    let hook = format!("http://{}/telegram/hook", proxy.addr);
    // `ai-interviewer webhook set`, once, from outside the replicas.
    let config = settings(&[
        ("TELEGRAM_BOT_TOKEN", telegram.token().to_owned()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        ("WEBHOOK_URL", hook.clone()),
        ("WEBHOOK_SECRET", SECRET.to_owned()),
    ])
    .telegram;
    ai_interviewer::telegram::webhook_command(
        &config,
        ai_interviewer::telegram::WebhookCommand::Set,
    )
    .await
    .unwrap();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut replicas: Vec<Option<crate::support::RunningBot>> = dirs
        .iter()
        .zip(&addrs)
        .map(|(dir, addr)| {
            let mut cmd = crate::support::binary(dir.path());
            cmd.env("TELEGRAM_BOT_TOKEN", telegram.token())
                .env("TELEGRAM_API_URL", telegram.api_url())
                .env("ANTHROPIC_API_KEY", crate::support::anthropic::API_KEY)
                .env("ANTHROPIC_BASE_URL", &anthropic.url)
                .env("DATABASE_URL", &url)
                .env("WEBHOOK_URL", &hook)
                .env("WEBHOOK_SECRET", SECRET)
                .env("WEBHOOK_ADDR", addr.to_string())
                .env("LOG_LEVEL", "error");
            Some(crate::support::RunningBot(cmd.spawn().unwrap()))
        })
        .collect();
    telegram
        .wait_until(
            crate::support::bot::WAIT,
            "every replica serves the webhook",
            |t| t.calls("getWebhookInfo").len() >= 3,
        )
        .await;
    let store = PgStore::connect(&url).await.unwrap();
    let ann = telegram.user(703, "Ann", Some("en"));
    crate::bot_process::onboard(&telegram, &ann).await;
    let mut seen = telegram.sent(ann.chat_id()).len();
    for (n, text) in ["I build bridges.", "Steel ones.", "Rivets, then welds."]
        .into_iter()
        .enumerate()
    {
        let reply = answer(&telegram, &ann, &mut seen, text).await;
        assert!(reply.contains("Could you tell me more"), "{reply}");
        settle(&telegram, &store).await;
        if n < 2 {
            // A replica dies; the proxy sends the next updates to those alive.
            replicas[n] = None;
        }
    }
    assert!(
        telegram.calls("getUpdates").is_empty(),
        "nobody polls while the webhook is set"
    );
    assert!(
        telegram.webhook().is_some(),
        "no replica removed the webhook"
    );
    assert_eq!(telegram.sent(ann.chat_id()).len(), seen, "each reply once");
}

#[tokio::test]
async fn a_worker_whose_chat_was_taken_by_another_replica_writes_nothing() {
    use ai_interviewer::{
        model::{Lang, Session, Style, UserId},
        store::{InterviewStore, Loaded, StoreError, postgres::fence},
    };

    let store = store().await;
    let a = Replica::join(&store, "a").await.unwrap();
    let claim = a.claim(9).await.unwrap().unwrap();
    let under_a = fence::Fence {
        chat: 9,
        replica: a.id(),
        epoch: claim.epoch,
    };
    let mut session = Session::new(1, UserId(9), Lang::En, Style::default(), chrono::Utc::now());
    fence::fenced(under_a, store.save(&session)).await.unwrap();

    // The replica dies; another takes the chat; a statement of the dead one's arrives late.
    a.leave();
    let b = Replica::join(&store, "b").await.unwrap();
    eventually("the chat is taken over", async || b.claim(9).await.unwrap()).await;
    session.push_answer(
        "written by the replica that lost the chat",
        chrono::Utc::now(),
    );
    let late = fence::fenced(under_a, store.save(&session)).await;
    assert!(
        matches!(late, Err(StoreError::Fenced { chat: 9 })),
        "{late:?}"
    );
    let Loaded::Session(saved) = store.load(UserId(9)).await.unwrap() else {
        panic!("the interview is there");
    };
    assert!(saved.transcript.is_empty(), "nothing of the late write");
    let record = serde_json::json!({"late": true});
    let late = fence::fenced(
        under_a,
        store.save_value(ai_interviewer::store::Folder::Chats, UserId(9), &record),
    )
    .await;
    assert!(matches!(late, Err(StoreError::Fenced { .. })), "{late:?}");

    // Work outside a chat's worker (the desk, the command line) writes unfenced.
    store.save(&session).await.unwrap();
}

#[tokio::test]
async fn the_replicas_counters_add_up_and_outlive_the_replica_that_counted() {
    use ai_interviewer::{
        metrics::{Metrics, kinds::AnswerKind},
        model::{Lang, ManualClock, Session, Style, UserId},
        store::InterviewStore,
    };

    let store = store().await;
    let interviews: std::sync::Arc<dyn InterviewStore> = std::sync::Arc::new(store.clone());
    let clock = std::sync::Arc::new(ManualClock::new(chrono::Utc::now()));
    let open = async || {
        Metrics::on_database(store.counters(), interviews.clone(), clock.clone())
            .await
            .unwrap()
    };
    let (a, b) = (open().await, open().await);
    for _ in 0..2 {
        a.answer(AnswerKind::Text);
    }
    for _ in 0..3 {
        b.answer(AnswerKind::Voice);
    }
    a.flush().await.unwrap();
    b.flush().await.unwrap();
    let seen_by_b = b.snapshot();
    assert_eq!(
        seen_by_b.all_time.answers(AnswerKind::Text),
        2,
        "a's, read by b"
    );
    assert_eq!(seen_by_b.all_time.answers(AnswerKind::Voice), 3);
    assert_eq!(seen_by_b.today.answers(AnswerKind::Text), 2);

    // A replica gone and a new one started: the counts stay, and the interviews in progress
    // are counted in the database.
    drop(a);
    store
        .save(&Session::new(
            1,
            UserId(5),
            Lang::En,
            Style::default(),
            chrono::Utc::now(),
        ))
        .await
        .unwrap();
    let c = open().await;
    let seen_by_c = c.snapshot();
    assert_eq!(seen_by_c.all_time.answers(AnswerKind::Text), 2);
    assert_eq!(seen_by_c.all_time.answers(AnswerKind::Voice), 3);
    assert_eq!(seen_by_c.active_interviews, 1);
}
