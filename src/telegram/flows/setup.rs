//! The setup flow: /start → language → interviewer personality → briefing → 🚀 Begin → the
//! first question; and the Resume / Start over choice for an interview already under way.

use teloxide::types::MessageId;

use crate::{
    i18n::{Lang, Msg},
    interview::{Session, Style},
    telegram::{
        delivery,
        error::{HandlerResult, Tell},
        keyboards,
        send::{self, Typing},
        services::{Services, Who},
        state::{ChatDialogue, ChatState},
        turns,
    },
};

/// /start: offers to resume an interview under way, else asks for the language.
pub async fn start(
    services: Services,
    who: Who,
    dialogue: ChatDialogue,
    first_name: String,
) -> HandlerResult {
    match services.engine.session(who.user).await.tell(who)? {
        Some(session) => offer_resume(&services, who, &dialogue, &session, Vec::new()).await,
        None => {
            let text = services.text(who.lang, &Msg::Welcome { name: first_name });
            ask_language(&services, who, &dialogue, &text, false).await
        }
    }
}

/// Shows the language buttons (the detected language first).
pub async fn ask_language(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    text: &str,
    during_interview: bool,
) -> HandlerResult {
    let keyboard = keyboards::languages(services.catalog(), who.lang);
    services
        .await_choice(who, dialogue, text, keyboard, |prompt| {
            ChatState::ChoosingLanguage {
                prompt,
                during_interview,
            }
        })
        .await
        .tell(who)
}

/// A language button: remembers it, then goes on with the setup or switches the interview.
pub async fn language_chosen(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    lang: Lang,
    prompt: MessageId,
    during_interview: bool,
) -> HandlerResult {
    let who = Who { lang, ..who };
    services.remember_language(who.user, lang).await.tell(who)?;
    send::settle(
        &services.bot,
        who.chat,
        prompt,
        &services.text(lang, &Msg::LanguageChosen),
    )
    .await;
    if during_interview
        && services
            .engine
            .set_language(who.user, lang)
            .await
            .tell(who)?
    {
        dialogue.update(ChatState::Interviewing).await.tell(who)?;
        send::say(
            &services.bot,
            who.chat,
            &services.text(lang, &Msg::LanguageChanged),
        )
        .await?;
        return Ok(());
    }
    ask_style(services, who, dialogue, None).await
}

/// Shows the five personalities, each with its one-line description.
pub async fn ask_style(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    intro: Option<Msg>,
) -> HandlerResult {
    let mut text = String::new();
    if let Some(intro) = intro {
        text.push_str(&services.text(who.lang, &intro));
        text.push_str("\n\n");
    }
    text.push_str(&services.text(who.lang, &Msg::ChooseStyle));
    for style in Style::ALL {
        let name = services.text(who.lang, &Msg::style(style));
        let description = services.text(
            who.lang,
            &Msg::StyleDescription {
                style: style.id().to_owned(),
            },
        );
        text.push_str(&format!("\n\n• {name}: {description}"));
    }
    let keyboard = keyboards::styles(services.catalog(), who.lang);
    services
        .await_choice(who, dialogue, &text, keyboard, |prompt| {
            ChatState::ChoosingStyle { prompt }
        })
        .await
        .tell(who)
}

/// A personality button: shows the briefing and its Begin button.
pub async fn style_chosen(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    style: Style,
    prompt: MessageId,
) -> HandlerResult {
    let name = services.text(who.lang, &Msg::style(style));
    send::settle(
        &services.bot,
        who.chat,
        prompt,
        &services.text(who.lang, &Msg::StyleChosen { style: name }),
    )
    .await;
    let keyboard = keyboards::begin(services.catalog(), who.lang);
    let briefing = services.text(who.lang, &Msg::Briefing);
    services
        .await_choice(who, dialogue, &briefing, keyboard, |prompt| {
            ChatState::Briefing { style, prompt }
        })
        .await
        .tell(who)
}

/// 🚀 Begin: the interview starts and its first question is sent.
pub async fn begin(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    style: Style,
    prompt: MessageId,
) -> HandlerResult {
    let briefing = services.text(who.lang, &Msg::Briefing);
    send::settle(&services.bot, who.chat, prompt, &briefing).await;
    // Answers typed from here on are taken as answers, even while the first question is coming.
    dialogue.update(ChatState::Interviewing).await.tell(who)?;
    let typing = Typing::start(&services.bot, who.chat);
    let begun = services
        .engine
        .begin(who.user, who.lang, style)
        .await
        .tell(who)?;
    drop(typing);
    if begun.quarantined {
        send::say(
            &services.bot,
            who.chat,
            &services.text(who.lang, &Msg::SessionQuarantined),
        )
        .await?;
    }
    let parts = delivery::question(services, who.lang, &begun.reply, true);
    send::send_parts(&services.bot, who.chat, &parts, None).await?;
    Ok(())
}

/// Offers Resume / Start over for the interview under way; `held` are answers typed meanwhile.
pub async fn offer_resume(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    session: &Session,
    held: Vec<String>,
) -> HandlerResult {
    let text = services.text(
        who.lang,
        &Msg::InProgress {
            stage: services.text(who.lang, &Msg::stage(session.stage)),
            answers: session.answers(),
        },
    );
    let keyboard = keyboards::resume_or_restart(services.catalog(), who.lang, session.id);
    let session = session.id;
    services
        .await_choice(who, dialogue, &text, keyboard, |prompt| {
            ChatState::ResumeOrRestart {
                prompt,
                session,
                held,
            }
        })
        .await
        .tell(who)
}

/// ▶️ Resume: the last question again, then any answers typed while the choice was pending.
pub async fn resume(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    prompt: MessageId,
    held: Vec<String>,
) -> HandlerResult {
    let Some(reply) = services.engine.resume(who.user).await.tell(who)? else {
        dialogue.update(ChatState::Idle).await.tell(who)?;
        send::say(
            &services.bot,
            who.chat,
            &services.text(who.lang, &Msg::SendStart),
        )
        .await?;
        return Ok(());
    };
    let stage = services.text(who.lang, &Msg::stage(reply.stage));
    send::settle(
        &services.bot,
        who.chat,
        prompt,
        &services.text(who.lang, &Msg::Resumed { stage }),
    )
    .await;
    dialogue.update(ChatState::Interviewing).await.tell(who)?;
    if held.is_empty() {
        let parts = delivery::question(services, who.lang, &reply, true);
        send::send_parts(&services.bot, who.chat, &parts, None).await?;
    } else {
        for text in held {
            turns::submit(services, who, text);
        }
    }
    Ok(())
}

/// 🔄 Start over: the interview is archived and a new one is set up.
pub async fn start_over(
    services: &Services,
    who: Who,
    dialogue: &ChatDialogue,
    prompt: MessageId,
) -> HandlerResult {
    services.engine.reset(who.user).await.tell(who)?;
    send::settle(
        &services.bot,
        who.chat,
        prompt,
        &services.text(who.lang, &Msg::ResetDone),
    )
    .await;
    ask_style(services, who, dialogue, None).await
}
