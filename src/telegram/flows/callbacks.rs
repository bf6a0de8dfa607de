//! Button presses. The data decodes into a [`Callback`], which is then checked against the
//! chat's state: a button is live only on the message the state is waiting on, and buttons
//! tied to an interview only for that interview. Anything else (an old button, another
//! interview's button, forged or unknown data) is answered with a short notice and changes
//! nothing. Every press is answered, so the client never shows a spinner.

use teloxide::{prelude::*, types::MessageId};

use super::{commands, setup};
use crate::{
    i18n::Msg,
    telegram::{
        callback::Callback,
        error::{HandlerResult, Tell},
        send,
        services::{Services, Who},
        state::{ChatDialogue, ChatState},
    },
};

/// Handles a button press.
pub async fn press(
    services: Services,
    who: Who,
    dialogue: ChatDialogue,
    query: CallbackQuery,
) -> HandlerResult {
    // A turn worker may be sending a prompt right now: wait until its state is written, then
    // read the state fresh.
    drop(services.prompt_locks.lock(&who.user).await);
    let state = dialogue.get().await.tell(who)?.unwrap_or_default();
    let message = query.message.as_ref().map(|m| m.id());
    let callback = query.data.as_deref().and_then(Callback::decode);
    let live = |prompt: i32| message == Some(MessageId(prompt));
    let bot = &services.bot;
    let answer = |text: Option<String>| {
        let id = query.id.clone();
        async move {
            let result = send::retrying(|| {
                let mut request = bot.api.answer_callback_query(id.clone());
                if let Some(text) = &text {
                    request = request.text(text.clone());
                }
                request.send()
            })
            .await;
            if let Err(error) = result {
                tracing::debug!(%error, "callback answer failed");
            }
        }
    };
    let Some(message) = message else {
        answer(Some(services.text(who.lang, &Msg::StaleButton))).await;
        return Ok(());
    };
    match (callback, state) {
        (
            Some(Callback::Language(lang)),
            ChatState::ChoosingLanguage {
                prompt,
                during_interview,
            },
        ) if live(prompt) => {
            answer(None).await;
            setup::language_chosen(&services, who, &dialogue, lang, message, during_interview).await
        }
        (Some(Callback::Style(style)), ChatState::ChoosingStyle { prompt }) if live(prompt) => {
            answer(None).await;
            setup::style_chosen(&services, who, &dialogue, style, message).await
        }
        (Some(Callback::Begin), ChatState::Briefing { style, prompt }) if live(prompt) => {
            answer(None).await;
            setup::begin(&services, who, &dialogue, style, message).await
        }
        (
            Some(Callback::Resume(id)),
            ChatState::ResumeOrRestart {
                prompt,
                session,
                held,
            },
        ) if live(prompt) && id == session => {
            answer(None).await;
            setup::resume(&services, who, &dialogue, message, held).await
        }
        (
            Some(Callback::StartOver(id)),
            ChatState::ResumeOrRestart {
                prompt, session, ..
            },
        ) if live(prompt) && id == session => {
            answer(None).await;
            setup::start_over(&services, who, &dialogue, message).await
        }
        (Some(Callback::ResetConfirm(id)), _)
            if current_session(&services, who).await? == Some(id) =>
        {
            answer(None).await;
            services.engine.reset(who.user).await.tell(who)?;
            send::settle(
                bot,
                who.chat,
                message,
                &services.text(who.lang, &Msg::ResetDone),
            )
            .await;
            setup::ask_style(&services, who, &dialogue, None).await
        }
        (Some(Callback::DeleteConfirm(issued)), _) if fresh(issued) => {
            answer(None).await;
            let removed = services.engine.delete(who.user).await.tell(who)?;
            tracing::info!(user = %who.user, removed, "erased on request");
            send::settle(
                bot,
                who.chat,
                message,
                &services.text(who.lang, &Msg::DeleteDone),
            )
            .await;
            Ok(())
        }
        (Some(Callback::Cancel), _) => {
            answer(None).await;
            send::settle(
                bot,
                who.chat,
                message,
                &services.text(who.lang, &Msg::Cancelled),
            )
            .await;
            Ok(())
        }
        (callback, state) => {
            tracing::info!(user = %who.user, data = ?query.data, ?callback, ?state, "stale or unknown button");
            answer(Some(services.text(who.lang, &Msg::StaleButton))).await;
            Ok(())
        }
    }
}

async fn current_session(
    services: &Services,
    who: Who,
) -> Result<Option<u32>, crate::telegram::error::HandlerError> {
    Ok(services
        .engine
        .session(who.user)
        .await
        .tell(who)?
        .map(|s| s.id))
}

/// Whether a /delete confirmation issued at `issued` (unix minutes) is still valid.
fn fresh(issued: u32) -> bool {
    let now = commands::unix_minutes();
    issued <= now + 1 && now - issued.min(now) <= commands::DELETE_CONFIRM_MINUTES
}
