## Interview text shared by every front end: stages, personalities, replies to bad input,
## status, report and console.

stage-name = { $stage ->
    [greeting] Greeting
    [profiling] Profile
    [essence] The essence of the work
    [operations] How the work gets done
    [expertise_map] Expertise map
    [failure_modes] Failure modes
    [mastery] Mastery
    [growth_path] Growth path
   *[wrap_up] Wrap-up
}

style-name = { $style ->
    [master_interviewer] Master interviewer
    [telegram_optimized] Short and mobile
    [conversational_balance] Conversational
    [stage_specific] Deep dive
   *[conversation_management] Steady guide
}

style-description = { $style ->
    [master_interviewer] Systematic and thorough: covers everything, step by step.
    [telegram_optimized] Short messages, one quick question at a time: made for a phone.
    [conversational_balance] A natural conversation that still covers every stage.
    [stage_specific] Goes deep into each stage before moving on.
   *[conversation_management] Patient and steady: keeps things on track if you drift or get tired.
}

answer-empty = Your message looks empty. Please type your answer: even a few words help.
answer-too-long = That message is { $length } characters long; the limit is { $limit }. Please send it in shorter parts.
session-quarantined = Your previous session file could not be read, so it was set aside safely and a new interview begins.
internal-error = Something went wrong on our side. Your answers so far are saved; please try again in a moment.
interview-complete = That's the end of the interview. Thank you for sharing your expertise! Your knowledge report is being written and will follow shortly.
idle-prompt = Welcome back! Your interview paused { $minutes } minutes ago at the stage “{ $stage }”. Would you like to resume where you left off, or start over?
resumed = Let's continue with the stage “{ $stage }”. Here is where we stopped:
no-interview = There is no interview in progress.

status-header = Stage { $number } of { $total }: { $stage }
status-style = Interviewer: { $style }
status-stage = { $stage }: { $completeness }% · { $minutes } of { $budget } min
status-totals = Time: { $minutes } of about { $planned } min · answers: { $answers } · insights: { $insights }

report-title = Knowledge report
report-meta = Interview of { $date }: { $minutes ->
        [one] one minute
       *[other] { $minutes } minutes
    }, { $answers ->
        [one] one answer
       *[other] { $answers } answers
    }.
report-summary = Summary
report-insights = Key insights
report-in-words = In the expert's words
report-findings = Findings
report-section = { $section ->
    [profile] The expert's profile
    [essence] The essence of the role
    [task_diagram] The task diagram
    [expertise_map] Expertise map: what to learn, in what order
    [incidents] Cues, strategies and typical errors
    [failure_modes] Failure modes and how to prevent them
    [mastery] Mastery
    [growth_path] Growth path
   *[quotes] Memorable quotes
}
report-column = { $column ->
    [situation] Situation
    [cues] Cues
    [strategy] Strategy
    [typical_error] Typical error
   *[source] Source
}
report-too-little = Too little material: the interview did not cover this, so nothing is written here.
report-hard = hard
report-from-correction = the expert's correction
report-references = In brackets after each finding: the stage and the time (UTC) of the answer it rests on, with the expert's own words where they fit.
report-revised-note = Revised after the expert's correction of { $date }.
report-correction = The expert's correction
report-correction-unapplied = The report could not be revised automatically, so the correction is attached as written.
report-offline-note = This report was put together without the language model, which was unavailable. It holds the expert's answers in their own words, arranged by topic under the sections of the full report: nothing in it is analysed or summarised.
report-ready = 📄 Your knowledge report is ready.
report-ready-offline = 📄 Your knowledge report is ready. The language model that writes it was unavailable, so it holds your answers in your own words, arranged by topic, without analysis.
report-thin = Too little material for: { $sections }.
report-check = Please read it and check that it says what you meant. Confirm it, or tell me what to correct: I'll revise it once.
report-revised = 📄 Here is the revised report, with your correction worked in. This version is the one kept.
report-correction-kept = 📄 The report could not be reworked automatically, so your correction is attached to it as you wrote it. This version is the one kept.
report-confirmed = ✅ Thank you for checking it! The report is confirmed and saved.
report-delayed = The language model that writes the report is unavailable right now. Your interview is saved, and the report will follow as soon as it can be written, within a day at the latest.
report-revision-delayed = Your correction is saved. The language model is unavailable right now, so the revised report will follow as soon as it can be written, within a day at the latest.
transcript-title = Interview transcript
speaker-interviewer = Interviewer
speaker-expert = Expert

console-offline = No ANTHROPIC_API_KEY set: the interview runs on the offline question bank. Its questions are the same for every personality; --style changes how each stage opens and how your answers are followed up.
console-help =
    Type your answer and press Enter. The arrow keys, Home and End, Ctrl-A and Ctrl-E move along the line; Up and Down bring back earlier lines.
    A pasted block of several lines is one answer. To type an answer of several lines by hand, put a line of three quotes """ before it and another one after it.
    Commands:
      /help      this help
      /skip      skip the question (the report marks it as not covered)
      /status    where the interview stands
      /complete  finish early: the closing question, then the report
      /reset     archive this interview and start a new one (asks first)
      /quit      leave; the interview is saved (Ctrl-D and Ctrl-C do the same)
    Any other line that starts with / is refused as an unknown command and is not taken as an answer: to answer with something that starts with /, put it between two """ lines.
console-resume-choice = Type r (п) to resume, or s (з) to start over:
console-reset = The previous interview was archived. A new one begins.
console-report-saved = The report is saved in { $path }
console-review-prompt = Type y (д) to confirm the report, or type what should be corrected:
console-report-delayed = The report will be written as soon as the language model is available again: run the same command later to get it (after a day it is made without the model).
console-bye = Your interview is saved. Run the same command to continue. Goodbye!

## Console: commands, confirmations and answers of several lines.
console-intro = Type your answers and press Enter. /help explains the commands (/skip, /status, /complete, /reset, /quit) and how to write an answer of several lines.
console-unknown-command = Unknown command: { $command }. It was not taken as an answer. The commands are /help, /skip, /status, /complete, /reset and /quit.
console-skipped = Question skipped.
console-skip-stand-in = (I'd rather skip this question.)
console-reset-confirm = Archive this interview and start a new one? Type y (д) for yes or n (н) for no:
console-reset-kept = Nothing was archived: the interview goes on.
console-yes-or-no = Please type y (д) or n (н).
console-block-open = An answer of several lines: type as many lines as you need, then a line of three quotes """ to send it.
console-review-correction = Type what should be corrected (a pasted block, or several lines between two """ lines, is one correction):

## The offline report: the expert's answers arranged under the full report's sections.

report-label = { $label ->
    [task] The task
    [steps] The steps
    [hard] The hardest steps
    [watch] What they watch for
    [tools] Tools they rely on
    [order] In this order
   *[areas] The areas
}
report-not-covered = Not covered: { $gaps }.
report-stage-skipped = { $stage } (the interview ended before this stage)
report-unanswered = { $stage } ({ $count ->
    [one] one question
   *[other] { $count } questions
} not answered)
report-corrected-here = Corrected by the expert ({ $at })
report-offline-references = In brackets after each item: the stage and the time (UTC) of the answer it is taken from.
