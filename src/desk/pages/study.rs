//! The studies: the list, with the form that creates one, and one study's page: where it
//! stands, its invite link, its interviews, its synthesis and the questions added to its plan.
//!
//! A study's own page asks the engine for its figures
//! ([`crate::interview::Engine::study_overview`]), which reads the study's session files: a
//! study's page is opened now and then, and the figures then agree with what the synthesis
//! rests on. The list of studies takes its figures from the index, so it reads no session
//! file however many there are. The interviews listed are the index's, so only those the
//! experts agreed to show.
//!
//! The synthesis is written in the background when the operator asks: one Claude request over
//! every settled report can take a minute or more, longer than a browser or a proxy in front
//! of the desk should be kept waiting. The page says it is being written until the run ends.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use askama::Template;
use axum::{
    Form,
    extract::{Path, Query, State as Shared, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Frame, Posted, attachment, checked, dollars, html, interview_href, lang_of, posted, same_site,
    shown, signed_message,
};
use crate::{
    desk::{Desk, auth::Signed},
    interview::{StudyOverview, synthesis},
    model::{Lang, NewStudy, Stage, Study, StudyError, StudyId, Style},
    store::StudyStoreError,
};

/// How the desk's latest synthesis run of a study stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// Being written.
    Writing,
    /// It ended in an error (the files could not be read or written); the log says which.
    Failed,
}

/// The synthesis runs the desk started, by study: one at a time per study, so a second press
/// of the button while one is written starts nothing.
#[derive(Debug, Default)]
pub(in crate::desk) struct Runs {
    by_study: Mutex<HashMap<StudyId, Run>>,
}

impl Runs {
    fn get(&self, id: &StudyId) -> Option<Run> {
        let runs = self.by_study.lock().unwrap_or_else(PoisonError::into_inner);
        runs.get(id).copied()
    }

    /// Marks a run of `id` begun; `false` when one is already being written.
    fn begin(&self, id: &StudyId) -> bool {
        let mut runs = self.by_study.lock().unwrap_or_else(PoisonError::into_inner);
        if runs.get(id) == Some(&Run::Writing) {
            return false;
        }
        runs.insert(id.clone(), Run::Writing);
        true
    }

    /// Records how the run of `id` ended: `None` when it wrote the synthesis.
    fn end(&self, id: &StudyId, failed: Option<Run>) {
        let mut runs = self.by_study.lock().unwrap_or_else(PoisonError::into_inner);
        match failed {
            Some(run) => runs.insert(id.clone(), run),
            None => runs.remove(id),
        };
    }
}

/// The page of study `id`.
fn study_href(id: &StudyId) -> String {
    format!("/studies/{id}")
}

/// A choice in one of the form's lists.
struct Choice {
    value: &'static str,
    name: String,
    chosen: bool,
}

/// What the creation form shows: empty, or what the operator typed when it was refused.
#[derive(Default)]
struct Draft {
    title: String,
    subject: String,
    lang: String,
    style: String,
    consent: String,
    experts: String,
}

impl Draft {
    fn of(form: &Posted) -> Draft {
        let text = |field: &Option<String>| field.clone().unwrap_or_default();
        Draft {
            title: text(&form.title),
            subject: text(&form.subject),
            lang: text(&form.lang),
            style: text(&form.style),
            consent: text(&form.consent),
            experts: text(&form.experts),
        }
    }
}

struct StudyLine {
    id: String,
    href: String,
    title: String,
    language: &'static str,
    style: String,
    created: String,
    open: bool,
    link: Option<String>,
    sought: String,
    joined: String,
    in_progress: String,
    completed: String,
    settled: String,
    cost: String,
}

#[derive(Template)]
#[template(path = "desk/studies.html")]
struct StudiesPage {
    frame: Frame,
    csrf: String,
    studies: Vec<StudyLine>,
    error: Option<String>,
    draft: Draft,
    languages: Vec<Choice>,
    styles: Vec<Choice>,
}

/// The bot's username for invite links, as the bot recorded it when it connected to Telegram
/// (`None` until it has once).
async fn bot_username(desk: &Desk) -> Option<String> {
    desk.engine
        .studies()
        .bot_username()
        .await
        .inspect_err(|error| tracing::warn!(%error, "the bot's username cannot be read"))
        .ok()
        .flatten()
}

/// Where study `id` stands, or `None` (logged) when its files cannot be read.
async fn overview(desk: &Desk, id: &StudyId) -> Option<StudyOverview> {
    desk.engine
        .study_overview(id)
        .await
        .inspect_err(
            |error| tracing::warn!(study = %id, %error, "a study's figures cannot be read"),
        )
        .ok()
}

/// Where study `id` stands for the list, from the index rather than the session files, so
/// the list costs no file reads per interview however many studies and interviews there are:
/// the interviews the experts agreed to show (an interview set aside is not counted), and the
/// latest synthesis's tokens. A study's own page reads its files ([`overview`]) and also
/// counts those joined without consent.
async fn listed_overview(desk: &Desk, id: &StudyId) -> Option<StudyOverview> {
    let (now, idle_after) = (desk.now(), desk.idle_after);
    let mut figures = desk.index.with_rows(|rows| {
        let mut figures = StudyOverview::default();
        for row in rows.values() {
            if row.study.as_ref() != Some(id) || row.place == crate::desk::index::Place::Archive {
                continue;
            }
            figures.joined += 1;
            if row.finished_at.is_none() {
                figures.in_progress += 1;
            } else {
                figures.completed += 1;
            }
            if row.state(now, idle_after).is_settled() {
                figures.settled += 1;
            }
            figures.tokens += row.tokens;
        }
        figures
    });
    match desk.engine.synthesis(id).await {
        Ok(synthesis) => {
            if let Some(synthesis) = synthesis {
                figures.tokens += synthesis.usage;
            }
        }
        Err(error) => {
            tracing::warn!(study = %id, %error, "a study's synthesis cannot be read");
            return None;
        }
    }
    figures.cost_usd = desk.price.map(|p| p.cost(&figures.tokens));
    Some(figures)
}

/// The studies and the creation form, showing `draft` and `error` when a creation was refused.
async fn list_page(
    desk: &Desk,
    signed: &Signed,
    status: StatusCode,
    draft: Draft,
    error: Option<&str>,
) -> Response {
    let frame = Frame::signed(desk, signed, "desk-nav-studies", "/studies");
    let t = &frame.t;
    let studies = match desk.engine.studies().list().await {
        Ok(studies) => studies,
        Err(error) => {
            tracing::error!(%error, "the studies cannot be read");
            return signed_message(
                desk,
                signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "desk-studies-unreadable",
            );
        }
    };
    let username = bot_username(desk).await;
    let mut lines = Vec::with_capacity(studies.len());
    // Newest first: the study being set up is the one the operator looks for.
    for study in studies.iter().rev() {
        let figures = listed_overview(desk, &study.id).await;
        let figure = |pick: fn(&StudyOverview) -> usize| {
            figures
                .as_ref()
                .map_or_else(|| "—".to_owned(), |o| pick(o).to_string())
        };
        lines.push(StudyLine {
            id: study.id.to_string(),
            href: study_href(&study.id),
            title: study.title.clone(),
            language: study.language.code(),
            style: t.style(study.style),
            created: shown(study.created_at),
            open: study.is_open(),
            link: username.as_deref().map(|u| study.invite.link(u)),
            sought: sought(study),
            joined: figure(|o| o.joined),
            in_progress: figure(|o| o.in_progress),
            completed: figure(|o| o.completed),
            settled: figure(|o| o.settled),
            cost: dollars(figures.as_ref().and_then(|o| o.cost_usd)),
        });
    }
    let chosen_lang = Lang::from_code(&draft.lang).unwrap_or(signed.lang);
    let languages = Lang::ALL
        .iter()
        .map(|lang| Choice {
            value: lang.code(),
            name: t.get(&format!("desk-lang-{}", lang.code())),
            chosen: *lang == chosen_lang,
        })
        .collect();
    let chosen_style = Style::from_id(&draft.style).unwrap_or_default();
    let styles = Style::ALL
        .iter()
        .map(|style| Choice {
            value: style.id(),
            name: t.style(*style),
            chosen: *style == chosen_style,
        })
        .collect();
    let error = error.map(|id| t.get(id));
    let page = StudiesPage {
        csrf: signed.csrf.clone(),
        studies: lines,
        error,
        draft,
        languages,
        styles,
        frame,
    };
    html(status, page)
}

/// "5", or "—" when the study did not say how many experts it seeks.
fn sought(study: &Study) -> String {
    match study.experts_sought {
        0 => "—".to_owned(),
        n => n.to_string(),
    }
}

pub(super) async fn list(Shared(desk): Shared<Arc<Desk>>, headers: HeaderMap) -> Response {
    let signed = match desk.signed(&headers) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    list_page(&desk, &signed, StatusCode::OK, Draft::default(), None).await
}

/// The creation form's post: a new open study, then its page; a refused field shows the form
/// again with what was typed and why.
pub(super) async fn create(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let signed = match checked(&desk, &headers, &form) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    let draft = Draft::of(&form);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let experts = match draft.experts.trim() {
        "" => 0,
        text => match text.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                return list_page(
                    &desk,
                    &signed,
                    refused,
                    draft,
                    Some("desk-study-bad-experts"),
                )
                .await;
            }
        },
    };
    let new = NewStudy {
        title: draft.title.clone(),
        subject: draft.subject.clone(),
        language: lang_of(form.lang.as_deref()),
        style: Style::from_id(&draft.style).unwrap_or_default(),
        consent: Some(draft.consent.clone()).filter(|c| !c.trim().is_empty()),
        experts_sought: experts,
    };
    match desk.engine.studies().create(new, desk.now()).await {
        Ok(study) => Redirect::to(&study_href(&study.id)).into_response(),
        Err(StudyStoreError::Study(StudyError::Length { what, .. })) => {
            let id = match what {
                "title" => "desk-study-bad-title",
                "subject" => "desk-study-bad-subject",
                _ => "desk-study-bad-consent",
            };
            list_page(&desk, &signed, refused, draft, Some(id)).await
        }
        Err(error) => {
            tracing::error!(%error, "a study could not be created");
            signed_message(
                &desk,
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "desk-studies-unreadable",
            )
        }
    }
}

/// The study of `/studies/{id}…`, or the answer to give instead (404 for an id that is not
/// one, or names no study).
async fn find(desk: &Desk, signed: &Signed, id: &str) -> Result<Study, Response> {
    let not_found = || signed_message(desk, signed, StatusCode::NOT_FOUND, "desk-study-not-found");
    let Some(id) = StudyId::parse(id) else {
        return Err(not_found());
    };
    match desk.engine.studies().get(&id).await {
        Ok(Some(study)) => Ok(study),
        Ok(None) => Err(not_found()),
        Err(error) => {
            tracing::error!(study = %id, %error, "a study cannot be read");
            Err(signed_message(
                desk,
                signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "desk-studies-unreadable",
            ))
        }
    }
}

struct InterviewLine {
    href: String,
    user: String,
    session: u32,
    name: String,
    state: String,
    state_id: &'static str,
    stage_number: usize,
    stage: String,
    completeness: u8,
    cost: String,
}

struct StageQuestions {
    stage: String,
    questions: Vec<String>,
}

struct SynthesisView {
    facts: Vec<(String, String)>,
    markdown: String,
}

#[derive(Template)]
#[template(path = "desk/study.html")]
struct StudyPage {
    frame: Frame,
    csrf: String,
    base: String,
    state: String,
    open: bool,
    language: &'static str,
    style: String,
    created: String,
    closed: Option<String>,
    link: Option<String>,
    subject: String,
    consent: Option<String>,
    figures: Vec<(String, String)>,
    interviews: Vec<InterviewLine>,
    writing: bool,
    failed: bool,
    synthesis: Option<SynthesisView>,
    /// The latest synthesis's questions for the next experts.
    proposed: usize,
    questions: Vec<StageQuestions>,
    added: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    /// How many questions the last "add" made new (after its redirect).
    added: Option<usize>,
}

pub(super) async fn page(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let signed = match desk.signed(&headers) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    let study = match find(&desk, &signed, &id).await {
        Ok(study) => study,
        Err(answer) => return answer,
    };
    let base = study_href(&study.id);
    let mut frame = Frame::signed(&desk, &signed, "desk-study", &base);
    frame.title = format!("{} · {}", frame.title, study.title);
    let t = &frame.t;
    let figures = overview(&desk, &study.id).await;
    let figure = |id: &str, pick: fn(&StudyOverview) -> usize| {
        let value = figures
            .as_ref()
            .map_or_else(|| "—".to_owned(), |o| pick(o).to_string());
        (t.get(id), value)
    };
    let figures_shown = vec![
        (t.get("desk-study-sought"), sought(&study)),
        figure("desk-study-joined", |o| o.joined),
        figure("desk-study-in-progress", |o| o.in_progress),
        figure("desk-study-completed", |o| o.completed),
        figure("desk-study-settled", |o| o.settled),
        (
            t.get("desk-study-cost"),
            dollars(figures.as_ref().and_then(|o| o.cost_usd)),
        ),
    ];
    let (now, idle_after) = (desk.now(), desk.idle_after);
    let mut rows = desk.index.with_rows(|rows| {
        rows.values()
            .filter(|row| row.study.as_ref() == Some(&study.id))
            .cloned()
            .collect::<Vec<_>>()
    });
    rows.sort_by_key(|row| (row.started_at, row.user, row.session));
    let interviews = rows
        .iter()
        .map(|row| {
            let state = row.state(now, idle_after);
            InterviewLine {
                href: interview_href(row.user, row.session),
                user: row.user.to_string(),
                session: row.session,
                name: row
                    .expert
                    .as_ref()
                    .map(|e| e.name.clone())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| row.user.to_string()),
                state: t.state(state),
                state_id: state.id(),
                stage_number: row.stage.number(),
                stage: t.stage(row.stage),
                completeness: row.completeness,
                cost: dollars(desk.cost(&row.tokens)),
            }
        })
        .collect();
    let run = desk.syntheses.get(&study.id);
    let latest = desk
        .engine
        .synthesis(&study.id)
        .await
        .inspect_err(
            |error| tracing::warn!(study = %study.id, %error, "a synthesis cannot be read"),
        )
        .ok()
        .flatten();
    let proposed = latest.as_ref().map_or(0, |s| s.questions.len());
    let synthesis = match latest {
        Some(latest) => {
            let markdown = match desk.engine.studies().synthesis_markdown(&study.id).await {
                Ok(Some(markdown)) => markdown,
                _ => synthesis::render(&latest),
            };
            let analysed = if latest.analysed {
                latest.model.clone().unwrap_or_default()
            } else {
                t.get("desk-synthesis-not-analysed")
            };
            let cost = latest.cost_usd.or_else(|| desk.cost(&latest.usage));
            let facts = vec![
                (t.get("desk-synthesis-written"), shown(latest.written_at)),
                (
                    t.get("desk-synthesis-experts"),
                    latest.experts.len().to_string(),
                ),
                (t.get("desk-synthesis-analysed"), analysed),
                (t.get("desk-synthesis-dropped"), latest.dropped.to_string()),
                (t.get("desk-synthesis-cost"), dollars(cost)),
            ];
            Some(SynthesisView { facts, markdown })
        }
        None => None,
    };
    let questions = Stage::ALL
        .iter()
        .filter_map(|stage| {
            let list = study.questions.get(stage).filter(|q| !q.is_empty())?;
            Some(StageQuestions {
                stage: format!("{}. {}", stage.number(), t.stage(*stage)),
                questions: list.clone(),
            })
        })
        .collect();
    let link = bot_username(&desk)
        .await
        .map(|username| study.invite.link(&username));
    let state = if study.is_open() {
        t.get("desk-study-open")
    } else {
        t.get("desk-study-closed")
    };
    let page = StudyPage {
        csrf: signed.csrf.clone(),
        base,
        state,
        open: study.is_open(),
        language: study.language.code(),
        style: t.style(study.style),
        created: shown(study.created_at),
        closed: study.closed_at.map(shown),
        link,
        subject: study.subject.clone(),
        consent: study.consent.clone(),
        figures: figures_shown,
        interviews,
        writing: run == Some(Run::Writing),
        failed: run == Some(Run::Failed),
        synthesis,
        proposed,
        questions,
        added: q
            .added
            .map(|n| format!("{} {n}", t.get("desk-study-questions-added"))),
        frame,
    };
    html(StatusCode::OK, page)
}

/// The session and study of a form posted to `/studies/{id}/…`, its CSRF token checked.
async fn posted_to(
    desk: &Desk,
    headers: &HeaderMap,
    form: &Posted,
    id: &str,
) -> Result<(Signed, Study), Response> {
    let signed = checked(desk, headers, form).map_err(|r| *r)?;
    let study = find(desk, &signed, id).await?;
    Ok((signed, study))
}

/// Closes the study's invite link: an expert who opens it later gets a polite word and the
/// normal start.
pub(super) async fn close(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let (signed, study) = match posted_to(&desk, &headers, &form, &id).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    match desk.engine.studies().close(&study.id, desk.now()).await {
        Ok(_) => Redirect::to(&same_site(form.back, &study_href(&study.id))).into_response(),
        Err(error) => {
            tracing::error!(study = %study.id, %error, "a study could not be closed");
            signed_message(
                &desk,
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "desk-studies-unreadable",
            )
        }
    }
}

/// Starts writing the study's synthesis in the background and returns to its page, which
/// says it is being written until the run ends.
pub(super) async fn synthesize(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let study = match posted_to(&desk, &headers, &form, &id).await {
        Ok((_, study)) => study,
        Err(answer) => return answer,
    };
    if desk.syntheses.begin(&study.id) {
        let (running, id) = (desk.clone(), study.id.clone());
        tokio::spawn(async move {
            let failed = match running.engine.synthesize(&id).await {
                Ok(_) => None,
                Err(error) => {
                    tracing::warn!(study = %id, %error, "the study's synthesis could not be written");
                    Some(Run::Failed)
                }
            };
            running.syntheses.end(&id, failed);
        });
    }
    Redirect::to(&study_href(&study.id)).into_response()
}

/// Adds the latest synthesis's questions for the next experts to the study's plan.
pub(super) async fn add_questions(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<Posted>, FormRejection>,
) -> Response {
    let form = posted(form);
    let (signed, study) = match posted_to(&desk, &headers, &form, &id).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    match desk.engine.add_synthesis_questions(&study.id).await {
        Ok(added) => {
            Redirect::to(&format!("{}?added={added}", study_href(&study.id))).into_response()
        }
        Err(StudyStoreError::Study(StudyError::Closed)) => {
            signed_message(&desk, &signed, StatusCode::CONFLICT, "desk-study-is-closed")
        }
        Err(error) => {
            tracing::error!(study = %study.id, %error, "questions could not be added to a study");
            signed_message(
                &desk,
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "desk-studies-unreadable",
            )
        }
    }
}

/// `synthesis.md` or `synthesis.json` of a study: its latest synthesis as kept.
pub(super) async fn download(
    Shared(desk): Shared<Arc<Desk>>,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let signed = match desk.signed(&headers) {
        Ok(signed) => signed,
        Err(refused) => return *refused,
    };
    let study = match find(&desk, &signed, &id).await {
        Ok(study) => study,
        Err(answer) => return answer,
    };
    let studies = desk.engine.studies();
    let name = format!("study-{}-synthesis", study.id);
    let found = match file.as_str() {
        "synthesis.md" => studies
            .synthesis_markdown(&study.id)
            .await
            .map(|md| md.map(|md| ("text/markdown; charset=utf-8", "md", md.into_bytes()))),
        "synthesis.json" => studies
            .synthesis_json(&study.id)
            .await
            .map(|json| json.map(|json| ("application/json", "json", json))),
        _ => Ok(None),
    };
    match found {
        Ok(Some((content_type, extension, body))) => {
            attachment(content_type, &format!("{name}.{extension}"), body)
        }
        Ok(None) => signed_message(&desk, &signed, StatusCode::NOT_FOUND, "desk-not-found"),
        Err(error) => {
            tracing::error!(study = %study.id, %error, "a synthesis cannot be read");
            signed_message(
                &desk,
                &signed,
                StatusCode::INTERNAL_SERVER_ERROR,
                "desk-studies-unreadable",
            )
        }
    }
}
