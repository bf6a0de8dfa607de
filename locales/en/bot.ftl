## Telegram bot text: setup flow, buttons, commands and notices.

welcome = Hello, { $name }! I interview experts and turn what they know into a written knowledge report. First, which language shall we use?
choose-language = Which language shall we use?
language-chosen = Language: English ✓
language-changed = Done: I'll speak English from now on.
choose-style = Choose your interviewer. Each covers the same nine stages, in its own manner:
style-chosen = Interviewer: { $style } ✓
briefing =
    Here is how it works.

    • The interview has nine stages, from getting to know you to what you'd pass on, and takes about 90–120 minutes. You can take breaks: your answers are saved after every message, and you can come back any time.
    • Answer in your own words, as long or as short as you like. Concrete stories and examples are the most valuable.
    • Voice notes are welcome, in English or Russian: talk as you would to a colleague. I show you what I heard before we go on.
    • /status shows where we are; /complete wraps up early; /help lists all commands.

    At the end you get a written knowledge report.
consent-notice =
    Before we begin: the operators of this bot read your interview and its report. Your messages are processed by Anthropic (Claude) to conduct the interview{ $voice ->
        [yes] {""}, and your voice notes by AssemblyAI to transcribe them
       *[no] {""}
    }. { $days ->
        [0] Your interview is kept until you delete it.
       *[other] A finished interview is kept for { $days } days.
    } /delete erases everything of yours at any time, here and on the operators' desk.

    By pressing Begin you agree to this.
welcome-study = Hello, { $name }! You are invited to the study “{ $title }”: I interview several experts on one subject and turn what they know into a written knowledge report.
invite-invalid = This invite link is closed or not valid, so you are not joining a study. You are welcome to take an interview of your own.
consent-study = In this study, your report also goes into a synthesis across its experts: the operators read it with your words quoted; other experts never see them.
button-begin = 🚀 Begin
button-english = 🇬🇧 English
button-russian = 🇷🇺 Русский
button-resume = ▶️ Resume
button-start-over = 🔄 Start over
button-reset-confirm = ✅ Yes, archive it
button-delete-confirm = 🗑 Delete everything
button-cancel = ❌ Cancel
stage-header = Stage { $number }/{ $total } · { $stage }
in-progress = You have an interview in progress: stage “{ $stage }”, { $answers } answers so far. Resume it, or start over? Starting over archives the current interview; nothing is deleted.
choose-with-buttons = Please choose with the buttons above.
send-start = Send /start to begin an interview.
stale-button = This button is no longer active.
cancelled = Cancelled.
reset-confirm = Archive this interview and start a new one? Nothing is deleted: the current interview is kept in the archive.
reset-done = The interview is archived. Let's set up a new one.
delete-confirm = This erases everything stored about you: the interview in progress, archived and finished interviews, reports and settings. It cannot be undone. Delete everything?
delete-done = Done: everything stored about you has been erased. Send /start if you ever want to begin again.
export-transcript = Your interview, as Markdown and as JSON (with the knowledge report once it is written).
report-caption = Your knowledge report
report-revised-caption = Your knowledge report, revised
button-report-confirm = ✅ Confirm
button-report-correct = ✏️ Correct
report-correct-ask = What should be corrected? Write it in one message, for example: “the second step is wrong: we do X first”. I'll revise the report once.
report-correct-typed = Please type the correction as a message: the report is revised from what you write.
report-on-its-way = Your report of the last interview is still being written and will arrive here. You can start a new interview once it has.
unknown-command = I don't know that command. /help lists what I can do.
help =
    I conduct a structured interview about your expertise and write it up as a knowledge report.

    /start: begin or resume an interview
    /status: the current stage, progress and time against the plan
    /complete: finish early and go to the wrap-up
    /reset: archive this interview and start a new one
    /language: switch between English and Russian
    /export: the transcript as Markdown and JSON, with the report after the end
    /delete: erase everything stored about you
    /help: this message

    You can answer by text or by voice note: I transcribe voice notes and show you what I heard.
not-allowed = Sorry, this bot is private: interviews are by invitation only.
rate-limited = I have your answer. We are moving faster than I can keep up with, so I'll answer it in about { $seconds } seconds; anything you add meanwhile joins it.
private-only = I run interviews one-to-one. Please message me in a private chat: open my profile and press Start.
unsupported-message = I can only read text and voice notes. Please type your answer, or send it as a voice note.
voice-transcript =
    🎤 { $text }

    { $level ->
        [high] 🟢 Heard clearly ({ $percent }%)
        [fair] 🟡 Mostly clear ({ $percent }%)
       *[low] 🔴 Hard to make out ({ $percent }%)
    }
voice-low-confidence = I'm not sure I heard everything right (confidence { $percent }%). Shall I take the transcript above as your answer, or would you rather send the voice note again or type your answer?
button-voice-use = ✅ Use it
button-voice-retry = 🔁 Send again or type
voice-used = ✅ Taken as your answer.
voice-set-aside = OK, I've set that transcript aside. Send the voice note again, or type your answer.
voice-download-failed = I couldn't fetch your voice note from Telegram. Please send it again, or type your answer.
voice-queued = 🎧 Your voice note is in the queue: a few others are being transcribed right now. I'll get to it shortly.
voice-disabled = Voice notes are turned off on this bot. Please type your answer.
voice-not-configured = I can't transcribe voice notes yet: speech recognition isn't set up on this bot. Please type your answer.
voice-too-big = That file is too big: I can take recordings of up to { $limit_mb } MB. Please send a shorter one, or type your answer.
voice-too-long = That recording is too long: I can take up to { $seconds ->
        [0] { $minutes } min
       *[other] { $minutes } min { $seconds } s
    } per note. Please split it into shorter notes, or type your answer.
voice-unreadable = I couldn't read that recording: the file seems damaged or isn't audio. Please record it again, or type your answer.
voice-format-unavailable = I can't convert this audio format at the moment. Please send it as a Telegram voice note (hold the microphone button), or type your answer.
voice-service-misconfigured = Voice transcription is misconfigured on my side; the operator can see why in the logs. Please type your answer for now.
voice-service-down = The speech recognition service isn't responding right now. Please try again in a few minutes, or type your answer.
voice-transcription-failed = The speech recognition service couldn't transcribe that recording. Please send it again, or type your answer.
voice-empty = I couldn't hear any speech in that recording. Please try again a little closer to the microphone, or type your answer.
cmd-start = Begin or resume an interview
cmd-status = Progress and time against the plan
cmd-complete = Finish early: go to the wrap-up
cmd-reset = Archive this interview and start anew
cmd-language = Switch language
cmd-export = Transcript and report (Markdown, JSON)
cmd-delete = Erase everything stored about me
cmd-help = What I can do

## /metrics, for operators. Figures read "today / all time"; numbers arrive formatted.
metrics-title = 📊 ai-interviewer { $version }, up { $uptime }
metrics-legend = Figures: today (UTC) / all time.
metrics-interviews = Interviews: { $active } in progress · started { $started_today } / { $started_all } · completed { $completed_today } / { $completed_all } ({ $rate } of those started) · abandoned { $abandoned_today } / { $abandoned_all }
metrics-answers = Answers: text { $text_today } / { $text_all } · voice { $voice_today } / { $voice_all }
metrics-claude = Claude calls: { $calls_today } / { $calls_all } · successful { $success_today } / { $success_all }
metrics-latency = Claude latency over the last { $calls } calls: p50 { $p50 } s · p95 { $p95 } s
metrics-latency-none = Claude latency: no calls yet
metrics-fallbacks = Offline questions instead of Claude: upstream down { $upstream_today } / { $upstream_all } · unusable turn { $unusable_today } / { $unusable_all } · configuration error { $configuration_today } / { $configuration_all } · declined by Claude { $refusal_today } / { $refusal_all }
metrics-tokens =
    { $period ->
        [today] Tokens today
       *[all] Tokens, all time
    }: in { $input } · out { $output } · cache written { $cache_write } · cache read { $cache_read }
metrics-cost = Estimated Claude cost: { $today } today · { $all } all time · { $per_interview } per completed interview
metrics-transcriptions = Voice notes transcribed: { $done_today } / { $done_all } · failed { $failed_today } / { $failed_all } · { $audio_minutes } min of audio all time
metrics-transcription-failure =
    • { $kind ->
        [download] not downloaded from Telegram
        [rejected] refused (too long, too large or not audio)
        [upstream] transcription service failed
        [timeout] timed out
       *[empty] no speech found
    }: { $today } / { $all }
metrics-errors-none = Errors: none
metrics-errors = Errors:
metrics-error =
    • { $kind ->
        [polling] Telegram polling
        [delivery] messages not delivered
        [storage] storage
        [quarantine] unreadable files set aside
       *[internal] internal
    }: { $today } / { $all }
metrics-purged = Old files purged (SESSION_RETENTION_DAYS): { $today } / { $all }
metrics-polled = Last successful Telegram poll: { $ago } ago
metrics-polled-never = Last successful Telegram poll: none recorded
metrics-memory = Memory (RSS): { $megabytes } MB
metrics-memory-unknown = Memory: not reported on this platform
metrics-alarms = ⚠️ Needs attention
alarm-configuration = Turns sent to the offline bank today because Claude refused the request (configuration error): { $count }. Check ANTHROPIC_API_KEY and CLAUDE_MODEL, then the log.
alarm-upstream = Turns sent to the offline bank today because Claude was unreachable or overloaded: { $count }.
alarm-refusal = Turns sent to the offline bank today because Claude declined to answer (a refusal by its safety classifier): { $count }. The expert got an offline question instead. If it keeps happening, read those interviews, or choose another CLAUDE_MODEL.
alarm-unusable = Turns sent to the offline bank today because Claude's turn was unusable (cut off or malformed): { $count }. If it keeps happening, raise CLAUDE_MAX_TOKENS.
alarm-storage = Storage errors today: { $count }. Check free space and permissions of SESSIONS_DIR.
alarm-delivery = Messages not delivered to Telegram today: { $count }.
alarm-internal = Internal errors today: { $count }. See the log.
alarm-quarantine = Unreadable files set aside in quarantine/ today: { $count }.
alarm-transcription = Voice notes not transcribed today: { $failed } of { $total }.
alarm-unpriced = No price is known for model { $model }: its tokens are left out of the cost.
alarm-polling = No successful Telegram poll for { $ago }.
unit-days = { $n } d
unit-hours = { $n } h
unit-minutes = { $n } min
unit-seconds = { $n } s
