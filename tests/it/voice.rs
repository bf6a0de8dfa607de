//! The voice pipeline against real audio fixtures, real ffmpeg and a fake AssemblyAI.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use ai_interviewer::{
    i18n::{Catalog, Lang, Msg},
    voice::{
        AssemblyAiClient, AssemblyAiError, AudioKind, AudioMeta, Codec, Container, FfmpegStatus,
        StartupWarning, Submission, Transcriber, VoiceError, VoiceEvents, VoiceNote,
        assemblyai::{Completed, LanguageRequest, PollPolicy},
        check_ffmpeg,
        probe::{ProbeError, probe},
        transcode::{TranscodeError, Transcoder},
    },
    voice::{SpeechModels, VoiceConfig},
};
use bytes::Bytes;
use secrecy::SecretString;
use tokio::sync::mpsc;

use crate::support::{
    assemblyai::{API_KEY, Call, Failure, FakeAssemblyAi, Script},
    assemblyai::{quick_poll, quick_retries},
    audio, eventually, settings,
};

const TEN_MINUTES: Duration = Duration::from_secs(600);

#[test]
fn every_fixture_is_probed_for_container_codec_rate_channels_and_duration() {
    let cases = [
        ("voice-en.ogg", Container::Ogg, Codec::Opus, 48_000, 2.55),
        ("voice-ru.ogg", Container::Ogg, Codec::Opus, 48_000, 3.05),
        ("speech-en.mp3", Container::Mpeg, Codec::Mpeg, 22_050, 2.61),
        ("speech-en.m4a", Container::Mp4, Codec::Aac, 16_000, 2.54),
        ("speech-en.wav", Container::Wav, Codec::Pcm, 8_000, 0.8),
        ("speech-en.flac", Container::Flac, Codec::Flac, 8_000, 0.6),
        (
            "speech-en.webm",
            Container::Matroska,
            Codec::Opus,
            48_000,
            2.55,
        ),
        ("video-note.mp4", Container::Mp4, Codec::Aac, 16_000, 1.0),
    ];
    for (name, container, codec, rate, seconds) in cases {
        let info =
            probe(&audio(name), None, None, TEN_MINUTES).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(info.container, container, "{name}");
        assert_eq!(info.codec, codec, "{name}");
        assert_eq!(info.sample_rate, Some(rate), "{name}");
        assert_eq!(info.channels, Some(1), "{name}");
        let measured = info.duration.as_secs_f64();
        assert!(
            (measured - seconds).abs() < 0.1,
            "{name}: {measured} s, expected about {seconds} s"
        );
        assert_eq!(info.is_ogg_opus(), container == Container::Ogg, "{name}");
    }
}

#[test]
fn a_corrupt_file_is_refused_as_unreadable() {
    for bytes in [
        audio("corrupt.ogg"),
        b"%PDF-1.7 not audio at all".repeat(100),
        Vec::new(),
    ] {
        assert!(
            matches!(
                probe(&bytes, Some("ogg"), Some("audio/ogg"), TEN_MINUTES),
                Err(ProbeError::Unreadable(_))
            ),
            "{} bytes",
            bytes.len()
        );
    }
}

#[test]
fn eleven_minutes_of_silence_in_a_tiny_voice_note_are_counted_exactly_and_refused() {
    let bytes = audio("silence-11min.ogg");
    assert!(bytes.len() < 20_000, "{} bytes", bytes.len());
    assert_eq!(
        probe(&bytes, None, None, TEN_MINUTES),
        Err(ProbeError::TooLong { limit: TEN_MINUTES })
    );
    assert_eq!(
        probe(&bytes, None, None, Duration::from_secs(659)),
        Err(ProbeError::TooLong {
            limit: Duration::from_secs(659)
        }),
        "a second over is over"
    );
    // Exactly at the limit passes: the encoder's delay and padding are not counted.
    let info = probe(&bytes, None, None, Duration::from_secs(660)).unwrap();
    assert!(
        (info.duration.as_secs_f64() - 660.0).abs() < 0.01,
        "{:?}",
        info.duration
    );
}

// ---------------------------------------------------------------------------------------------
// The AssemblyAI client against the fake.

fn voice_settings(fake: &FakeAssemblyAi, vars: &[(&str, String)]) -> VoiceConfig {
    let mut all = vec![
        ("ASSEMBLYAI_BASE_URL", fake.url.clone()),
        ("ASSEMBLYAI_API_KEY", API_KEY.to_owned()),
        ("ASSEMBLYAI_TIMEOUT_SECONDS", "5".to_owned()),
    ];
    all.extend(vars.iter().cloned());
    settings(&all).voice
}

/// A client with `key` and these speech model lists, set as given (a list the settings would
/// refuse included: what the client sends is what is under test).
fn client_with(fake: &FakeAssemblyAi, key: &str, models: SpeechModels) -> AssemblyAiClient {
    let mut settings = voice_settings(fake, &[]).assemblyai;
    settings.speech_models = models;
    AssemblyAiClient::new(&settings, SecretString::from(key.to_owned()))
        .with_retry(quick_retries(2))
        .with_poll(quick_poll())
}

/// The lists as given, English then Russian.
fn models(en: &[&str], ru: &[&str]) -> SpeechModels {
    let list = |models: &[&str]| models.iter().map(|m| (*m).to_owned()).collect();
    SpeechModels {
        en: list(en),
        ru: list(ru),
    }
}

/// A client with the default lists.
fn client(fake: &FakeAssemblyAi) -> AssemblyAiClient {
    client_with(fake, API_KEY, SpeechModels::default())
}

async fn transcribe_with(
    client: &AssemblyAiClient,
    bytes: &[u8],
    language: LanguageRequest,
) -> Result<Completed, AssemblyAiError> {
    let upload = client.upload(Bytes::copy_from_slice(bytes)).await?;
    let id = client.submit(&upload, language).await?;
    client.wait(&id).await
}

const ENGLISH: &str = "I repair diesel engines for a living.";
const RUSSIAN: &str = "Я двадцать лет ремонтирую дизельные двигатели.";

#[tokio::test]
async fn the_client_uploads_raw_bytes_and_reads_the_completed_transcript() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en").confidence(0.91));
    let done = transcribe_with(&client(&fake), &ogg, LanguageRequest::Known(Lang::En))
        .await
        .unwrap();
    assert_eq!(done.text, ENGLISH);
    assert!((done.confidence - 0.91).abs() < 1e-9);
    assert_eq!(done.speech_model.as_deref(), Some("assemblyai-stt-3-7"));
    assert_eq!(done.language_code.as_deref(), Some("en"));
    assert_eq!(done.audio_duration, Some(Duration::from_secs(3)));
    let uploads = fake.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].bytes.as_ref(), ogg.as_slice());
    assert_eq!(
        uploads[0].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert!(
        fake.requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some(API_KEY)),
        "the key goes as it is, without `Bearer`"
    );
    let create = &fake.creates()[0];
    assert_eq!(create["language_code"], "en");
    assert_eq!(
        create["speech_models"],
        serde_json::json!(["assemblyai-stt-3-7", "universal-2"]),
        "English gets the English list"
    );
    assert!(create.get("speech_model").is_none(), "never the singular");
    assert!(create.get("language_detection").is_none());
    assert!(
        fake.count(Call::Poll) >= 2,
        "queued, processing, then completed"
    );
}

#[tokio::test]
async fn an_unknown_speech_model_is_a_configuration_error_carrying_the_apis_message() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    let err = transcribe_with(
        &client_with(
            &fake,
            API_KEY,
            models(&["universal-3-pro-max", "universal-2"], &["universal-2"]),
        ),
        &ogg,
        LanguageRequest::Known(Lang::En),
    )
    .await
    .unwrap_err();
    match &err {
        AssemblyAiError::Configuration { status, message } => {
            assert_eq!(*status, 400);
            assert!(message.contains("Invalid speech model"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_configuration());
    assert_eq!(fake.count(Call::Create), 1, "a 400 is not retried");
}

#[tokio::test]
async fn russian_asked_of_models_without_russian_is_a_configuration_error_without_fallback() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-ru.ogg");
    fake.script(&ogg, Script::new(RUSSIAN, "ru"));
    let err = transcribe_with(
        &client_with(
            &fake,
            API_KEY,
            models(
                &["universal-2"],
                &["assemblyai-stt-3-7", "universal-3-5-pro"],
            ),
        ),
        &ogg,
        LanguageRequest::Known(Lang::Ru),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AssemblyAiError::Configuration { status: 400, message } if message.contains("`ru`")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_default_model_list_routes_russian_to_the_model_that_has_it() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-ru.ogg");
    fake.script(&ogg, Script::new(RUSSIAN, "ru"));
    let done = transcribe_with(&client(&fake), &ogg, LanguageRequest::Known(Lang::Ru))
        .await
        .unwrap();
    assert_eq!(done.speech_model.as_deref(), Some("universal-2"));
    assert_eq!(done.text, RUSSIAN);
    assert_eq!(
        fake.creates()[0]["speech_models"],
        serde_json::json!(["universal-2"]),
        "Russian gets the Russian list"
    );
}

#[tokio::test]
async fn each_language_sends_its_own_list_and_the_first_model_that_has_it_is_used() {
    let fake = FakeAssemblyAi::start().await;
    fake.set_languages("assemblyai-stt-3-7", &["en", "ru"]);
    let client = client_with(
        &fake,
        API_KEY,
        models(
            &["universal-3-5-pro", "universal-2"],
            &["assemblyai-stt-3-7", "universal-2"],
        ),
    );
    let (en, ru) = (audio("voice-en.ogg"), audio("voice-ru.ogg"));
    fake.script(&en, Script::new(ENGLISH, "en"));
    fake.script(&ru, Script::new(RUSSIAN, "ru"));
    let english = transcribe_with(&client, &en, LanguageRequest::Known(Lang::En))
        .await
        .unwrap();
    let russian = transcribe_with(&client, &ru, LanguageRequest::Known(Lang::Ru))
        .await
        .unwrap();
    let sent: Vec<_> = fake
        .creates()
        .iter()
        .map(|c| (c["language_code"].clone(), c["speech_models"].clone()))
        .collect();
    assert_eq!(
        sent,
        [
            (
                "en".into(),
                serde_json::json!(["universal-3-5-pro", "universal-2"])
            ),
            (
                "ru".into(),
                serde_json::json!(["assemblyai-stt-3-7", "universal-2"])
            ),
        ]
    );
    assert_eq!(english.speech_model.as_deref(), Some("universal-3-5-pro"));
    assert_eq!(russian.speech_model.as_deref(), Some("assemblyai-stt-3-7"));
}

#[tokio::test]
async fn a_rejected_key_is_a_configuration_error_and_is_not_retried() {
    let fake = FakeAssemblyAi::start().await;
    let err = client_with(&fake, "aai-wrong", SpeechModels::default())
        .upload(Bytes::from_static(b"OggS"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AssemblyAiError::Configuration {
            status: 401,
            message: "Authentication error, API token missing/invalid".into()
        }
    );
    assert_eq!(fake.count(Call::Upload), 1);
    assert!(!err.to_string().contains("aai-wrong"));
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_is_waited_out_as_long_as_the_api_asks() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    fake.fail(Call::Upload, [Failure::rate_limited("7")]);
    let done = transcribe_with(&client(&fake), &ogg, LanguageRequest::Known(Lang::En))
        .await
        .unwrap();
    assert_eq!(done.text, ENGLISH);
    let uploads: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.call == Call::Upload)
        .collect();
    assert_eq!(uploads.len(), 2);
    let waited = uploads[1].at - uploads[0].at;
    assert!(waited >= Duration::from_secs(7), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn absurd_retry_after_values_are_capped_and_never_panic() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    fake.fail(
        Call::Create,
        [
            Failure::rate_limited("99999999999999999999999"),
            Failure::rate_limited("1e300"),
        ],
    );
    let done = transcribe_with(&client(&fake), &ogg, LanguageRequest::Known(Lang::En))
        .await
        .unwrap();
    assert_eq!(done.text, ENGLISH);
    let creates: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.call == Call::Create)
        .collect();
    assert_eq!(creates.len(), 3);
    for pair in creates.windows(2) {
        let waited = pair[1].at - pair[0].at;
        assert!(
            waited >= Duration::from_secs(60) && waited < Duration::from_secs(3600),
            "capped at a minute: {waited:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_that_outlasts_the_retries_is_reported_as_one() {
    let fake = FakeAssemblyAi::start().await;
    fake.fail(Call::Upload, (0..3).map(|_| Failure::rate_limited("2")));
    let err = client(&fake)
        .upload(Bytes::from_static(b"OggS"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AssemblyAiError::RateLimited {
            retry_after: Some(Duration::from_secs(2))
        }
    );
    assert_eq!(fake.count(Call::Upload), 3);
}

#[tokio::test]
async fn server_errors_are_retried_and_a_recovery_goes_unnoticed() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    fake.fail(Call::Poll, [Failure::status(500), Failure::status(503)]);
    let done = transcribe_with(&client(&fake), &ogg, LanguageRequest::Known(Lang::En))
        .await
        .unwrap();
    assert_eq!(done.text, ENGLISH);
}

#[tokio::test]
async fn server_errors_past_the_retries_mean_the_service_is_down() {
    let fake = FakeAssemblyAi::start().await;
    fake.fail(
        Call::Upload,
        [
            Failure::status(500),
            Failure::status(503),
            Failure::status(504),
        ],
    );
    let err = client(&fake)
        .upload(Bytes::from_static(b"OggS"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        AssemblyAiError::Unavailable {
            status: 504,
            message: "Gateway Timeout".into()
        }
    );
    assert_eq!(fake.count(Call::Upload), 3, "one attempt and two retries");
    assert!(VoiceError::from(err).reply() == Msg::VoiceServiceDown);
}

#[tokio::test(start_paused = true)]
async fn answers_slower_than_the_timeout_are_retried_then_reported_as_a_timeout() {
    let fake = FakeAssemblyAi::start().await;
    fake.fail(
        Call::Upload,
        (0..3).map(|_| Failure::Slow(Duration::from_secs(120))),
    );
    let err = client(&fake)
        .upload(Bytes::from_static(b"OggS"))
        .await
        .unwrap_err();
    assert_eq!(err, AssemblyAiError::Timeout(Duration::from_secs(5)));
    assert_eq!(fake.count(Call::Upload), 3);
}

#[tokio::test]
async fn a_transcript_with_status_error_carries_its_reason() {
    let fake = FakeAssemblyAi::start().await;
    fake.end_next_with_error("Audio duration is too short.");
    let err = transcribe_with(
        &client(&fake),
        &audio("voice-en.ogg"),
        LanguageRequest::Known(Lang::En),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        AssemblyAiError::TranscriptFailed {
            reason: "Audio duration is too short.".into()
        }
    );
}

#[tokio::test]
async fn a_completed_transcript_without_words_is_empty() {
    let fake = FakeAssemblyAi::start().await;
    fake.end_next_empty();
    let err = transcribe_with(
        &client(&fake),
        &audio("voice-en.ogg"),
        LanguageRequest::Known(Lang::En),
    )
    .await
    .unwrap_err();
    assert_eq!(err, AssemblyAiError::Empty);
}

#[tokio::test(start_paused = true)]
async fn a_transcript_that_never_completes_ends_at_the_deadline() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    fake.hold();
    let client = client(&fake).with_poll(PollPolicy {
        first: Duration::from_secs(1),
        max_interval: Duration::from_secs(3),
        deadline: Duration::from_secs(90),
    });
    let err = transcribe_with(&client, &ogg, LanguageRequest::Known(Lang::En))
        .await
        .unwrap_err();
    match err {
        AssemblyAiError::Deadline { status, waited, .. } => {
            assert_eq!(status, "processing");
            assert!(waited >= Duration::from_secs(90), "{waited:?}");
        }
        other => panic!("{other:?}"),
    }
    let polls = fake.count(Call::Poll);
    assert!(
        (30..=40).contains(&polls),
        "every 3 s once backed off: {polls}"
    );
}

#[tokio::test]
async fn language_detection_asks_among_the_interview_languages() {
    let fake = FakeAssemblyAi::start().await;
    let ogg = audio("voice-ru.ogg");
    fake.script(&ogg, Script::new(RUSSIAN, "ru"));
    let done = transcribe_with(
        &client(&fake),
        &ogg,
        LanguageRequest::Detect { fallback: Lang::En },
    )
    .await
    .unwrap();
    assert_eq!(done.language_code.as_deref(), Some("ru"));
    let create = &fake.creates()[0];
    assert_eq!(create["language_detection"], true);
    assert!(create.get("language_code").is_none());
    assert_eq!(
        create["language_detection_options"],
        serde_json::json!({"expected_languages": ["en", "ru"], "fallback_language": "en"})
    );
    assert_eq!(
        create["speech_models"],
        serde_json::json!(["universal-2"]),
        "only what every language's list allows: Russian may be what is heard"
    );
    assert_eq!(done.speech_model.as_deref(), Some("universal-2"));
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_respected() {
    let fake = FakeAssemblyAi::start().await;
    let mut settings = voice_settings(&fake, &[]).assemblyai;
    settings.base_url = format!("{}/proxy", fake.url).parse().unwrap();
    let client = AssemblyAiClient::new(&settings, SecretString::from(API_KEY.to_owned()))
        .with_retry(quick_retries(0));
    // The fake serves only /v2/..., so a prefix must reach /proxy/v2/upload: a 404 proves it.
    let err = client.upload(Bytes::from_static(b"x")).await.unwrap_err();
    assert!(
        matches!(err, AssemblyAiError::Configuration { status: 404, .. }),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The Transcriber end to end: probe, queue, ffmpeg, the client.

/// What the pipeline told its caller.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Queued(usize),
    Started,
    Submitted(Submission),
}

struct Recorder(mpsc::UnboundedSender<Event>);

impl VoiceEvents for Recorder {
    fn queued(&self, ahead: usize) {
        let _ = self.0.send(Event::Queued(ahead));
    }
    fn started(&self) {
        let _ = self.0.send(Event::Started);
    }
    fn submitted(&self, submission: &Submission) {
        let _ = self.0.send(Event::Submitted(submission.clone()));
    }
}

fn recorder() -> (Recorder, mpsc::UnboundedReceiver<Event>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Recorder(tx), rx)
}

fn drain(rx: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    events
}

/// A transcriber against the fake with quick retries and polls, its scratch files in `temp`.
async fn transcriber(
    fake: &FakeAssemblyAi,
    temp: &Path,
    vars: &[(&str, String)],
) -> (Transcriber, Vec<StartupWarning>) {
    let mut all = vec![("VOICE_TEMP_DIR", temp.display().to_string())];
    all.extend(vars.iter().cloned());
    let settings = voice_settings(fake, &all);
    let (transcriber, warnings) = Transcriber::from_settings(&settings).await;
    let client =
        AssemblyAiClient::new(&settings.assemblyai, SecretString::from(API_KEY.to_owned()))
            .with_retry(quick_retries(2))
            .with_poll(quick_poll());
    (transcriber.with_client(client), warnings)
}

fn note(name: &str, meta: AudioMeta) -> VoiceNote {
    VoiceNote {
        bytes: Bytes::from(audio(name)),
        meta,
    }
}

fn audio_file(name: &str, mime: &str, seconds: u64) -> AudioMeta {
    AudioMeta {
        kind: Some(AudioKind::Audio),
        declared_duration: Some(Duration::from_secs(seconds)),
        declared_size: None,
        mime_type: Some(mime.to_owned()),
        file_name: Some(name.to_owned()),
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[tokio::test]
async fn an_english_voice_note_goes_up_untouched_and_comes_back_as_a_transcript() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, warnings) = transcriber(&fake, temp.path(), &[]).await;
    assert!(warnings.is_empty(), "{warnings:?}");
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en").confidence(0.93));
    let (events, mut rx) = recorder();
    let transcript = transcriber
        .transcribe(
            note("voice-en.ogg", AudioMeta::voice(3, None)),
            Lang::En,
            &events,
        )
        .await
        .unwrap();
    assert_eq!(transcript.text, ENGLISH);
    assert_eq!(transcript.language, "en");
    assert_eq!(transcript.model.as_deref(), Some("assemblyai-stt-3-7"));
    assert!((transcript.duration.as_secs_f64() - 2.55).abs() < 0.1);
    assert!(!transcriber.needs_confirmation(&transcript));
    assert_eq!(
        drain(&mut rx),
        vec![
            Event::Started,
            Event::Submitted(Submission {
                id: transcript.id.clone(),
                duration: transcript.duration,
                lang: Lang::En,
            })
        ]
    );
    assert_eq!(
        fake.uploads()[0].bytes.as_ref(),
        ogg.as_slice(),
        "untouched"
    );
    assert_eq!(fake.creates()[0]["language_code"], "en");
    assert!(is_empty_dir(temp.path()), "no scratch files for OGG/Opus");
    let catalog = Catalog::load().unwrap();
    let echo = catalog.text(Lang::En, &transcript.echo(transcriber.quality_threshold()));
    assert!(echo.starts_with("🎤 I repair diesel engines"), "{echo}");
    assert!(echo.contains("🟢") && echo.contains("93%"), "{echo}");
}

#[tokio::test]
async fn a_russian_voice_note_in_a_russian_interview_is_transcribed_in_russian() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(&fake, temp.path(), &[]).await;
    let ogg = audio("voice-ru.ogg");
    fake.script(&ogg, Script::new(RUSSIAN, "ru").confidence(0.72));
    let transcript = transcriber
        .transcribe(
            note("voice-ru.ogg", AudioMeta::voice(3, None)),
            Lang::Ru,
            &(),
        )
        .await
        .unwrap();
    assert_eq!(fake.creates()[0]["language_code"], "ru");
    assert_eq!(transcript.text, RUSSIAN);
    assert_eq!(transcript.language, "ru");
    assert_eq!(
        transcript.model.as_deref(),
        Some("universal-2"),
        "the default Russian list names only the model that has Russian"
    );
    let catalog = Catalog::load().unwrap();
    let echo = catalog.text(Lang::Ru, &transcript.echo(transcriber.quality_threshold()));
    assert!(
        echo.contains(RUSSIAN) && echo.contains("🟡 В целом разборчиво (72%)"),
        "{echo}"
    );
}

#[tokio::test]
async fn a_doubtful_transcript_asks_the_user_before_it_is_used() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(&fake, temp.path(), &[]).await;
    fake.script(
        &audio("voice-en.ogg"),
        Script::new(ENGLISH, "en").confidence(0.41),
    );
    let transcript = transcriber
        .transcribe(
            note("voice-en.ogg", AudioMeta::voice(3, None)),
            Lang::En,
            &(),
        )
        .await
        .unwrap();
    assert!(transcriber.needs_confirmation(&transcript));
    let catalog = Catalog::load().unwrap();
    let echo = catalog.text(Lang::En, &transcript.echo(transcriber.quality_threshold()));
    assert!(echo.contains("🔴") && echo.contains("41%"), "{echo}");
    let ask = catalog.text(Lang::En, &Msg::VoiceLowConfidence { percent: 41 });
    assert!(ask.contains("41%"), "{ask}");
}

#[tokio::test]
async fn every_other_format_is_converted_to_16_khz_mono_flac_before_upload() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, warnings) = transcriber(&fake, temp.path(), &[]).await;
    assert!(
        warnings.is_empty(),
        "ffmpeg must be installed: {warnings:?}"
    );
    fake.default_script(Script::new(ENGLISH, "en"));
    let cases = [
        ("speech-en.mp3", "audio/mpeg", 2.61),
        ("speech-en.m4a", "audio/mp4", 2.54),
        ("speech-en.wav", "audio/x-wav", 0.8),
        ("speech-en.flac", "audio/flac", 0.6),
        ("speech-en.webm", "audio/webm", 2.55),
        ("video-note.mp4", "video/mp4", 1.0),
    ];
    for (i, (name, mime, seconds)) in cases.into_iter().enumerate() {
        let original = audio(name);
        let transcript = transcriber
            .transcribe(note(name, audio_file(name, mime, 3)), Lang::En, &())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(transcript.text, ENGLISH, "{name}");
        let uploaded = fake.uploads()[i].bytes.clone();
        assert_ne!(uploaded.as_ref(), original.as_slice(), "{name}");
        let info = probe(&uploaded, None, None, TEN_MINUTES).unwrap();
        assert_eq!(
            (info.container, info.codec, info.sample_rate, info.channels),
            (Container::Flac, Codec::Flac, Some(16_000), Some(1)),
            "{name}"
        );
        assert!(
            (info.duration.as_secs_f64() - seconds).abs() < 0.1,
            "{name}: {:?}",
            info.duration
        );
        assert!((transcript.duration.as_secs_f64() - seconds).abs() < 0.1);
        assert!(is_empty_dir(temp.path()), "{name}: scratch files left");
    }
}

#[tokio::test]
async fn without_ffmpeg_other_formats_get_their_own_refusal_and_voice_notes_still_work() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, warnings) = transcriber(
        &fake,
        temp.path(),
        &[("FFMPEG_PATH", "/nonexistent/bin/ffmpeg".to_owned())],
    )
    .await;
    assert!(
        matches!(&warnings[..], [StartupWarning::FfmpegMissing { reason }] if reason.contains("/nonexistent/bin/ffmpeg")),
        "{warnings:?}"
    );
    assert!(!transcriber.can_convert());
    let err = transcriber
        .transcribe(
            note("speech-en.mp3", audio_file("talk.mp3", "audio/mpeg", 3)),
            Lang::En,
            &(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        VoiceError::NeedsFfmpeg {
            container: Container::Mpeg
        }
    );
    assert_eq!(err.reply(), Msg::VoiceFormatUnavailable);
    assert!(fake.uploads().is_empty());
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    let transcript = transcriber
        .transcribe(
            note("voice-en.ogg", AudioMeta::voice(3, None)),
            Lang::En,
            &(),
        )
        .await
        .unwrap();
    assert_eq!(transcript.text, ENGLISH);
}

#[tokio::test]
async fn a_corrupt_file_is_refused_before_anything_is_uploaded() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(&fake, temp.path(), &[]).await;
    let err = transcriber
        .transcribe(
            note("corrupt.ogg", AudioMeta::voice(4, None)),
            Lang::En,
            &(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, VoiceError::Unreadable { .. }), "{err:?}");
    assert_eq!(err.reply(), Msg::VoiceUnreadable);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_recording_longer_than_allowed_is_refused_whatever_its_metadata_claimed() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(&fake, temp.path(), &[]).await;
    let meta = AudioMeta::voice(5, Some(17_218));
    transcriber.check_before_download(&meta).unwrap();
    let err = transcriber
        .transcribe(note("silence-11min.ogg", meta), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        VoiceError::TooLong {
            duration: Some(Duration::from_secs(5)),
            limit: TEN_MINUTES
        }
    );
    assert_eq!(
        err.reply(),
        Msg::VoiceTooLong {
            minutes: 10,
            seconds: 0
        }
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn files_over_the_size_limit_are_refused_before_and_after_download() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(
        &fake,
        temp.path(),
        &[("VOICE_MAX_FILE_SIZE_MB", "1".to_owned())],
    )
    .await;
    let declared = AudioMeta::voice(30, Some(3 << 20));
    assert_eq!(
        transcriber.check_before_download(&declared),
        Err(VoiceError::TooBig {
            size: 3 << 20,
            limit: 1 << 20
        })
    );
    // Declared small, delivered big.
    let mut bytes = audio("voice-en.ogg");
    bytes.resize(2 << 20, 0);
    let err = transcriber
        .transcribe(
            VoiceNote {
                bytes: Bytes::from(bytes),
                meta: AudioMeta::voice(3, Some(5000)),
            },
            Lang::En,
            &(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, VoiceError::TooBig { size, .. } if size == 2 << 20),
        "{err:?}"
    );
    assert_eq!(err.reply(), Msg::VoiceTooBig { limit_mb: 1 });
}

#[tokio::test]
async fn voice_turned_off_or_without_a_key_is_refused_with_its_own_reply() {
    let fake = FakeAssemblyAi::start().await;
    let settings = voice_settings(&fake, &[("VOICE_PROCESSING_ENABLED", "false".into())]);
    let (off, warnings) = Transcriber::from_settings(&settings).await;
    assert!(warnings.is_empty());
    let meta = AudioMeta::voice(3, None);
    assert_eq!(off.check_before_download(&meta), Err(VoiceError::Disabled));
    let err = off
        .transcribe(note("voice-en.ogg", meta.clone()), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(err.reply(), Msg::VoiceDisabled);

    let mut settings = voice_settings(&fake, &[]);
    settings.assemblyai.api_key = None;
    let (keyless, warnings) = Transcriber::from_settings(&settings).await;
    assert_eq!(warnings, vec![StartupWarning::NoApiKey]);
    assert_eq!(
        keyless.check_before_download(&meta),
        Err(VoiceError::NoApiKey)
    );
    let err = keyless
        .transcribe(note("voice-en.ogg", meta), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(err.reply(), Msg::VoiceNotConfigured);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn upstream_faults_reach_the_caller_as_their_replies() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(&fake, temp.path(), &[]).await;
    let voice = || note("voice-en.ogg", AudioMeta::voice(3, None));
    fake.script(&audio("voice-en.ogg"), Script::new(ENGLISH, "en"));

    fake.fail(Call::Upload, (0..3).map(|_| Failure::status(503)));
    let err = transcriber
        .transcribe(voice(), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(err.reply(), Msg::VoiceServiceDown);

    fake.fail(Call::Create, [Failure::status(401)]);
    let err = transcriber
        .transcribe(voice(), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(err.reply(), Msg::VoiceServiceMisconfigured);
    assert!(err.is_operator_fault());

    fake.end_next_with_error("File does not appear to contain audio.");
    let err = transcriber
        .transcribe(voice(), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(err.reply(), Msg::VoiceTranscriptionFailed);

    fake.end_next_empty();
    let err = transcriber
        .transcribe(voice(), Lang::En, &())
        .await
        .unwrap_err();
    assert_eq!(err.reply(), Msg::VoiceEmpty);
}

#[tokio::test]
async fn no_more_than_the_configured_number_of_notes_are_transcribed_at_once() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let (transcriber, _) = transcriber(&fake, temp.path(), &[]).await;
    let transcriber = Arc::new(transcriber);
    fake.default_script(Script::new(ENGLISH, "en"));
    fake.hold();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for user in 0..5 {
        let transcriber = transcriber.clone();
        let events = Recorder(tx.clone());
        // Five different recordings, as five users would send.
        let name = [
            "voice-en.ogg",
            "voice-ru.ogg",
            "speech-en.mp3",
            "speech-en.m4a",
            "voice-en.ogg",
        ][user];
        tasks.push(tokio::spawn(async move {
            transcriber
                .transcribe(note(name, AudioMeta::voice(3, None)), Lang::En, &events)
                .await
        }));
    }
    drop(tx);
    eventually("3 transcripts created", async || fake.created() >= 3).await;
    let mut queued = Vec::new();
    while queued.len() < 2 {
        if let Some(Event::Queued(ahead)) = rx.recv().await {
            queued.push(ahead);
        }
    }
    queued.sort();
    assert_eq!(
        queued,
        vec![0, 1],
        "two notes told they wait, one behind the other"
    );
    assert_eq!(transcriber.waiting(), 2);
    // The three running jobs cannot finish while held, so the queued two cannot have started.
    assert_eq!(fake.count(Call::Upload), 3);
    fake.release();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(fake.count(Call::Create), 5);
    assert_eq!(fake.max_active(), 3);
    assert_eq!(transcriber.waiting(), 0);
}

#[tokio::test]
async fn a_transcript_submitted_before_a_crash_is_finished_after_the_restart() {
    let fake = FakeAssemblyAi::start().await;
    let temp = tempfile::tempdir().unwrap();
    let ogg = audio("voice-en.ogg");
    fake.script(&ogg, Script::new(ENGLISH, "en"));
    fake.hold();
    let (before, _) = transcriber(&fake, temp.path(), &[]).await;
    let before = Arc::new(before);
    let (events, mut rx) = recorder();
    let running = tokio::spawn({
        let before = before.clone();
        async move {
            before
                .transcribe(
                    note("voice-en.ogg", AudioMeta::voice(3, None)),
                    Lang::En,
                    &events,
                )
                .await
        }
    });
    // What the chat worker persists with the session when it hears of the job.
    let submission = eventually("the job is submitted", async || match rx.try_recv() {
        Ok(Event::Submitted(submission)) => Some(submission),
        Ok(_) | Err(mpsc::error::TryRecvError::Empty) => None,
        Err(mpsc::error::TryRecvError::Disconnected) => panic!("the job ended unsubmitted"),
    })
    .await;
    // It survives being written and read back.
    let saved = serde_json::to_string(&submission).unwrap();
    let submission: Submission = serde_json::from_str(&saved).unwrap();
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    drop(before);

    let (after, _) = transcriber(&fake, temp.path(), &[]).await;
    fake.release();
    let transcript = after.resume(&submission, &()).await.unwrap();
    assert_eq!(transcript.text, ENGLISH);
    assert_eq!(transcript.id, submission.id);
    assert_eq!(transcript.duration, submission.duration);
    assert_eq!(fake.count(Call::Upload), 1, "not uploaded twice");
    assert_eq!(fake.count(Call::Create), 1, "not transcribed twice");
}

// ---------------------------------------------------------------------------------------------
// ffmpeg on its own.

#[tokio::test]
async fn ffmpeg_is_found_once_at_start_up_or_reported_missing() {
    assert!(matches!(
        check_ffmpeg(Path::new("ffmpeg")).await,
        FfmpegStatus::Available { version } if version.starts_with("ffmpeg version")
    ));
    assert!(matches!(
        check_ffmpeg(Path::new("/nonexistent/ffmpeg")).await,
        FfmpegStatus::Missing { .. }
    ));
}

/// A stand-in for ffmpeg: a shell script written to `dir`.
fn fake_ffmpeg(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("ffmpeg");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn transcoder(program: PathBuf, timeout: Duration, temp: &Path) -> Transcoder {
    let status = FfmpegStatus::Available {
        version: "test".into(),
    };
    Transcoder::new(program, timeout, temp.to_owned(), &status)
}

#[tokio::test]
async fn scratch_files_are_private_and_removed_when_ffmpeg_fails() {
    let bin = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let report = bin.path().join("report");
    // Reports the modes of the scratch directory, the input and the output, then fails.
    let program = fake_ffmpeg(
        bin.path(),
        &format!(
            r#"while [ $# -gt 0 ]; do [ "$1" = "-i" ] && input="$2"; out="$1"; shift; done
stat -c '%a' "$(dirname "$input")" "$input" "$out" > '{}'
echo "Invalid data found when processing input" >&2
exit 1"#,
            report.display()
        ),
    );
    let err = transcoder(program, Duration::from_secs(30), temp.path())
        .to_speech_flac(
            Bytes::from(audio("speech-en.mp3")),
            Container::Mpeg,
            TEN_MINUTES,
        )
        .await
        .unwrap_err();
    match err {
        TranscodeError::Failed { stderr, .. } => {
            assert_eq!(stderr, "Invalid data found when processing input");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&report).unwrap(), "700\n600\n600\n");
    assert!(is_empty_dir(temp.path()));
}

#[tokio::test]
async fn ffmpeg_running_past_its_time_limit_is_killed_and_its_files_removed() {
    let bin = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let pid_file = bin.path().join("pid");
    let program = fake_ffmpeg(
        bin.path(),
        &format!("echo $$ > '{}'\nexec sleep 600", pid_file.display()),
    );
    let err = transcoder(program, Duration::from_secs(1), temp.path())
        .to_speech_flac(
            Bytes::from(audio("speech-en.mp3")),
            Container::Mpeg,
            TEN_MINUTES,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, TranscodeError::Timeout(t) if t == Duration::from_secs(1)),
        "{err:?}"
    );
    assert!(is_empty_dir(temp.path()));
    // Killed and reaped: the process is gone.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert!(
        !Path::new(&format!("/proc/{}", pid.trim())).exists(),
        "ffmpeg still running"
    );
}

#[tokio::test]
async fn a_conversion_is_refused_without_ffmpeg_and_leaves_nothing_behind() {
    let temp = tempfile::tempdir().unwrap();
    let missing = FfmpegStatus::Missing {
        reason: "not installed".into(),
    };
    let transcoder = Transcoder::new(
        "ffmpeg".into(),
        Duration::from_secs(30),
        temp.path().to_owned(),
        &missing,
    );
    assert!(matches!(
        transcoder
            .to_speech_flac(
                Bytes::from(audio("speech-en.mp3")),
                Container::Mpeg,
                TEN_MINUTES
            )
            .await,
        Err(TranscodeError::Missing)
    ));
    assert!(is_empty_dir(temp.path()));
}
