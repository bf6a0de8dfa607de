//! Messages that are not commands: answers during an interview, text at other times, media
//! the bot does not read, and anything in a group.

use teloxide::prelude::*;

use crate::{
    i18n::{Lang, Msg},
    telegram::{
        error::{HandlerResult, Tell},
        send,
        services::{Services, Who},
        state::{ChatDialogue, ChatState},
        turns,
    },
};

/// Text: an answer during an interview; otherwise a pointer to what to do.
pub async fn text(
    services: Services,
    who: Who,
    dialogue: ChatDialogue,
    state: ChatState,
    msg: Message,
) -> HandlerResult {
    let text = msg.text().unwrap_or_default().to_owned();
    match state {
        ChatState::Interviewing => turns::submit(&services, who, text),
        ChatState::Idle => match services.engine.session(who.user).await.tell(who)? {
            // The chat state was lost (a deleted file), but the interview is there.
            Some(_) => {
                dialogue.update(ChatState::Interviewing).await.tell(who)?;
                turns::submit(&services, who, text);
            }
            None => {
                send::say(
                    &services.bot,
                    who.chat,
                    &services.text(who.lang, &Msg::SendStart),
                )
                .await?;
            }
        },
        ChatState::ResumeOrRestart {
            prompt,
            session,
            mut held,
        } => {
            held.push(text);
            dialogue
                .update(ChatState::ResumeOrRestart {
                    prompt,
                    session,
                    held,
                })
                .await
                .tell(who)?;
            send::say(
                &services.bot,
                who.chat,
                &services.text(who.lang, &Msg::ChooseWithButtons),
            )
            .await?;
        }
        ChatState::ChoosingLanguage { .. }
        | ChatState::ChoosingStyle { .. }
        | ChatState::Briefing { .. } => {
            send::say(
                &services.bot,
                who.chat,
                &services.text(who.lang, &Msg::ChooseWithButtons),
            )
            .await?;
        }
    }
    Ok(())
}

/// Whether a message is a voice note or an audio file.
pub fn is_audio(msg: &Message) -> bool {
    msg.voice().is_some()
        || msg.audio().is_some()
        || msg
            .document()
            .and_then(|d| d.mime_type.as_ref())
            .is_some_and(|m| m.type_() == "audio")
}

/// Voice notes and audio files: not supported yet.
pub async fn audio(services: Services, who: Who) -> HandlerResult {
    send::say(
        &services.bot,
        who.chat,
        &services.text(who.lang, &Msg::VoiceUnsupported),
    )
    .await?;
    Ok(())
}

/// Photos, stickers, documents, locations and the rest: what the bot accepts.
pub async fn unsupported(services: Services, who: Who) -> HandlerResult {
    send::say(
        &services.bot,
        who.chat,
        &services.text(who.lang, &Msg::UnsupportedMessage),
    )
    .await?;
    Ok(())
}

/// Anything in a group: one explanation per group that interviews run in private chats.
pub async fn group(services: Services, msg: Message) -> HandlerResult {
    if services.access.tell_group(msg.chat.id.0) {
        let lang = msg
            .from
            .as_ref()
            .and_then(|u| u.language_code.as_deref())
            .and_then(Lang::from_code)
            .unwrap_or(services.default_language);
        send::say(
            &services.bot,
            msg.chat.id,
            &services.text(lang, &Msg::PrivateOnly),
        )
        .await?;
    }
    Ok(())
}
