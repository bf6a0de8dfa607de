//! Delivering what the engine decided to the chat: the next question (with a header when a
//! stage begins), the end of the interview with its report, or a localized notice. Users see
//! no error text: failures are logged and they are told, in their language, to try again.

use super::{
    keyboards,
    send::{self, Part},
    services::{Services, Who},
    state::ChatState,
};
use crate::{
    i18n::{Lang, Msg},
    interview::{EngineError, Finished, Outcome, Rejection, Reply, Stage},
};

/// The parts of an interviewer message: a bold header naming the stage when `header` is set.
pub fn question(services: &Services, lang: Lang, reply: &Reply, header: bool) -> Vec<Part> {
    let title = header.then(|| stage_title(services, lang, reply.stage));
    send::parts(title.as_deref(), &reply.text)
}

/// "Stage 3/9 · Essence of the expertise".
pub fn stage_title(services: &Services, lang: Lang, stage: Stage) -> String {
    services.text(
        lang,
        &Msg::StageHeader {
            number: stage.number(),
            total: Stage::COUNT,
            stage: services.text(lang, &Msg::stage(stage)),
        },
    )
}

/// Delivers an engine outcome to the user. `texts` are the messages the turn was made of,
/// kept if the session turns out to be idle.
pub async fn deliver(
    services: &Services,
    who: Who,
    outcome: Result<Outcome, EngineError>,
    texts: Vec<String>,
) {
    if let Err(error) = try_deliver(services, who, outcome, texts).await {
        tracing::warn!(user = %who.user, %error, "could not deliver a reply");
    }
}

async fn try_deliver(
    services: &Services,
    who: Who,
    outcome: Result<Outcome, EngineError>,
    texts: Vec<String>,
) -> Result<(), super::error::BotError> {
    let bot = &services.bot;
    let say = |msg: Msg| services.text(who.lang, &msg);
    match outcome {
        Ok(Outcome::Reply(reply)) => {
            send::send_parts(
                bot,
                who.chat,
                &question(services, who.lang, &reply, reply.stage_changed),
                None,
            )
            .await?;
        }
        Ok(Outcome::Finished(finished)) => finish(services, who, *finished).await?,
        Ok(Outcome::Rejected(Rejection::Empty)) => {
            send::say(bot, who.chat, &say(Msg::AnswerEmpty)).await?;
        }
        Ok(Outcome::Rejected(Rejection::TooLong { length, limit })) => {
            send::say(bot, who.chat, &say(Msg::AnswerTooLong { length, limit })).await?;
        }
        Ok(Outcome::Idle {
            session,
            stage,
            idle_for,
            ..
        }) => {
            let text = say(Msg::IdlePrompt {
                minutes: (idle_for.as_secs() / 60) as i64,
                stage: services.text(who.lang, &Msg::stage(stage)),
            });
            let keyboard = keyboards::resume_or_restart(services.catalog(), who.lang, session);
            let held = texts.into_iter().filter(|t| !t.trim().is_empty()).collect();
            let dialogue = services.dialogue(who.chat);
            // This runs outside the chat's update queue: a press on the buttons must not be
            // handled before the state naming this prompt is written.
            let _writing = services.prompt_locks.lock(&who.user).await;
            services
                .await_choice(who, &dialogue, &text, keyboard, |prompt| {
                    ChatState::ResumeOrRestart {
                        prompt,
                        session,
                        held,
                    }
                })
                .await?;
        }
        Ok(Outcome::NoInterview) => {
            services.dialogue(who.chat).update(ChatState::Idle).await?;
            send::say(bot, who.chat, &say(Msg::SendStart)).await?;
        }
        Ok(Outcome::Quarantined) => {
            services.dialogue(who.chat).update(ChatState::Idle).await?;
            let text = format!(
                "{}\n\n{}",
                say(Msg::SessionQuarantined),
                say(Msg::SendStart)
            );
            send::say(bot, who.chat, &text).await?;
        }
        Ok(Outcome::Superseded) => {}
        Err(error) => {
            tracing::error!(user = %who.user, %error, "turn failed");
            send::say(bot, who.chat, &say(Msg::InternalError)).await?;
        }
    }
    Ok(())
}

/// The closing words, the notice, and the report as a Markdown document.
async fn finish(
    services: &Services,
    who: Who,
    finished: Finished,
) -> Result<(), super::error::BotError> {
    let bot = &services.bot;
    let lang = finished.language;
    if let Some(closing) = &finished.closing {
        send::send_parts(
            bot,
            who.chat,
            &question(services, lang, closing, false),
            None,
        )
        .await?;
    }
    services.dialogue(who.chat).update(ChatState::Idle).await?;
    send::say(bot, who.chat, &services.text(lang, &Msg::InterviewComplete)).await?;
    let caption = services.text(lang, &Msg::ReportCaption);
    send::document(
        bot,
        who.chat,
        "knowledge-report.md",
        finished.report.into_bytes(),
        Some(caption),
    )
    .await?;
    Ok(())
}
